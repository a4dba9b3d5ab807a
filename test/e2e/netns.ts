/**
 * The four-host topology of docs/operations.md §The reference topology, as network namespaces and
 * veth pairs. Names are unique per run (`vh<pid><2 letters><host>`, ≤ 15
 * chars) so parallel runs never collide; leftovers of dead runs are removed at
 * start; everything a run made is removed by `teardown()`, which is also wired
 * to process exit and SIGINT/SIGTERM by the caller (see harness.ts).
 */
import { createNetns, removeNetnsLeftovers, run, type VethEnd } from "../support/netns.ts";

export { hasCommand, netnsUnavailable, run } from "../support/netns.ts";

export type HostId = "la" | "ls" | "ra" | "rs";
export const HOST_IDS: readonly HostId[] = ["la", "ls", "ra", "rs"];

/** Config file stem in examples/topology/ for each host. */
export const HOST_FILES: Record<HostId, string> = {
  la: "left-active",
  ls: "left-standby",
  ra: "right-active",
  rs: "right-standby",
};

/** VPC address of each host (status on :8080, metrics on :8000). */
export const VPC_IP: Record<HostId, string> = { la: "10.0.0.2", ls: "10.0.0.3", ra: "10.1.0.2", rs: "10.1.0.3" };

/** Tunnel interface → address, per host (transponders listen on <ip>:3003). */
export const TUNNEL_IP: Record<HostId, Record<"eth1" | "eth2", string>> = {
  la: { eth1: "192.168.255.2", eth2: "192.168.255.18" },
  ls: { eth1: "192.168.255.50", eth2: "192.168.255.34" },
  ra: { eth1: "192.168.255.3", eth2: "192.168.255.35" },
  rs: { eth1: "192.168.255.19", eth2: "192.168.255.51" },
};

type End = { host: HostId; dev: string; cidr: string };
/** One veth pair per link of the reference topology. */
export const LINKS: readonly { name: string; a: End; b: End }[] = [
  { name: "wg00", a: { host: "la", dev: "eth1", cidr: "192.168.255.2/28" }, b: { host: "ra", dev: "eth1", cidr: "192.168.255.3/28" } },
  { name: "wg01", a: { host: "la", dev: "eth2", cidr: "192.168.255.18/28" }, b: { host: "rs", dev: "eth1", cidr: "192.168.255.19/28" } },
  { name: "wg10", a: { host: "ls", dev: "eth2", cidr: "192.168.255.34/28" }, b: { host: "ra", dev: "eth2", cidr: "192.168.255.35/28" } },
  { name: "wg11", a: { host: "ls", dev: "eth1", cidr: "192.168.255.50/28" }, b: { host: "rs", dev: "eth2", cidr: "192.168.255.51/28" } },
  { name: "lvpc", a: { host: "la", dev: "eth0", cidr: "10.0.0.2/16" }, b: { host: "ls", dev: "eth0", cidr: "10.0.0.3/16" } },
  { name: "rvpc", a: { host: "ra", dev: "eth0", cidr: "10.1.0.2/16" }, b: { host: "rs", dev: "eth0", cidr: "10.1.0.3/16" } },
];

/** Names of this topology's namespaces; the first group is the pid of the run that made them. */
const NAME_PATTERN = /^vh(\d+)[a-z]{2}(?:la|ls|ra|rs)$/;

export interface Topology {
  readonly ns: Record<HostId, string>;
  /** `ip -n <ns> …` for one host. */
  ip(host: HostId, ...args: string[]): Promise<string>;
  /** Wall-clock seconds (with ns) printed by `date` just before and just after the `ip` command. */
  ipTimed(host: HostId, ...args: string[]): Promise<{ before: number; after: number }>;
  /** Command run inside a host's namespace. */
  exec(host: HostId, cmd: string, ...args: string[]): Promise<string>;
  teardown(): void;
}

export async function createTopology(): Promise<Topology> {
  removeNetnsLeftovers(NAME_PATTERN);
  const letters = "abcdefghijklmnopqrstuvwxyz";
  const tag = Array.from({ length: 2 }, () => letters[Math.floor(Math.random() * letters.length)]).join("");
  const ns = Object.fromEntries(HOST_IDS.map((h) => [h, `vh${process.pid}${tag}${h}`])) as Record<HostId, string>;
  const end = (e: End): VethEnd => ({ ns: ns[e.host], dev: e.dev, addrs: [e.cidr] });
  const teardown = await createNetns(
    HOST_IDS.map((h) => ns[h]),
    LINKS.map((link) => ({ a: end(link.a), b: end(link.b) })),
    { carrierTimeoutMs: 10_000 },
  );
  return {
    ns,
    ip: (host, ...args) => run("ip", ["-n", ns[host], ...args]),
    async ipTimed(host, ...args) {
      // The change happens between the two stamps (under load, starting `ip` can take a while).
      const out = await run("sh", ["-c", 'date +%s.%N; ip -n "$0" "$@" && date +%s.%N', ns[host], ...args]);
      const [before, after] = out.trim().split("\n").map(Number);
      return { before: before!, after: after! };
    },
    exec: (host, cmd, ...args) => run("ip", ["netns", "exec", ns[host], cmd, ...args]),
    teardown,
  };
}
