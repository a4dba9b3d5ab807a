/**
 * Assertions over the running world: host states from /status, hook lines
 * since a mark, waits with deadlines that explain what they last saw.
 */
import { waitFor } from "../../src/util/wait.ts";
import type { HookLine, StatusBody, World } from "./harness.ts";
import { metricSum, type Sample } from "./metrics-text.ts";
import { HOST_IDS, LINKS, type HostId } from "./netns.ts";

export interface HostView {
  active: boolean;
  up: boolean;
  /** The active tunnel, or null. */
  tunnel: string | null;
  /** Up tunnels, sorted. */
  upTunnels: string[];
  partnerUp: boolean;
  splitBrain: boolean;
}

export function view(s: StatusBody): HostView {
  const names = Object.keys(s.interfaces).sort();
  return {
    active: s.active,
    up: s.up,
    tunnel: names.find((n) => s.interfaces[n]!.active) ?? null,
    upTunnels: names.filter((n) => s.interfaces[n]!.up),
    partnerUp: s.partner_up === true,
    splitBrain: s.split_brain === true,
  };
}

export function short(v: HostView | null): string {
  if (!v) return "(no answer)";
  return `${v.active ? "ACTIVE" : "passive"} t=${v.tunnel ?? "-"} up=${v.upTunnels.join("+") || "-"} partner=${v.partnerUp ? "up" : "down"}${v.splitBrain ? " SPLIT-BRAIN" : ""}`;
}

export type Expect = Partial<HostView>;

/** Every host up and partnered, configured roles and configured-active tunnels (eth1) everywhere. */
export const STEADY: Record<HostId, Expect> = {
  la: { active: true, tunnel: "eth1", upTunnels: ["eth1", "eth2"], partnerUp: true, splitBrain: false },
  ls: { active: false, tunnel: "eth1", upTunnels: ["eth1", "eth2"], partnerUp: true, splitBrain: false },
  ra: { active: true, tunnel: "eth1", upTunnels: ["eth1", "eth2"], partnerUp: true, splitBrain: false },
  rs: { active: false, tunnel: "eth1", upTunnels: ["eth1", "eth2"], partnerUp: true, splitBrain: false },
};

function matches(v: HostView | null, e: Expect): boolean {
  if (!v) return false;
  return Object.entries(e).every(([k, want]) => JSON.stringify(v[k as keyof HostView]) === JSON.stringify(want));
}

export async function views(w: World, hosts: readonly HostId[] = HOST_IDS): Promise<Partial<Record<HostId, HostView | null>>> {
  const bodies = await Promise.all(hosts.map((h) => w.status(h)));
  return Object.fromEntries(hosts.map((h, i) => [h, bodies[i] ? view(bodies[i]!) : null]));
}

/**
 * Wait until every listed host matches its expectation. `onSample` sees every
 * observation (e.g. to catch a transient split brain). The error shows the
 * last observation and the log tails of the hosts that did not match.
 */
export async function waitHosts(
  w: World,
  what: string,
  expected: Partial<Record<HostId, Expect>>,
  timeoutMs: number,
  onSample?: (seen: Partial<Record<HostId, HostView | null>>) => void,
): Promise<Partial<Record<HostId, HostView | null>>> {
  const hosts = Object.keys(expected) as HostId[];
  let last: Partial<Record<HostId, HostView | null>> = {};
  try {
    await waitFor(
      async () => {
        last = await views(w, hosts);
        onSample?.(last);
        return hosts.every((h) => matches(last[h] ?? null, expected[h]!));
      },
      { timeoutMs, intervalMs: 100, what },
    );
    return last;
  } catch (error) {
    const lines = hosts.map((h) => `  ${h}: ${short(last[h] ?? null)}   want ${JSON.stringify(expected[h])}`);
    const bad = hosts.filter((h) => !matches(last[h] ?? null, expected[h]!));
    const exits = HOST_IDS.filter((h) => !w.running(h)).map((h) => `  ${h} is not running (exit ${JSON.stringify(w.exitOf(h))})`);
    const tails = bad.map((h) => `--- ${h} log tail:\n${w.logTail(h, 12)}`);
    throw new Error(`${(error as Error).message}\n${[...lines, ...exits].join("\n")}\n${tails.join("\n")}`);
  }
}

export type Mark = Record<HostId, number>;

export function hookMark(w: World): Mark {
  return Object.fromEntries(HOST_IDS.map((h) => [h, w.hooks(h).length])) as Mark;
}

export function hooksSince(w: World, mark: Mark, h: HostId): HookLine[] {
  return w.hooks(h).slice(mark[h]);
}

/** `event tunnel tunnel_ip` for interface hooks, `event bridge_ip` for bridge hooks. */
export function hookSummary(line: HookLine): string {
  return line.event.startsWith("interface_") ? `${line.event} ${line.args[2]} ${line.args[3]}` : `${line.event} ${line.args[2]}`;
}

export function summaries(w: World, mark: Mark, h: HostId): string[] {
  return hooksSince(w, mark, h).map(hookSummary);
}

export async function waitHook(w: World, mark: Mark, h: HostId, summary: string, timeoutMs: number): Promise<HookLine> {
  let found: HookLine | undefined;
  try {
    await waitFor(() => (found = hooksSince(w, mark, h).find((l) => hookSummary(l) === summary)) !== undefined, {
      timeoutMs,
      what: `${h}: hook "${summary}"`,
    });
  } catch (error) {
    throw new Error(`${(error as Error).message}; ${h} ran: ${JSON.stringify(summaries(w, mark, h))}`);
  }
  return found!;
}

/**
 * Bring everything back to the healthy baseline after a scenario (or a failed
 * one): all links up with their addresses, no nftables rules, every daemon
 * running and not stopped. Idempotent.
 */
export async function repair(w: World): Promise<void> {
  for (const h of HOST_IDS) {
    await w.topo.exec(h, "nft", "delete", "table", "inet", "vpnham_e2e").catch(() => {});
    if (w.running(h)) w.signal(h, "SIGCONT");
    else w.start(h);
  }
  for (const link of LINKS) {
    for (const end of [link.a, link.b]) {
      await w.topo.ip(end.host, "addr", "replace", end.cidr, "dev", end.dev);
      await w.topo.ip(end.host, "link", "set", end.dev, "up");
    }
  }
}

/** Baseline: the steady state, every daemon process alive. */
export async function expectSteady(w: World, timeoutMs: number): Promise<void> {
  await waitHosts(w, "steady state", STEADY, timeoutMs);
  for (const h of HOST_IDS) if (!w.running(h)) throw new Error(`${h} is not running: ${JSON.stringify(w.exitOf(h))}`);
}

/**
 * Wait until a host's /metrics shows the expected values (sums over samples
 * matching the labels). Pair counts follow the partner's *last* poll, so they
 * settle up to one poll after /status does.
 */
export async function waitMetrics(
  w: World,
  h: HostId,
  expected: readonly { name: string; labels?: Record<string, string>; value: number }[],
  timeoutMs: number,
): Promise<Sample[]> {
  let last: Sample[] = [];
  const actual = (): string => expected.map((e) => `${e.name}${JSON.stringify(e.labels ?? {})}=${metricSum(last, e.name, e.labels)} (want ${e.value})`).join(", ");
  try {
    await waitFor(
      async () => {
        last = (await w.metrics(h)) ?? [];
        return expected.every((e) => metricSum(last, e.name, e.labels) === e.value);
      },
      { timeoutMs, intervalMs: 100, what: `${h} metrics` },
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}: ${actual()}`);
  }
  return last;
}
