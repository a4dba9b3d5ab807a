/**
 * TSIG (RFC 8945), docs/dns-failover.md §RFC 2136: requests are signed with an HMAC over the
 * message and the TSIG variables; an answer counts only when its own MAC — which covers our
 * request's MAC, so it cannot be replayed to another request — verifies with the same key.
 * A truncated MAC is refused.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { decodeName, DnsWireError, encodeName, RR_CLASS, RR_TYPE, rcodeName, type DecodedMessage } from "./wire.ts";

export const TSIG_ALGORITHMS = ["hmac-sha256", "hmac-sha384", "hmac-sha512", "hmac-sha224", "hmac-sha1"] as const;
export type TsigAlgorithm = (typeof TSIG_ALGORITHMS)[number];
const HASH: Record<TsigAlgorithm, string> = {
  "hmac-sha1": "sha1",
  "hmac-sha224": "sha224",
  "hmac-sha256": "sha256",
  "hmac-sha384": "sha384",
  "hmac-sha512": "sha512",
};
const HASH_BYTES: Record<TsigAlgorithm, number> = { "hmac-sha1": 20, "hmac-sha224": 28, "hmac-sha256": 32, "hmac-sha384": 48, "hmac-sha512": 64 };

export interface TsigKey {
  /** As the server knows it; compared case-insensitively. */
  readonly name: string;
  readonly algorithm: TsigAlgorithm;
  readonly secret: Buffer;
}

/** Seconds of clock difference we and the server accept (BIND's and Knot's default). */
export const TSIG_FUDGE_S = 300;

const canonical = (name: string) => encodeName(name.toLowerCase());

function timeBytes(timeSignedS: number): Buffer {
  const b = Buffer.alloc(6);
  b.writeUIntBE(timeSignedS, 0, 6);
  return b;
}

/** RFC 8945 §4.3.3: the TSIG variables the MAC covers. */
function variables(key: TsigKey, timeSignedS: number, fudgeS: number, error: number, other: Uint8Array): Buffer {
  const fixed = Buffer.alloc(6);
  fixed.writeUInt16BE(RR_CLASS.ANY, 0);
  fixed.writeUInt32BE(0, 2);
  const tail = Buffer.alloc(6);
  tail.writeUInt16BE(fudgeS, 0);
  tail.writeUInt16BE(error, 2);
  tail.writeUInt16BE(other.length, 4);
  return Buffer.concat([canonical(key.name), fixed, canonical(key.algorithm), timeBytes(timeSignedS), tail, other]);
}

function computeMac(key: TsigKey, parts: Uint8Array[]): Buffer {
  const h = createHmac(HASH[key.algorithm], key.secret);
  for (const part of parts) h.update(part);
  return h.digest();
}

function priorMac(requestMac: Buffer | undefined): Uint8Array[] {
  if (!requestMac) return [];
  const length = Buffer.alloc(2);
  length.writeUInt16BE(requestMac.length);
  return [length, requestMac];
}

export interface Signed {
  /** The message with the TSIG record appended (ARCOUNT + 1). */
  readonly wire: Buffer;
  /** Our MAC: an answer's MAC covers it. */
  readonly mac: Buffer;
}

/** Signs an encoded message (no TSIG in it yet). `requestMac` only when signing an answer. */
export function signMessage(message: Buffer, key: TsigKey, timeSignedS: number, options: { fudgeS?: number; requestMac?: Buffer } = {}): Signed {
  if (message.length < 12) throw new DnsWireError("message shorter than its header");
  const fudgeS = options.fudgeS ?? TSIG_FUDGE_S;
  const other = Buffer.alloc(0);
  const mac = computeMac(key, [...priorMac(options.requestMac), message, variables(key, timeSignedS, fudgeS, 0, other)]);
  const rdataTail = Buffer.alloc(6);
  rdataTail.writeUInt16BE(message.readUInt16BE(0), 0); // original id; error 0; other len 0
  const fudgeAndSize = Buffer.alloc(4);
  fudgeAndSize.writeUInt16BE(fudgeS, 0);
  fudgeAndSize.writeUInt16BE(mac.length, 2);
  const rdata = Buffer.concat([canonical(key.algorithm), timeBytes(timeSignedS), fudgeAndSize, mac, rdataTail]);
  const rrFixed = Buffer.alloc(10);
  rrFixed.writeUInt16BE(RR_TYPE.TSIG, 0);
  rrFixed.writeUInt16BE(RR_CLASS.ANY, 2);
  rrFixed.writeUInt32BE(0, 4);
  rrFixed.writeUInt16BE(rdata.length, 8);
  const wire = Buffer.concat([message, canonical(key.name), rrFixed, rdata]);
  wire.writeUInt16BE(message.readUInt16BE(10) + 1, 10);
  return { wire, mac };
}

export interface TsigRecord {
  readonly keyName: string;
  readonly algorithm: string;
  readonly timeSignedS: number;
  readonly fudgeS: number;
  readonly mac: Buffer;
  readonly originalId: number;
  readonly error: number;
  readonly other: Buffer;
}

/** The TSIG record of a decoded message, or undefined when it has none. Throws on a malformed one. */
export function tsigRecordOf(raw: Uint8Array, message: DecodedMessage): TsigRecord | undefined {
  if (message.tsigOffset === undefined) return undefined;
  const rr = message.additionals[message.additionals.length - 1]!;
  const start = rr.dataOffset!;
  const end = start + rr.data.length;
  const { name: algorithm, next } = decodeName(raw, start);
  if (next > end) throw new DnsWireError("TSIG algorithm runs past its record");
  const b = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  if (next + 10 > end) throw new DnsWireError("TSIG record too short");
  const timeSignedS = b.readUIntBE(next, 6);
  const fudgeS = b.readUInt16BE(next + 6);
  const macSize = b.readUInt16BE(next + 8);
  const macEnd = next + 10 + macSize;
  if (macEnd + 6 > end) throw new DnsWireError("TSIG MAC runs past its record");
  const otherLength = b.readUInt16BE(macEnd + 4);
  if (macEnd + 6 + otherLength !== end) throw new DnsWireError("TSIG other data does not fill its record");
  return {
    keyName: rr.name,
    algorithm,
    timeSignedS,
    fudgeS,
    mac: Buffer.from(b.subarray(next + 10, macEnd)),
    originalId: b.readUInt16BE(macEnd),
    error: b.readUInt16BE(macEnd + 2),
    other: Buffer.from(b.subarray(macEnd + 6, end)),
  };
}

export type TsigVerdict = { ok: true; mac: Buffer } | { ok: false; error: string };

/**
 * Verifies a message's TSIG with `key`: a request (no requestMac) or the answer to our request
 * (its MAC). Refuses: no TSIG, another key or algorithm, a TSIG error, a MAC of another size, a
 * wrong MAC, a time outside the fudge.
 */
export function verifyMessage(raw: Uint8Array, message: DecodedMessage, key: TsigKey, nowS: number, requestMac?: Buffer): TsigVerdict {
  let tsig: TsigRecord | undefined;
  try {
    tsig = tsigRecordOf(raw, message);
  } catch (error) {
    return { ok: false, error: `malformed TSIG: ${(error as Error).message}` };
  }
  if (!tsig) return { ok: false, error: `the answer is not signed (${rcodeName(message.rcode)})` };
  if (tsig.keyName.toLowerCase() !== key.name.toLowerCase().replace(/\.$/, "")) return { ok: false, error: `signed with another key (${tsig.keyName})` };
  if (tsig.algorithm.toLowerCase() !== key.algorithm) return { ok: false, error: `signed with another algorithm (${tsig.algorithm})` };
  if (tsig.error !== 0) return { ok: false, error: `${rcodeName(message.rcode)} (${rcodeName(tsig.error)})` };
  const expected = HASH_BYTES[key.algorithm];
  if (tsig.mac.length !== expected) return { ok: false, error: `MAC of ${tsig.mac.length} bytes (expected ${expected})` };
  const unsigned = Buffer.from(raw.subarray(0, message.tsigOffset));
  unsigned.writeUInt16BE(tsig.originalId, 0);
  unsigned.writeUInt16BE(unsigned.readUInt16BE(10) - 1, 10);
  const mac = computeMac(key, [...priorMac(requestMac), unsigned, variables(key, tsig.timeSignedS, tsig.fudgeS, tsig.error, tsig.other)]);
  if (!timingSafeEqual(mac, tsig.mac)) return { ok: false, error: "the MAC does not verify (another secret?)" };
  if (Math.abs(nowS - tsig.timeSignedS) > tsig.fudgeS) return { ok: false, error: `signed at ${tsig.timeSignedS}, ${nowS - tsig.timeSignedS} s from our clock (fudge ${tsig.fudgeS} s)` };
  return { ok: true, mac };
}

/**
 * The secret of a key from a file's text: plain base64, or the `secret "…";` of a BIND key file
 * (tsig-keygen, rndc-confgen) or a Knot `key:` block. Undefined when none is found.
 */
export function tsigSecretFromText(text: string): Buffer | undefined {
  const quoted = /secret\s*:?\s*"?([A-Za-z0-9+/=]+)"?\s*;?/.exec(text);
  const candidate = quoted ? quoted[1]! : text.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(candidate) || candidate.length % 4 !== 0) return undefined;
  const secret = Buffer.from(candidate, "base64");
  return secret.length > 0 ? secret : undefined;
}
