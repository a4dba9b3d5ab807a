/**
 * Two BIRD 2 daemons in network namespaces this helper creates (`hbgp-c`, `hbgp-d`, one veth
 * link, an IPv4 and an IPv6 eBGP session): vpnham drives C through its include file and birdc;
 * tests read D's tables. `error wait time 1, 3` keeps BIRD from waiting a minute after a failed
 * session start (integrations notes). `teardown()` removes everything.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseBirdRoutes } from "../../src/announce/bird.ts";
import { findTool } from "../ops/support.ts";
import { createNetns, destroyNetnsSync, execInNetns, hasCommand, netnsMissing, run } from "../support/netns.ts";

// The pid in the names: two suites on one machine must not share (and tear down) namespaces.
export const NS_C = `hbgp-c${process.pid}`;
export const NS_D = `hbgp-d${process.pid}`;

export function birdUnavailable(): string | undefined {
  return netnsMissing(
    [hasCommand("bird"), "bird is missing (apt-get install bird2)"],
    [findTool("birdc") !== undefined, "birdc is missing (apt-get install bird2)"], // birdc has no --version
  );
}

/** One BGP session of bird.conf, with short timers (the ExaBGP live test's peer uses it too). */
export const birdSession = (name: string, local: string, localAs: number, peer: string, peerAs: number, family: 4 | 6, channel: string) => `
protocol bgp ${name} {
  local ${local} as ${localAs};
  neighbor ${peer} as ${peerAs};
  error wait time 1, 3;
  connect retry time 1;
  hold time 9;
  keepalive time 3;
  ipv${family} { ${channel} };
}
`;

export interface BirdPair {
  readonly dir: string;
  /** vpnham's include file (C's bird.conf includes it). */
  readonly includeFile: string;
  readonly socketC: string;
  /** D's routes of one family. */
  ribD(family: 4 | 6): Promise<string[]>;
  birdcC(...args: string[]): Promise<string>;
  teardown(): void;
}

/** C announces `own` from a static protocol of its own (outside vpnham's allow-list). */
export async function startBirdPair(own: string): Promise<BirdPair> {
  const destroy = () => [NS_C, NS_D].forEach(destroyNetnsSync);
  destroy();
  const dir = mkdtempSync(join(tmpdir(), "hbgp-bird-"));
  const teardown = () => {
    destroy();
    rmSync(dir, { recursive: true, force: true });
  };
  const includeFile = join(dir, "vpnham-announce.conf");
  try {
    await createNetns(
      [NS_C, NS_D],
      [{ a: { ns: NS_C, dev: "hbgpc0", addrs: ["10.215.0.1/30", "fd00:215::1/64"] }, b: { ns: NS_D, dev: "hbgpd0", addrs: ["10.215.0.2/30", "fd00:215::2/64"] } }],
    );
    // Empty at first: vpnham creates its protocols on its first run.
    writeFileSync(includeFile, "");
    const c = `router id 10.215.0.1;
protocol device {}
include "${includeFile}";
protocol static own4 { ipv4; route ${own} blackhole; }
${birdSession("peer_d", "10.215.0.1", 65001, "10.215.0.2", 65002, 4, 'import none; export where proto = "vpnham4" || proto = "own4";')}
${birdSession("peer_d6", "fd00:215::1", 65001, "fd00:215::2", 65002, 6, 'import none; export where proto = "vpnham6";')}`;
    const d = `router id 10.215.0.2;
protocol device {}
${birdSession("peer_c", "10.215.0.2", 65002, "10.215.0.1", 65001, 4, "import all; export none;")}
${birdSession("peer_c6", "fd00:215::2", 65002, "fd00:215::1", 65001, 6, "import all; export none;")}`;
    for (const [ns, name, text] of [
      [NS_C, "c", c],
      [NS_D, "d", d],
    ] as const) {
      writeFileSync(join(dir, `${name}.conf`), text);
      await execInNetns(ns, ["bird", "-c", join(dir, `${name}.conf`), "-s", join(dir, `${name}.ctl`), "-P", join(dir, `${name}.pid`)]);
    }
  } catch (error) {
    teardown();
    throw error;
  }
  return {
    dir,
    includeFile,
    socketC: join(dir, "c.ctl"),
    async ribD(family) {
      return parseBirdRoutes(await run("birdc", ["-s", join(dir, "d.ctl"), "show", "route", "table", `master${family}`]), family);
    },
    birdcC: (...args) => run("birdc", ["-s", join(dir, "c.ctl"), ...args]),
    teardown,
  };
}
