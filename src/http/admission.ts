/**
 * Who gets a connection slot, and whom a newcomer displaces: the pure decision behind the
 * HTTP server's connection limits (docs/hardening.md, "Connections and floods on the HTTP
 * ports"). A newcomer is never simply refused while an idle stranger holds a slot: the
 * configured partner's poll and a scraper must get through however many others connect.
 */

/** What the server knows of one open connection. */
export interface ConnectionView<T> {
  /** The connection itself (handed back as the victim). */
  key: T;
  /** Normalized remote address (normalizeAddress). */
  source: string;
  /** From a reserved address (the partner's): never displaced by others, not counted against maxConnections. */
  reserved: boolean;
  /** A handler is working on its request: it is being served, not idle. */
  serving: boolean;
  /** It has had an answer: it is not a request still on its way. */
  answered: boolean;
  /** It has been answered 2xx at least once: a known client (the partner's poller, a scraper). */
  proven: boolean;
  /** Our last answer is written; it only lingers so that the client reads it. */
  closing: boolean;
  /** Monotonic ms of its latest progress: connected, a request head read, or an answer sent. */
  lastActiveMs: number;
}

export interface AdmissionLimits {
  /** Most connections from addresses that are not reserved. */
  maxConnections: number;
  /** Most connections from one address (reserved ones included). */
  maxPerSource: number;
}

export type ShedLimit = "per_source" | "total";

export type Admission<T> =
  | { kind: "admit" }
  /** Admit, after closing `victim` to make room. */
  | { kind: "evict"; victim: T; limit: ShedLimit }
  /** Every connection that would have to go is being served: refuse the newcomer. */
  | { kind: "refuse"; limit: ShedLimit };

/**
 * Decides on a newcomer from `source` given the open connections (not including it). Over
 * its address's limit, the newcomer displaces that address's idlest connection that has
 * had an answer (a stale keep-alive, say the partner's after a timed-out poll) — not one
 * whose first request may be on its way: a burst from one host gets 503s, not resets, for
 * its excess. Over the total, the idlest stranger anywhere goes, answered or not (many
 * hosts could otherwise hold every slot with silent connections). A reserved address only
 * has its per-source limit.
 */
export function admit<T>(
  newcomer: { source: string; reserved: boolean },
  open: readonly ConnectionView<T>[],
  limits: AdmissionLimits,
): Admission<T> {
  const sameSource = open.filter((c) => c.source === newcomer.source);
  if (sameSource.length >= limits.maxPerSource) return displace(sameSource.filter((c) => c.answered || c.closing), "per_source");
  if (newcomer.reserved) return { kind: "admit" };
  const strangers = open.filter((c) => !c.reserved);
  if (strangers.length >= limits.maxConnections) return displace(strangers, "total");
  return { kind: "admit" };
}

function displace<T>(candidates: readonly ConnectionView<T>[], limit: ShedLimit): Admission<T> {
  const victim = idlest(candidates);
  return victim === undefined ? { kind: "refuse", limit } : { kind: "evict", victim: victim.key, limit };
}

/**
 * The connection that loses least by being closed: not one being served; first one that
 * only lingers after its last answer, then one never answered 2xx (a stranger), then the
 * one inactive longest.
 */
export function idlest<T>(candidates: readonly ConnectionView<T>[]): ConnectionView<T> | undefined {
  let best: ConnectionView<T> | undefined;
  for (const c of candidates) {
    if (c.serving) continue;
    if (best === undefined || rank(c) < rank(best) || (rank(c) === rank(best) && c.lastActiveMs < best.lastActiveMs)) best = c;
  }
  return best;
}

const rank = (c: ConnectionView<unknown>): number => (c.closing ? 0 : c.proven ? 2 : 1);

/** A remote address as compared with reserved ones: IPv4-mapped IPv6 (`::ffff:10.0.0.3`, `::ffff:a00:3`) as IPv4, brackets and case dropped. */
export function normalizeAddress(address: string | undefined): string {
  if (address === undefined) return "";
  const bare = address.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(bare);
  if (mapped) return mapped[1]!;
  // The same in hex, as URL parsing writes it (`::ffff:a00:3`).
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(bare);
  if (!hex) return bare;
  const [high, low] = [parseInt(hex[1]!, 16), parseInt(hex[2]!, 16)];
  return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
}
