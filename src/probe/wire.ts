/**
 * The 142-byte tunnel probe of the Go vpnham v0.0.18 (docs/protocol.md §Tunnel probe).
 * Pure functions: no sockets, no clocks.
 */
import { decodeGoTime, encodeGoTime, GO_TIME_SIZE, isGoZero, type GoTime } from "./gotime.ts";

export const PROBE_SIZE = 142;
export const UUID_SIZE = 16;
export const LOCATION_SIZE = 36;

const OFF_SEQUENCE = 0;
const OFF_SRC_UUID = 8;
const OFF_SRC_TIME = 24;
const OFF_SRC_LOCATION = 39;
const OFF_DST_UUID = 75;
const OFF_DST_TIME = 91;
const OFF_DST_LOCATION = 106;

export type Probe = {
  /** unsigned 64-bit; first probe of a tunnel is 1 */
  sequence: bigint;
  /** sender's bridge id (16 bytes) */
  srcUuid: Buffer;
  srcTime: GoTime;
  srcLocation: string;
  /** sender's per-tunnel id (16 bytes), echoed unchanged */
  dstUuid: Buffer;
  /** responder's clock; the Go zero time in a request */
  dstTime: GoTime;
  dstLocation: string;
};

/** Why a datagram is not a probe; short and stable, usable as a metric label. */
export type MalformedReason = "size" | "time_version" | "time_range" | "location_utf8";
export const MALFORMED_REASONS: readonly MalformedReason[] = ["size", "time_version", "time_range", "location_utf8"];

export type ProbeDecoded = { ok: true; probe: Probe } | { ok: false; reason: MalformedReason };

const utf8Strict = new TextDecoder("utf-8", { fatal: true });

/**
 * UTF-8 bytes of a location, at most 36, cut on a character boundary so the
 * peer never sees half a character.
 */
export function encodeLocation(location: string): Buffer {
  const bytes = Buffer.from(location, "utf8");
  if (bytes.length <= LOCATION_SIZE) return bytes;
  let end = LOCATION_SIZE;
  // bytes[end] is the first byte dropped; while it continues a character, drop that character too.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

function writeLocation(location: string, out: Buffer, offset: number): void {
  out.fill(0, offset, offset + LOCATION_SIZE);
  encodeLocation(location).copy(out, offset);
}

/** As Go: the bytes up to the first NUL (or all 36). Invalid UTF-8 → undefined. */
function readLocation(buf: Buffer, offset: number): string | undefined {
  let end = offset;
  const limit = offset + LOCATION_SIZE;
  while (end < limit && buf[end] !== 0) end++;
  try {
    return utf8Strict.decode(buf.subarray(offset, end));
  } catch {
    return undefined;
  }
}

function writeUuid(uuid: Buffer, out: Buffer, offset: number): void {
  if (uuid.length !== UUID_SIZE) throw new RangeError(`uuid must be ${UUID_SIZE} bytes, got ${uuid.length}`);
  uuid.copy(out, offset);
}

/** Throws only on programmer error (uuid not 16 bytes, sequence outside u64). */
export function encodeProbe(p: Probe): Buffer {
  const out = Buffer.alloc(PROBE_SIZE);
  out.writeBigUInt64LE(p.sequence, OFF_SEQUENCE);
  writeUuid(p.srcUuid, out, OFF_SRC_UUID);
  encodeGoTime(p.srcTime.unixNs, out, OFF_SRC_TIME, p.srcTime.offsetMin);
  writeLocation(p.srcLocation, out, OFF_SRC_LOCATION);
  writeUuid(p.dstUuid, out, OFF_DST_UUID);
  encodeGoTime(p.dstTime.unixNs, out, OFF_DST_TIME, p.dstTime.offsetMin);
  writeLocation(p.dstLocation, out, OFF_DST_LOCATION);
  return out;
}

/** Never throws, whatever the bytes. */
export function decodeProbe(buf: Buffer): ProbeDecoded {
  if (buf.length !== PROBE_SIZE) return { ok: false, reason: "size" };
  const srcTime = decodeGoTime(buf, OFF_SRC_TIME);
  if (!srcTime.ok) return srcTime;
  const dstTime = decodeGoTime(buf, OFF_DST_TIME);
  if (!dstTime.ok) return dstTime;
  const srcLocation = readLocation(buf, OFF_SRC_LOCATION);
  const dstLocation = readLocation(buf, OFF_DST_LOCATION);
  if (srcLocation === undefined || dstLocation === undefined) return { ok: false, reason: "location_utf8" };
  return {
    ok: true,
    probe: {
      sequence: buf.readBigUInt64LE(OFF_SEQUENCE),
      // Copies: the caller may keep them longer than the datagram buffer lives.
      srcUuid: Buffer.from(buf.subarray(OFF_SRC_UUID, OFF_SRC_UUID + UUID_SIZE)),
      srcTime: { unixNs: srcTime.unixNs, offsetMin: srcTime.offsetMin },
      srcLocation,
      dstUuid: Buffer.from(buf.subarray(OFF_DST_UUID, OFF_DST_UUID + UUID_SIZE)),
      dstTime: { unixNs: dstTime.unixNs, offsetMin: dstTime.offsetMin },
      dstLocation,
    },
  };
}

/** A request is a probe whose dst_time is Go's zero time. */
export function isRequest(p: Probe): boolean {
  return isGoZero(p.dstTime);
}

/** isRequest on raw bytes, without decoding the rest: false for anything too short or malformed there. */
export function isRequestDatagram(buf: Buffer): boolean {
  if (buf.length < OFF_DST_TIME + GO_TIME_SIZE) return false;
  const dstTime = decodeGoTime(buf, OFF_DST_TIME);
  return dstTime.ok && isGoZero(dstTime);
}

/**
 * The responder's answer: bytes 0..90 exactly as received, dst_time = now,
 * dst_location = ours. The zone offset defaults to UTC (-1); Go writes 0 for its
 * Local zone, decoders ignore it, tests pass 0 to reproduce Go's bytes.
 * Throws RangeError if the request is not PROBE_SIZE bytes (decode it first).
 */
export function makeReply(request: Buffer, nowUnixNs: bigint, ownLocation: string, offsetMin?: number): Buffer {
  if (request.length !== PROBE_SIZE) throw new RangeError(`probe must be ${PROBE_SIZE} bytes, got ${request.length}`);
  const reply = Buffer.allocUnsafe(PROBE_SIZE);
  request.copy(reply, 0, 0, OFF_DST_TIME);
  encodeGoTime(nowUnixNs, reply, OFF_DST_TIME, offsetMin);
  writeLocation(ownLocation, reply, OFF_DST_LOCATION);
  return reply;
}

// Offsets exported for tests and for an authenticated extension that appends a MAC.
export const PROBE_LAYOUT = Object.freeze({
  sequence: OFF_SEQUENCE,
  srcUuid: OFF_SRC_UUID,
  srcTime: OFF_SRC_TIME,
  srcLocation: OFF_SRC_LOCATION,
  dstUuid: OFF_DST_UUID,
  dstTime: OFF_DST_TIME,
  dstLocation: OFF_DST_LOCATION,
  timeSize: GO_TIME_SIZE,
});
