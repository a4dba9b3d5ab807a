/**
 * strongSwan state → samples (docs/collectors.md §strongSwan metrics), pure. Labels are
 * config-level only (`conn`, `child`; never SPI or uniqueid), so a rekey changes values, never
 * series. Every connection and child that `list-conns` names is exported even with no SA (up = 0,
 * traffic counters keep their totals): an expected tunnel never vanishes.
 *
 * Traffic counters: charon's per-SA counters start at 0 with every new CHILD_SA (rekey,
 * re-initiate, charon restart). We keep, per (conn, child), the traffic of SAs that are gone and
 * add the live SAs' counters, so the exported counters only go up while vpnham runs.
 */
import type { FamilyDef, Sample } from "../types.ts";
import type { ChildSa, ConnConfig, IkeSa } from "./parse.ts";

export const IKE_STATES = ["CREATED", "CONNECTING", "ESTABLISHED", "PASSIVE", "REKEYING", "REKEYED", "DELETING", "DESTROYING"] as const;
export const CHILD_STATES = [
  "CREATED",
  "ROUTED",
  "INSTALLING",
  "INSTALLED",
  "UPDATING",
  "REKEYING",
  "REKEYED",
  "RETRYING",
  "DELETING",
  "DELETED",
  "DESTROYING",
] as const;

/** IKE_SA states in which the SA is usable (REKEYING: still in use while its successor is made). */
export const IKE_UP_STATES: ReadonlySet<string> = new Set(["ESTABLISHED", "REKEYING"]);
/** CHILD_SA states whose SAs carry traffic (VyOS: INSTALLED; UPDATING/REKEYING are still installed). */
export const CHILD_UP_STATES: ReadonlySet<string> = new Set(["INSTALLED", "UPDATING", "REKEYING"]);

const P = "vpnham_ipsec_";
export const strongswanFamilies: readonly FamilyDef[] = [
  { name: `${P}ike_sa_up`, type: "gauge", labelNames: ["conn"], help: "1 when the connection has an established IKE_SA (ESTABLISHED or REKEYING), else 0; every connection charon has loaded is listed." },
  { name: `${P}ike_sa_age_seconds`, type: "gauge", labelNames: ["conn"], help: "Seconds since the connection's newest usable IKE_SA was established, at the last collection (absent while none is up)." },
  { name: `${P}child_sa_up`, type: "gauge", labelNames: ["conn", "child"], help: "1 when the CHILD_SA carries traffic (strongSwan: INSTALLED, UPDATING or REKEYING; libreswan: listed by trafficstatus), else 0; every expected child is listed." },
  { name: `${P}child_sa_age_seconds`, type: "gauge", labelNames: ["conn", "child"], help: "Seconds since the child's newest usable CHILD_SA was installed (libreswan: its add_time), at the last collection (absent while none is up or unknown)." },
  { name: `${P}child_sa_idle_seconds`, type: "gauge", labelNames: ["conn", "child", "direction"], help: "Seconds since the last packet in (direction=in) or out (out) on any of the child's SAs, at the last collection (absent before the first packet)." },
  { name: `${P}child_sa_bytes_total`, type: "counter", labelNames: ["conn", "child", "direction"], help: "Bytes through the child's SAs by direction (in, out), summed over rekeys while vpnham runs." },
  { name: `${P}child_sa_packets_total`, type: "counter", labelNames: ["conn", "child", "direction"], help: "Packets through the child's SAs by direction (in, out), summed over rekeys while vpnham runs." },
  { name: `${P}ike_sas`, type: "gauge", labelNames: ["state"], help: "IKE_SAs by state (every state charon knows, 0 when none)." },
  { name: `${P}child_sas`, type: "gauge", labelNames: ["state"], help: "CHILD_SAs by state (every state charon knows, 0 when none)." },
];

interface Traffic {
  bytesIn: number;
  bytesOut: number;
  packetsIn: number;
  packetsOut: number;
}

/** Bookkeeping carried from one collection to the next. */
export interface CounterState {
  /** (conn, child) → traffic of SAs no longer listed. */
  readonly gone: ReadonlyMap<string, Traffic>;
  /** (conn, child, SA instance) → its counters when last seen. */
  readonly live: ReadonlyMap<string, Traffic>;
}

export const emptyCounterState = (): CounterState => ({ gone: new Map(), live: new Map() });

const zero = (): Traffic => ({ bytesIn: 0, bytesOut: 0, packetsIn: 0, packetsOut: 0 });
const add = (a: Traffic, b: Traffic): Traffic => ({
  bytesIn: a.bytesIn + b.bytesIn,
  bytesOut: a.bytesOut + b.bytesOut,
  packetsIn: a.packetsIn + b.packetsIn,
  packetsOut: a.packetsOut + b.packetsOut,
});
const dropped = (now: Traffic, before: Traffic) =>
  now.bytesIn < before.bytesIn || now.bytesOut < before.bytesOut || now.packetsIn < before.packetsIn || now.packetsOut < before.packetsOut;

const key = (...parts: string[]) => JSON.stringify(parts);
/** The (conn, child) key of `accumulate`'s `keep` set and totals. */
export const pairKey = (conn: string, child: string): string => key(conn, child);

/** Totals per (conn, child) and the state for next time. `keep` = (conn, child) keys whose totals survive. */
export function accumulate(state: CounterState, sas: readonly IkeSa[], keep: ReadonlySet<string>): { state: CounterState; totals: Map<string, Traffic> } {
  const gone = new Map(state.gone);
  const live = new Map<string, Traffic>();
  const fold = (pair: string, traffic: Traffic) => gone.set(pair, add(gone.get(pair) ?? zero(), traffic));
  const current = new Map<string, Traffic>();
  for (const ike of sas) {
    for (const child of ike.children) {
      const pair = key(ike.conn, child.name);
      const sa = key(ike.conn, child.name, child.instance);
      const now: Traffic = { bytesIn: child.bytesIn, bytesOut: child.bytesOut, packetsIn: child.packetsIn, packetsOut: child.packetsOut };
      const before = state.live.get(sa);
      // Same identity but smaller counters: a different SA reusing it; the old one's traffic is history.
      if (before && dropped(now, before)) fold(pair, before);
      live.set(sa, now);
      current.set(pair, add(current.get(pair) ?? zero(), now));
    }
  }
  for (const [sa, before] of state.live) {
    if (live.has(sa)) continue;
    const [conn, child] = JSON.parse(sa) as [string, string, string];
    fold(key(conn, child), before);
  }
  for (const pair of [...gone.keys()]) if (!keep.has(pair) && !current.has(pair)) gone.delete(pair);
  const totals = new Map<string, Traffic>();
  for (const pair of new Set([...gone.keys(), ...current.keys()])) totals.set(pair, add(gone.get(pair) ?? zero(), current.get(pair) ?? zero()));
  return { state: { gone, live }, totals };
}

/**
 * The remote address per connection for the blog's `peer` label
 * (docs/collectors.md §Drop-in for the cron script): `remote_addrs` as configured (stable across
 * reconnects), else the address an IKE_SA of the connection uses, else "".
 */
export function peerAddresses(conns: readonly ConnConfig[], sas: readonly IkeSa[]): Map<string, string> {
  const peers = new Map<string, string>();
  for (const c of conns) if (c.remoteAddrs.length > 0) peers.set(c.conn, c.remoteAddrs.join(","));
  for (const s of sas) if (!peers.has(s.conn) && s.remoteHost) peers.set(s.conn, s.remoteHost);
  return peers;
}

const minOf = (values: readonly (number | undefined)[]): number | undefined => {
  const defined = values.filter((v): v is number => v !== undefined);
  return defined.length ? Math.min(...defined) : undefined;
};

/** Every sample of one collection, and the counter state for the next. */
export function strongswanSamples(conns: readonly ConnConfig[], sas: readonly IkeSa[], state: CounterState): { samples: Sample[]; state: CounterState } {
  // Expected (from list-conns) first, then whatever else has SAs, each (conn, child) once.
  const connNames: string[] = [];
  const childrenOf = new Map<string, string[]>();
  const note = (conn: string, child?: string) => {
    if (!childrenOf.has(conn)) {
      childrenOf.set(conn, []);
      connNames.push(conn);
    }
    const list = childrenOf.get(conn)!;
    if (child !== undefined && !list.includes(child)) list.push(child);
  };
  for (const c of conns) {
    note(c.conn);
    for (const child of c.children) note(c.conn, child);
  }
  for (const ike of sas) {
    note(ike.conn);
    for (const child of ike.children) note(ike.conn, child.name);
  }

  const keep = new Set<string>();
  for (const c of conns) for (const child of c.children) keep.add(key(c.conn, child));
  const { state: next, totals } = accumulate(state, sas, keep);

  const samples: Sample[] = [];
  const push = (name: string, labels: Record<string, string>, value: number) => samples.push({ name: P + name, labels, value });
  for (const conn of connNames) {
    const ikes = sas.filter((s) => s.conn === conn);
    const upIkes = ikes.filter((s) => IKE_UP_STATES.has(s.state));
    push("ike_sa_up", { conn }, upIkes.length > 0 ? 1 : 0);
    const ikeAge = minOf(upIkes.map((s) => s.establishedSeconds));
    if (ikeAge !== undefined) push("ike_sa_age_seconds", { conn }, ikeAge);
    for (const child of childrenOf.get(conn)!) {
      const labels = { conn, child };
      const childSas: ChildSa[] = ikes.flatMap((s) => s.children.filter((c) => c.name === child));
      const up = childSas.filter((c) => CHILD_UP_STATES.has(c.state));
      push("child_sa_up", labels, up.length > 0 ? 1 : 0);
      const age = minOf(up.map((c) => c.installSeconds));
      if (age !== undefined) push("child_sa_age_seconds", labels, age);
      const idleIn = minOf(childSas.map((c) => c.useInSeconds));
      const idleOut = minOf(childSas.map((c) => c.useOutSeconds));
      if (idleIn !== undefined) push("child_sa_idle_seconds", { ...labels, direction: "in" }, idleIn);
      if (idleOut !== undefined) push("child_sa_idle_seconds", { ...labels, direction: "out" }, idleOut);
      const t = totals.get(key(conn, child)) ?? zero();
      push("child_sa_bytes_total", { ...labels, direction: "in" }, t.bytesIn);
      push("child_sa_bytes_total", { ...labels, direction: "out" }, t.bytesOut);
      push("child_sa_packets_total", { ...labels, direction: "in" }, t.packetsIn);
      push("child_sa_packets_total", { ...labels, direction: "out" }, t.packetsOut);
    }
  }
  for (const [family, states, list] of [
    ["ike_sas", IKE_STATES, sas.map((s) => s.state)],
    ["child_sas", CHILD_STATES, sas.flatMap((s) => s.children.map((c) => c.state))],
  ] as const) {
    const counts = new Map<string, number>(states.map((s) => [s, 0]));
    for (const s of list) {
      const label = /^[A-Z_]{1,32}$/.test(s) ? s : "UNKNOWN"; // charon's enum names; anything else stays one series
      counts.set(label, (counts.get(label) ?? 0) + 1);
    }
    for (const [stateName, count] of counts) push(family, { state: stateName }, count);
  }
  return { samples, state: next };
}
