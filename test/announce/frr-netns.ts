/**
 * Two FRR instances in network namespaces this helper creates (`hbgp-a`, `hbgp-b`, one veth
 * link, an eBGP session carrying IPv4 and IPv6): vpnham drives A through `vtysh -N hbgp-a`, tests
 * read B's RIB. Each instance has its own FRR pathspace (`-N`), so its pid files and vty sockets
 * live in /var/run/frr/<namespace>/ and vtysh reaches it with `-N`. Everything is removed by
 * `teardown()`, leftovers of a dead run at the next setup.
 */
import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNetns, destroyNetnsSync, execInNetns, hasCommand, netnsMissing, run, stopPidFile } from "../support/netns.ts";

// The pid in the names: two suites on one machine must not share (and tear down) namespaces.
export const NS_A = `hbgp-a${process.pid}`;
export const NS_B = `hbgp-b${process.pid}`;
const frrBin = "/usr/lib/frr";

/** Why this cannot run here, or undefined. */
export function frrUnavailable(): string | undefined {
  return netnsMissing(
    ...[`${frrBin}/zebra`, `${frrBin}/bgpd`].map((file) => [existsSync(file), `${file} is missing (apt-get install frr)`] as const),
    [hasCommand("vtysh", ["--help"]), "vtysh is missing (apt-get install frr)"],
    [hasCommand("id", ["frr"]), "no frr user (FRR's package creates it)"],
  );
}

const config = (name: string, asn: number, self: string, peer: string, peerAsn: number, extra: string) => `frr defaults traditional
hostname ${name}
!
router bgp ${asn}
 bgp router-id ${self}
 bgp graceful-restart-disable
 no bgp ebgp-requires-policy
 no bgp network import-check
 neighbor ${peer} remote-as ${peerAsn}
 neighbor ${peer} timers 3 9
 neighbor ${peer} timers connect 1
 neighbor ${peer} advertisement-interval 0
 !
 address-family ipv4 unicast
${extra} exit-address-family
 !
 address-family ipv6 unicast
  neighbor ${peer} activate
 exit-address-family
exit
!
route-map BGP1 permit 10
 set as-path prepend ${asn} ${asn}
exit
!
`;

export interface FrrPair {
  readonly dir: string;
  /** Stops A's bgpd (B drops the session, graceful restart is off); `startBgpdA` starts it again, without the runtime `network` lines. */
  stopBgpdA(): Promise<void>;
  startBgpdA(): Promise<void>;
  /** B's routes of one family: prefix → AS path. */
  ribB(family: 4 | 6): Promise<Map<string, string>>;
  runningConfigA(): Promise<string>;
  teardown(): void;
}

async function startDaemon(ns: string, daemon: "zebra" | "bgpd", conf: string): Promise<void> {
  await execInNetns(ns, [`${frrBin}/${daemon}`, "-d", "-N", ns, "-f", conf, "-A", "127.0.0.1", "-P", "0"]);
}

/** A with `network` lines of its own (`unmanaged`, outside vpnham's allow-list), B plain; resolves once B has A's routes. */
export async function startFrrPair(unmanaged: readonly string[]): Promise<FrrPair> {
  const destroy = () => {
    for (const ns of [NS_A, NS_B]) {
      destroyNetnsSync(ns);
      rmSync(`/var/run/frr/${ns}`, { recursive: true, force: true });
    }
  };
  destroy();
  const dir = mkdtempSync(join(tmpdir(), "hbgp-frr-"));
  const teardown = () => {
    destroy();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await createNetns(
      [NS_A, NS_B],
      [{ a: { ns: NS_A, dev: "hbgpa0", addrs: ["10.213.0.1/30", "fd00:213::1/64"] }, b: { ns: NS_B, dev: "hbgpb0", addrs: ["10.213.0.2/30", "fd00:213::2/64"] } }],
    );
    const frrUid = Number(execFileSync("id", ["-u", "frr"], { encoding: "utf8" }).trim());
    const frrGid = Number(execFileSync("id", ["-g", "frr"], { encoding: "utf8" }).trim());
    const confs = {
      [NS_A]: config(NS_A, 65001, "10.213.0.1", "10.213.0.2", 65002, unmanaged.map((p) => `  network ${p}\n`).join("")),
      [NS_B]: config(NS_B, 65002, "10.213.0.2", "10.213.0.1", 65001, ""),
    };
    chownSync(dir, frrUid, frrGid);
    for (const [ns, text] of Object.entries(confs)) {
      const conf = join(dir, `${ns}.conf`);
      writeFileSync(conf, text);
      chownSync(conf, frrUid, frrGid);
      mkdirSync(`/var/run/frr/${ns}`, { recursive: true });
      chownSync(`/var/run/frr/${ns}`, frrUid, frrGid);
      await startDaemon(ns, "zebra", conf);
      await startDaemon(ns, "bgpd", conf);
    }
  } catch (error) {
    teardown();
    throw error;
  }
  const vtysh = (ns: string, command: string) => run("vtysh", ["-N", ns, "-c", command]);
  const pair: FrrPair = {
    dir,
    stopBgpdA: () => stopPidFile(`/var/run/frr/${NS_A}/bgpd.pid`, "SIGTERM", 5000),
    startBgpdA: () => startDaemon(NS_A, "bgpd", join(dir, `${NS_A}.conf`)),
    async ribB(family) {
      const text = await vtysh(NS_B, `show bgp ipv${family} unicast json`);
      const routes = ((JSON.parse(text) as { routes?: Record<string, { path?: string; bestpath?: boolean }[]> }).routes ?? {}) as Record<string, { path?: string }[]>;
      return new Map(Object.entries(routes).map(([prefix, paths]) => [prefix, paths[0]?.path ?? ""]));
    },
    runningConfigA: () => vtysh(NS_A, "show running-config"),
    teardown,
  };
  return pair;
}
