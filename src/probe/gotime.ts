/**
 * Go's `time.Time` binary encoding, version 1 (15 bytes), as the Go vpnham puts
 * it in probes: version 0x01, int64 BE seconds since 0001-01-01T00:00:00Z,
 * int32 BE nanoseconds, int16 BE zone offset in minutes (-1 = UTC).
 */
export const GO_TIME_SIZE = 15;
const VERSION_1 = 1;

/** Seconds from 0001-01-01T00:00:00Z to 1970-01-01T00:00:00Z. */
export const GO_UNIX_TO_INTERNAL_SEC = 62_135_596_800n;
const NS_PER_SEC = 1_000_000_000n;

/** Go's zero time (year 1), expressed as Unix nanoseconds. Marks a request's dst_time. */
export const GO_ZERO_UNIX_NS = -GO_UNIX_TO_INTERNAL_SEC * NS_PER_SEC;

/** Offset Go writes for UTC times (the zero time included). */
export const UTC_OFFSET_MIN = -1;

/**
 * A decoded time that re-encodes to the same 15 bytes: the instant plus the
 * zone offset Go wrote (ignored for arithmetic, kept for byte-exact round trips).
 */
export type GoTime = { readonly unixNs: bigint; readonly offsetMin: number };

export const GO_ZERO_TIME: GoTime = Object.freeze({ unixNs: GO_ZERO_UNIX_NS, offsetMin: UTC_OFFSET_MIN });

export type GoTimeDecoded =
  | { ok: true; unixNs: bigint; zero: boolean; offsetMin: number }
  | { ok: false; reason: "time_version" | "time_range" };

/**
 * Writes 15 bytes at `offset`. `offsetMin` defaults to UTC (-1); pass a decoded
 * value's offsetMin to reproduce captured bytes exactly. Throws RangeError only
 * on programmer error (instant outside int64 seconds, offset outside int16).
 */
export function encodeGoTime(unixNs: bigint, out: Buffer, offset: number, offsetMin: number = UTC_OFFSET_MIN): void {
  // Floor division so the nanosecond part is always 0..999999999, also before 1970.
  let unixSec = unixNs / NS_PER_SEC;
  let nsec = unixNs - unixSec * NS_PER_SEC;
  if (nsec < 0n) {
    nsec += NS_PER_SEC;
    unixSec -= 1n;
  }
  out[offset] = VERSION_1;
  out.writeBigInt64BE(unixSec + GO_UNIX_TO_INTERNAL_SEC, offset + 1);
  out.writeInt32BE(Number(nsec), offset + 9);
  out.writeInt16BE(offsetMin, offset + 13);
}

/** Reads 15 bytes at `offset`; the caller guarantees they are there. */
export function decodeGoTime(buf: Buffer, offset: number): GoTimeDecoded {
  if (buf[offset] !== VERSION_1) return { ok: false, reason: "time_version" };
  const sec = buf.readBigInt64BE(offset + 1);
  const nsec = buf.readInt32BE(offset + 9);
  if (nsec < 0 || nsec > 999_999_999) return { ok: false, reason: "time_range" };
  const offsetMin = buf.readInt16BE(offset + 13);
  return {
    ok: true,
    unixNs: (sec - GO_UNIX_TO_INTERNAL_SEC) * NS_PER_SEC + BigInt(nsec),
    // Go's IsZero looks at seconds and nanoseconds only, never the zone.
    zero: sec === 0n && nsec === 0,
    offsetMin,
  };
}

export function isGoZero(t: GoTime): boolean {
  return t.unixNs === GO_ZERO_UNIX_NS;
}

// Wall clock with sub-millisecond precision: performance.now() is monotonic and
// fine-grained, Date.now() follows the wall clock (NTP steps, suspend). Anchor
// the first on the second, and re-anchor when they disagree by more than ~1 ms.
let anchorMs = performance.timeOrigin;

export function nowUnixNs(): bigint {
  const perfMs = performance.now();
  const wallMs = Date.now(); // truncated to whole ms
  let estimateMs = anchorMs + perfMs;
  if (estimateMs < wallMs - 1 || estimateMs >= wallMs + 2) {
    anchorMs = wallMs + 0.5 - perfMs;
    estimateMs = anchorMs + perfMs;
  }
  const wholeMs = Math.floor(estimateMs);
  return BigInt(wholeMs) * 1_000_000n + BigInt(Math.round((estimateMs - wholeMs) * 1e6));
}

/** RFC 3339 with nanoseconds, UTC `Z` (for logs and tests). */
export function goTimeIso(unixNs: bigint): string {
  let sec = unixNs / NS_PER_SEC;
  let nsec = unixNs - sec * NS_PER_SEC;
  if (nsec < 0n) {
    nsec += NS_PER_SEC;
    sec -= 1n;
  }
  const date = new Date(Number(sec) * 1000);
  if (Number.isNaN(date.getTime())) return `${unixNs}ns`; // beyond what Date can show
  const base = date.toISOString().slice(0, 19);
  return `${base}.${nsec.toString().padStart(9, "0")}Z`;
}
