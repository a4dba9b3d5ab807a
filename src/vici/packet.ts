/**
 * VICI packets and framing (docs/collectors.md §VICI protocol): every segment on the stream is a
 * 32-bit big-endian length and that many payload bytes (at most 512 KiB); payload byte 0 is the
 * packet type, named types carry a u8-length name, then the message elements. Pure functions and
 * a bounded frame splitter; malformed input is a ViciDecodeError.
 */
import { concatBytes, decodeMessage, encodeMessage, ViciDecodeError, type ViciSection } from "./message.ts";

export const PACKET = {
  CMD_REQUEST: 0,
  CMD_RESPONSE: 1,
  CMD_UNKNOWN: 2,
  EVENT_REGISTER: 3,
  EVENT_UNREGISTER: 4,
  EVENT_CONFIRM: 5,
  EVENT_UNKNOWN: 6,
  EVENT: 7,
} as const;

export type PacketType = (typeof PACKET)[keyof typeof PACKET];

/** charon's own limit on a segment (VICI_MESSAGE_SIZE_MAX). */
export const MAX_SEGMENT_BYTES = 512 * 1024;

export type Packet =
  | { type: typeof PACKET.CMD_REQUEST; name: string; message: ViciSection }
  | { type: typeof PACKET.CMD_RESPONSE; message: ViciSection }
  | { type: typeof PACKET.CMD_UNKNOWN | typeof PACKET.EVENT_CONFIRM | typeof PACKET.EVENT_UNKNOWN }
  | { type: typeof PACKET.EVENT_REGISTER | typeof PACKET.EVENT_UNREGISTER; name: string }
  | { type: typeof PACKET.EVENT; name: string; message: ViciSection };

const named = new Set<number>([PACKET.CMD_REQUEST, PACKET.EVENT_REGISTER, PACKET.EVENT_UNREGISTER, PACKET.EVENT]);
const withMessage = new Set<number>([PACKET.CMD_REQUEST, PACKET.CMD_RESPONSE, PACKET.EVENT]);

/** One segment (length prefix included) carrying `packet`. */
export function encodePacket(packet: Packet): Uint8Array {
  const name = "name" in packet ? new TextEncoder().encode(packet.name) : undefined;
  if (name && (name.length === 0 || name.length > 255)) throw new RangeError("VICI packet name must be 1..255 bytes");
  const body = "message" in packet ? encodeMessage(packet.message) : new Uint8Array(0);
  const payloadLength = 1 + (name ? 1 + name.length : 0) + body.length;
  if (payloadLength > MAX_SEGMENT_BYTES) throw new RangeError(`VICI packet of ${payloadLength} bytes exceeds ${MAX_SEGMENT_BYTES}`);
  const head = new Uint8Array(4 + 1 + (name ? 1 + name.length : 0));
  new DataView(head.buffer).setUint32(0, payloadLength);
  head[4] = packet.type;
  if (name) {
    head[5] = name.length;
    head.set(name, 6);
  }
  return concatBytes([head, body]);
}

/** Decodes one payload (without its length prefix). */
export function decodePacket(payload: Uint8Array): Packet {
  if (payload.length === 0) throw new ViciDecodeError("empty packet");
  const type = payload[0]!;
  if (type > PACKET.EVENT) throw new ViciDecodeError(`unknown packet type ${type}`);
  let pos = 1;
  let name = "";
  if (named.has(type)) {
    if (payload.length < 2) throw new ViciDecodeError("truncated packet name length");
    const length = payload[1]!;
    if (payload.length < 2 + length) throw new ViciDecodeError("truncated packet name");
    name = new TextDecoder().decode(payload.subarray(2, 2 + length));
    pos = 2 + length;
  }
  if (!withMessage.has(type)) {
    if (pos !== payload.length) throw new ViciDecodeError(`packet type ${type} with ${payload.length - pos} unexpected bytes`);
    return (named.has(type) ? { type, name } : { type }) as Packet;
  }
  const message = decodeMessage(payload, pos, payload.length);
  return (named.has(type) ? { type, name, message } : { type, message }) as Packet;
}

/**
 * Splits a byte stream into payloads. Holds at most one partial segment (≤ maxSegmentBytes + 3);
 * a length of 0 or above the limit throws (the stream cannot be resynchronised: close it).
 */
export class FrameSplitter {
  private chunks: Uint8Array[] = [];
  private buffered = 0;

  constructor(private readonly maxSegmentBytes = MAX_SEGMENT_BYTES) {}

  /** Feeds bytes; returns the complete payloads they finish, in order. */
  push(chunk: Uint8Array): Uint8Array[] {
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const out: Uint8Array[] = [];
    for (;;) {
      if (this.buffered < 4) return out;
      const head = this.peek(4);
      const length = new DataView(head.buffer, head.byteOffset, 4).getUint32(0);
      if (length === 0) throw new ViciDecodeError("segment of length 0");
      if (length > this.maxSegmentBytes) throw new ViciDecodeError(`segment of ${length} bytes exceeds ${this.maxSegmentBytes}`);
      if (this.buffered < 4 + length) return out;
      const all = this.take(4 + length);
      out.push(all.subarray(4));
    }
  }

  /** Bytes held of an unfinished segment. */
  get pendingBytes(): number {
    return this.buffered;
  }

  private peek(count: number): Uint8Array {
    if (this.chunks[0]!.length >= count) return this.chunks[0]!.subarray(0, count);
    const joined = concatBytes(this.chunks);
    this.chunks = [joined];
    return joined.subarray(0, count);
  }

  private take(count: number): Uint8Array {
    const first = this.chunks[0]!;
    let taken: Uint8Array;
    if (first.length >= count) {
      taken = first.subarray(0, count);
      if (first.length === count) this.chunks.shift();
      else this.chunks[0] = first.subarray(count);
    } else {
      const joined = concatBytes(this.chunks);
      taken = joined.subarray(0, count);
      this.chunks = joined.length > count ? [joined.subarray(count)] : [];
    }
    this.buffered -= count;
    return taken;
  }
}
