/**
 * Libreswan traffic lines → samples (docs/collectors.md §Libreswan), pure. The series are the
 * strongSwan collector's (`vpnham_ipsec_child_sa_*{conn,child}`): `conn` is the connection's
 * name without its `/NxM` alias suffix, `child` the name as pluto prints it (alias included,
 * road-warrior instance not: every instance of a template adds to one series). A tunnel is up
 * while trafficstatus lists an SA for it; a connection in `connections:` with no line reads 0.
 *
 * Bytes: several lines per connection after a rekey (the old SA lingers); the lines' counters
 * are summed, and — as for strongSwan — the traffic of SAs that are gone is kept, so the
 * counters only go up while vpnham runs. The age is that of the newest SA (largest add_time).
 */
import { accumulate, emptyCounterState, pairKey, strongswanFamilies, type CounterState } from "../strongswan/samples.ts";
import type { IkeSa } from "../strongswan/parse.ts";
import type { FamilyDef, Sample } from "../types.ts";
import type { TrafficLine } from "./parse.ts";

const shared = ["vpnham_ipsec_child_sa_up", "vpnham_ipsec_child_sa_age_seconds", "vpnham_ipsec_child_sa_bytes_total"];
export const libreswanFamilies: readonly FamilyDef[] = strongswanFamilies.filter((def) => shared.includes(def.name));

/** Carried from one collection to the next: the counters' history and the children seen per expected connection. */
export interface LibreswanState {
  readonly counters: CounterState;
  /** Expected connection → alias children seen so far (listed at 0 when they have no line). */
  readonly children: ReadonlyMap<string, readonly string[]>;
  /**
   * Connection → its peer for the blog's `peer` label: the peer's ID as last seen (remembered
   * while the connection is down), `%any` for a road-warrior template.
   */
  readonly peers: ReadonlyMap<string, string>;
}

export const emptyLibreswanState = (): LibreswanState => ({ counters: emptyCounterState(), children: new Map(), peers: new Map() });

const ALIAS = /\/\d+x\d+$/;

/** The (conn, child) pairs expected from `connections:`, given the alias children seen. */
function expectedPairs(expected: readonly string[], children: ReadonlyMap<string, readonly string[]>): [string, string][] {
  return expected.flatMap((name): [string, string][] => {
    if (ALIAS.test(name)) return [[name.replace(ALIAS, ""), name]];
    const seen = children.get(name) ?? [];
    return seen.length > 0 ? seen.map((child): [string, string] => [name, child]) : [[name, name]];
  });
}

export function libreswanSamples(
  lines: readonly TrafficLine[],
  expected: readonly string[],
  state: LibreswanState,
  nowSeconds: number,
): { samples: Sample[]; state: LibreswanState } {
  // Children of expected connections seen so far (a plain connection is its own child).
  const children = new Map<string, string[]>();
  for (const name of expected) if (!ALIAS.test(name)) children.set(name, [...(state.children.get(name) ?? [])]);
  for (const line of lines) {
    const list = children.get(line.base);
    if (list && line.name !== line.base && !list.includes(line.name)) list.push(line.name);
  }

  // Expected first, in config order, then whatever else has SAs; each pair once.
  const pairs: [string, string][] = [];
  const seen = new Set<string>();
  const note = (conn: string, child: string) => {
    const k = pairKey(conn, child);
    if (!seen.has(k)) {
      seen.add(k);
      pairs.push([conn, child]);
    }
  };
  for (const [conn, child] of expectedPairs(expected, children)) note(conn, child);
  for (const line of lines) note(line.base, line.name);

  // Counter bookkeeping: one IKE-less "SA" per line, identified by its serial.
  const sas: IkeSa[] = lines.map((line) => ({
    conn: line.base,
    uniqueid: line.serial,
    state: "ESTABLISHED",
    establishedSeconds: undefined,
    remoteHost: line.peerAddress,
    children: [
      {
        name: line.name,
        uniqueid: line.serial,
        state: "INSTALLED",
        instance: `#${line.serial}`,
        bytesIn: line.inBytes,
        bytesOut: line.outBytes,
        packetsIn: 0,
        packetsOut: 0,
        useInSeconds: undefined,
        useOutSeconds: undefined,
        installSeconds: undefined,
      },
    ],
  }));
  const keep = new Set(expectedPairs(expected, children).map(([conn, child]) => pairKey(conn, child)));
  const { state: counters, totals } = accumulate(state.counters, sas, keep);

  const samples: Sample[] = [];
  for (const [conn, child] of pairs) {
    const labels = { conn, child };
    const mine = lines.filter((l) => l.base === conn && l.name === child);
    samples.push({ name: "vpnham_ipsec_child_sa_up", labels, value: mine.length > 0 ? 1 : 0 });
    const added = mine.map((l) => l.addTime).filter((t): t is number => t !== undefined);
    if (added.length > 0) samples.push({ name: "vpnham_ipsec_child_sa_age_seconds", labels, value: Math.max(0, nowSeconds - Math.max(...added)) });
    const t = totals.get(pairKey(conn, child));
    samples.push({ name: "vpnham_ipsec_child_sa_bytes_total", labels: { ...labels, direction: "in" }, value: t?.bytesIn ?? 0 });
    samples.push({ name: "vpnham_ipsec_child_sa_bytes_total", labels: { ...labels, direction: "out" }, value: t?.bytesOut ?? 0 });
  }
  const peers = new Map<string, string>();
  for (const [conn] of pairs) {
    const line = lines.find((l) => l.base === conn);
    const peer = line ? (line.instance !== undefined ? "%any" : (line.id ?? line.peerAddress ?? "")) : state.peers.get(conn);
    if (peer !== undefined) peers.set(conn, peer);
  }
  return { samples, state: { counters, children, peers } };
}
