/**
 * Two BIRD 2 daemons in network namespaces this helper creates (`hbgp-c`, `hbgp-d`, one veth
 * link, an IPv4 and an IPv6 eBGP session): vpnham drives C through its include file and birdc;
 * tests read D's tables. `error wait time 1, 3` keeps BIRD from waiting a minute after a failed
 * session start (integrations notes). `teardown()` removes everything.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseBirdRoutes } from "../../src/announce/bird.ts";
import { run } from "./frr-netns.ts";

export const NS_C = "hbgp-c";
export const NS_D = "hbgp-d";

export function birdUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "not root (network namespaces need root)";
  for (const [cmd, args] of [["bird", ["--version"]], ["ip", ["-V"]]] as const) {
    try {
      execFileSync(cmd, [...args], { stdio: "ignore" });
    } catch {
      return `${cmd} is missing (apt-get install ${cmd === "ip" ? "iproute2" : "bird2"})`;
    }
  }
  // birdc has no --version: look for it on PATH.
  const path = (process.env.PATH ?? "").split(":").concat("/usr/sbin");
  if (!path.some((dir) => dir !== "" && existsSync(`${dir}/birdc`))) return "birdc is missing (apt-get install bird2)";
  return undefined;
}

const session = (name: string, local: string, localAs: number, peer: string, peerAs: number, family: 4 | 6, channel: string) => `
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

function destroy(): void {
  for (const ns of [NS_C, NS_D]) {
    try {
      const pids = execFileSync("ip", ["netns", "pids", ns], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).split(/\s+/).filter(Boolean).map(Number);
      for (const pid of pids) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          /* gone */
        }
      }
    } catch {
      /* no such namespace */
    }
    try {
      execFileSync("ip", ["netns", "del", ns], { stdio: "ignore" });
    } catch {
      /* gone */
    }
  }
}

/** C announces `own` from a static protocol of its own (outside vpnham's allow-list). */
export async function startBirdPair(own: string): Promise<BirdPair> {
  destroy();
  const dir = mkdtempSync(join(tmpdir(), "hbgp-bird-"));
  const teardown = () => {
    destroy();
    rmSync(dir, { recursive: true, force: true });
  };
  const includeFile = join(dir, "vpnham-announce.conf");
  try {
    await run("ip", ["netns", "add", NS_C]);
    await run("ip", ["netns", "add", NS_D]);
    await run("ip", ["link", "add", "hbgpc0", "netns", NS_C, "type", "veth", "peer", "name", "hbgpd0", "netns", NS_D]);
    for (const [ns, dev, v4, v6] of [
      [NS_C, "hbgpc0", "10.215.0.1/30", "fd00:215::1/64"],
      [NS_D, "hbgpd0", "10.215.0.2/30", "fd00:215::2/64"],
    ] as const) {
      await run("ip", ["-n", ns, "addr", "add", v4, "dev", dev]);
      await run("ip", ["-n", ns, "addr", "add", v6, "dev", dev, "nodad"]);
      await run("ip", ["-n", ns, "link", "set", dev, "up"]);
      await run("ip", ["-n", ns, "link", "set", "lo", "up"]);
    }
    // Empty at first: vpnham creates its protocols on its first run.
    writeFileSync(includeFile, "");
    const c = `router id 10.215.0.1;
protocol device {}
include "${includeFile}";
protocol static own4 { ipv4; route ${own} blackhole; }
${session("peer_d", "10.215.0.1", 65001, "10.215.0.2", 65002, 4, 'import none; export where proto = "vpnham4" || proto = "own4";')}
${session("peer_d6", "fd00:215::1", 65001, "fd00:215::2", 65002, 6, 'import none; export where proto = "vpnham6";')}`;
    const d = `router id 10.215.0.2;
protocol device {}
${session("peer_c", "10.215.0.2", 65002, "10.215.0.1", 65001, 4, "import all; export none;")}
${session("peer_c6", "fd00:215::2", 65002, "fd00:215::1", 65001, 6, "import all; export none;")}`;
    for (const [ns, name, text] of [
      [NS_C, "c", c],
      [NS_D, "d", d],
    ] as const) {
      writeFileSync(join(dir, `${name}.conf`), text);
      await run("ip", ["netns", "exec", ns, "bird", "-c", join(dir, `${name}.conf`), "-s", join(dir, `${name}.ctl`), "-P", join(dir, `${name}.pid`)]);
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
      const { stdout } = await run("birdc", ["-s", join(dir, "d.ctl"), "show", "route", "table", `master${family}`]);
      return parseBirdRoutes(stdout, family);
    },
    birdcC: async (...args) => (await run("birdc", ["-s", join(dir, "c.ctl"), ...args])).stdout,
    teardown,
  };
}
