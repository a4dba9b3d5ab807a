/**
 * Two network namespaces for bench/compare.ts, `hperf-a` and `hperf-b`, one veth between them
 * (10.215.0.1/30 ↔ .2). Session i's end points live on the loopback device on each side (A_i in
 * 10.216.0.0/16, B_i in 10.217.0.0/16), routed over the veth: one neighbour per side however
 * many sessions there are (1 000 directly connected addresses would overflow the kernel's
 * neighbour table thresholds and measure ARP instead of the daemons). The packets are never
 * forwarded, so BFD's TTL 255 holds. A cut drops everything on the veth at B (nft, both ways).
 */
import { execFileSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { run } from "./proc.ts";

export const NS = { a: "hperf-a", b: "hperf-b" } as const;
export type Side = keyof typeof NS;
export const LINK = { a: "10.215.0.1", b: "10.215.0.2" } as const;

/** Session i's address on each side. */
export function sessionAddress(side: Side, i: number): string {
  return `10.${side === "a" ? 216 : 217}.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`;
}

/** Why the namespaces cannot be made here, or undefined. */
export function netUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "not root (network namespaces need root)";
  for (const [cmd, args] of [["ip", ["-V"]], ["nft", ["--version"]]] as const) {
    try {
      execFileSync(cmd, [...args], { stdio: "ignore" });
    } catch {
      return `${cmd} is missing`;
    }
  }
  return undefined;
}

/** Kills what runs in our namespaces and deletes them (also leftovers of a dead run). */
export function destroyNet(): void {
  for (const ns of Object.values(NS)) {
    try {
      const pids = execFileSync("ip", ["netns", "pids", ns], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).split(/\s+/).filter(Boolean);
      for (const pid of pids) {
        try {
          process.kill(Number(pid), "SIGKILL");
        } catch {
          /* gone */
        }
      }
    } catch {
      /* no such namespace */
    }
    if (existsSync(`/run/netns/${ns}`)) {
      try {
        execFileSync("ip", ["netns", "del", ns], { stdio: "ignore" });
      } catch {
        /* gone */
      }
    }
    rmSync(`/var/run/frr/${ns}`, { recursive: true, force: true });
  }
}

export async function createNet(maxSessions: number): Promise<void> {
  destroyNet();
  await run("ip", ["netns", "add", NS.a]);
  await run("ip", ["netns", "add", NS.b]);
  await run("ip", ["link", "add", "hperfa0", "netns", NS.a, "type", "veth", "peer", "name", "hperfb0", "netns", NS.b]);
  for (const side of ["a", "b"] as const) {
    const ns = NS[side];
    const other = side === "a" ? "b" : "a";
    const batch = [
      `link set lo up`,
      `addr add ${LINK[side]}/30 dev hperf${side}0`,
      `link set hperf${side}0 up`,
      ...Array.from({ length: maxSessions }, (_, i) => `addr add ${sessionAddress(side, i)}/32 dev lo`),
      `route add 10.${other === "a" ? 216 : 217}.0.0/16 via ${LINK[other]}`,
    ];
    await run("sh", ["-c", `printf '%s\\n' "$@" | ip -n ${ns} -b -`, "sh", ...batch]);
  }
}

/** Drops every packet on the veth at B, both ways; returns the `date` stamps around it (s). */
export async function cut(): Promise<{ before: number; after: number }> {
  const rules = `table inet hperf { chain in { type filter hook input priority 0; policy accept; iifname "hperfb0" drop; }; chain out { type filter hook output priority 0; policy accept; oifname "hperfb0" drop; }; }`;
  const out = await run("sh", ["-c", `date +%s.%N; ip netns exec ${NS.b} nft "$0" && date +%s.%N`, rules]);
  const [before, after] = out.trim().split("\n").map(Number);
  return { before: before!, after: after! };
}

export async function restore(): Promise<void> {
  await run("ip", ["netns", "exec", NS.b, "nft", "delete", "table", "inet", "hperf"]);
}
