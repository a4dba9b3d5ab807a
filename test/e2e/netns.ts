/**
 * The four-host topology of docs/operations.md §The reference topology, as network namespaces and
 * veth pairs. Names are unique per run (`vh<pid><2 letters><host>`, ≤ 15
 * chars) so parallel runs never collide; leftovers of dead runs are removed at
 * start; everything a run made is removed by `teardown()`, which is also wired
 * to process exit and SIGINT/SIGTERM by the caller (see harness.ts).
 */
import { execFile, execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";

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

const NAME_PATTERN = /^vh(\d+)([a-z]{2})(la|ls|ra|rs)$/;

/** Runs a command; rejects with its stderr on a non-zero exit. */
export function run(cmd: string, args: readonly string[], timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, [...args], { timeout: timeoutMs, encoding: "utf8" }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${cmd} ${args.join(" ")}: ${stderr.trim() || error.message}`));
      else resolve(stdout);
    });
  });
}

/** Why namespaces cannot be used here, or null when they can. */
export function netnsUnavailable(): string | null {
  if (typeof process.getuid === "function" && process.getuid() !== 0) return "not root (network namespaces need root)";
  try {
    execFileSync("ip", ["-V"], { stdio: "ignore" });
  } catch {
    return "`ip` (iproute2) is not installed";
  }
  return null;
}

export function hasCommand(cmd: string, args: string[] = ["--version"]): boolean {
  try {
    execFileSync(cmd, args, { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function listNetns(): string[] {
  try {
    return execFileSync("ip", ["netns", "list"], { encoding: "utf8" })
      .split("\n")
      .map((l) => l.split(" ")[0]!.trim())
      .filter(Boolean);
  } catch {
    return [];
  }
}

function alive(pid: number): boolean {
  if (!existsSync(`/proc/${pid}`)) return false;
  try {
    // A zombie or a pid reused by something else is not our run.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/\) Z /.test(stat);
  } catch {
    return false;
  }
}

/** Kill whatever still runs inside a namespace (by pid) and delete it. Synchronous: usable in 'exit'. */
export function destroyNetnsSync(ns: string): void {
  try {
    const pids = execFileSync("ip", ["netns", "pids", ns], { encoding: "utf8" }).split(/\s+/).filter(Boolean).map(Number);
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* gone */
      }
    }
  } catch {
    /* namespace already gone */
  }
  try {
    execFileSync("ip", ["netns", "del", ns], { stdio: "ignore" });
  } catch {
    /* already gone */
  }
}

/** Namespaces of earlier runs whose owner process is gone (or is us: then they can only be leftovers). */
export function cleanLeftovers(): string[] {
  const removed: string[] = [];
  for (const ns of listNetns()) {
    const m = NAME_PATTERN.exec(ns);
    if (!m) continue;
    const owner = Number(m[1]);
    if (owner !== process.pid && alive(owner)) continue;
    destroyNetnsSync(ns);
    removed.push(ns);
  }
  return removed;
}

/** `ip -br link` output: eth0, eth1 and eth2 all have carrier (state UP). */
function allUp(brief: string): boolean {
  const states = new Map(brief.split("\n").map((l) => l.trim().split(/\s+/)).map(([name, state]) => [(name ?? "").split("@")[0], state]));
  return ["eth0", "eth1", "eth2"].every((dev) => states.get(dev) === "UP");
}

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
  cleanLeftovers();
  const letters = "abcdefghijklmnopqrstuvwxyz";
  const tag = Array.from({ length: 2 }, () => letters[Math.floor(Math.random() * letters.length)]).join("");
  const ns = Object.fromEntries(HOST_IDS.map((h) => [h, `vh${process.pid}${tag}${h}`])) as Record<HostId, string>;
  const created: string[] = [];
  const teardown = (): void => {
    for (const name of created.splice(0)) destroyNetnsSync(name);
  };
  try {
    for (const h of HOST_IDS) {
      await run("ip", ["netns", "add", ns[h]]);
      created.push(ns[h]);
      await run("ip", ["-n", ns[h], "link", "set", "lo", "up"]);
    }
    for (const link of LINKS) {
      // Both ends are created inside their namespaces: no name ever exists in the root namespace.
      await run("ip", ["link", "add", link.a.dev, "netns", ns[link.a.host], "type", "veth", "peer", "name", link.b.dev, "netns", ns[link.b.host]]);
      for (const end of [link.a, link.b]) {
        await run("ip", ["-n", ns[end.host], "addr", "add", end.cidr, "dev", end.dev]);
        await run("ip", ["-n", ns[end.host], "link", "set", end.dev, "up"]);
      }
    }
    // veth carrier comes up asynchronously: daemons started before it would see no running interface.
    const deadline = Date.now() + 10_000;
    for (const h of HOST_IDS) {
      while (!allUp(await run("ip", ["-n", ns[h], "-br", "link", "show"]))) {
        if (Date.now() > deadline) throw new Error(`links of ${ns[h]} did not come up`);
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  } catch (error) {
    teardown();
    throw error;
  }
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
