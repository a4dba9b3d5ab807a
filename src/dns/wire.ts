/**
 * The DNS message format (RFC 1035 §4, RFC 2136 §2 for UPDATE), enough for queries and dynamic
 * updates (docs/dns-failover.md §RFC 2136). Encoding never compresses names; decoding follows
 * compression pointers backwards only, checks every length against the buffer, and throws
 * DnsWireError on anything malformed — it never reads past the end, loops or allocates more
 * than the input's size.
 */
import { formatIp, parseIp } from "../config/address.ts";

export const RR_TYPE = { A: 1, NS: 2, CNAME: 5, SOA: 6, AAAA: 28, OPT: 41, TSIG: 250, ANY: 255 } as const;
export const RR_CLASS = { IN: 1, NONE: 254, ANY: 255 } as const;
export const OPCODE = { QUERY: 0, UPDATE: 5 } as const;

const RCODE_NAMES: Record<number, string> = {
  0: "NOERROR",
  1: "FORMERR",
  2: "SERVFAIL",
  3: "NXDOMAIN",
  4: "NOTIMP",
  5: "REFUSED",
  6: "YXDOMAIN",
  7: "YXRRSET",
  8: "NXRRSET",
  9: "NOTAUTH",
  10: "NOTZONE",
  16: "BADSIG",
  17: "BADKEY",
  18: "BADTIME",
  22: "BADTRUNC",
};

export function rcodeName(rcode: number): string {
  return RCODE_NAMES[rcode] ?? `RCODE${rcode}`;
}

export class DnsWireError extends Error {
  override name = "DnsWireError";
}

export interface Question {
  readonly name: string;
  readonly type: number;
  readonly class: number;
}

export interface ResourceRecord {
  readonly name: string;
  readonly type: number;
  readonly class: number;
  readonly ttl: number;
  readonly data: Uint8Array;
  /** Decoded messages: where `data` starts in the message (names inside rdata may point back). */
  readonly dataOffset?: number;
}

export interface Header {
  readonly id: number;
  readonly qr: boolean;
  readonly opcode: number;
  readonly aa: boolean;
  readonly tc: boolean;
  readonly rd: boolean;
  readonly ra: boolean;
  readonly rcode: number;
}

/** For UPDATE: questions = zone, answers = prerequisites, authorities = updates. */
export interface Message extends Header {
  readonly questions: readonly Question[];
  readonly answers: readonly ResourceRecord[];
  readonly authorities: readonly ResourceRecord[];
  readonly additionals: readonly ResourceRecord[];
}

export interface DecodedMessage extends Message {
  /** Offset of the last additional record when it is a TSIG, else undefined. */
  readonly tsigOffset?: number;
}

export const MAX_NAME_WIRE_BYTES = 255;

/** A name in wire form, uncompressed; case kept. "" and "." are the root. */
export function encodeName(name: string): Buffer {
  const trimmed = name.replace(/\.$/, "");
  const parts: Buffer[] = [];
  if (trimmed !== "") {
    for (const label of trimmed.split(".")) {
      const bytes = Buffer.from(label, "utf8");
      if (bytes.length === 0 || bytes.length > 63) throw new DnsWireError(`label ${JSON.stringify(label)} of ${JSON.stringify(name)} is not 1..63 bytes`);
      parts.push(Buffer.from([bytes.length]), bytes);
    }
  }
  parts.push(Buffer.from([0]));
  const wire = Buffer.concat(parts);
  if (wire.length > MAX_NAME_WIRE_BYTES) throw new DnsWireError(`name ${JSON.stringify(name.slice(0, 40))}… is longer than 255 bytes`);
  return wire;
}

function u16(value: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(value);
  return b;
}

function encodeRecord(rr: ResourceRecord): Buffer {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(rr.type, 0);
  fixed.writeUInt16BE(rr.class, 2);
  fixed.writeUInt32BE(rr.ttl >>> 0, 4);
  if (rr.data.length > 0xffff) throw new DnsWireError("record data longer than 65535 bytes");
  fixed.writeUInt16BE(rr.data.length, 8);
  return Buffer.concat([encodeName(rr.name), fixed, rr.data]);
}

export function encodeHeader(h: Header, counts: readonly [number, number, number, number]): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt16BE(h.id & 0xffff, 0);
  const flags = (h.qr ? 0x8000 : 0) | ((h.opcode & 0xf) << 11) | (h.aa ? 0x400 : 0) | (h.tc ? 0x200 : 0) | (h.rd ? 0x100 : 0) | (h.ra ? 0x80 : 0) | (h.rcode & 0xf);
  b.writeUInt16BE(flags, 2);
  counts.forEach((count, i) => b.writeUInt16BE(count, 4 + 2 * i));
  return b;
}

export function encodeMessage(m: Message): Buffer {
  const counts = [m.questions.length, m.answers.length, m.authorities.length, m.additionals.length] as const;
  if (counts.some((c) => c > 0xffff)) throw new DnsWireError("too many records");
  const questions = m.questions.map((q) => Buffer.concat([encodeName(q.name), u16(q.type), u16(q.class)]));
  return Buffer.concat([encodeHeader(m, counts), ...questions, ...[...m.answers, ...m.authorities, ...m.additionals].map(encodeRecord)]);
}

/** Reads a possibly compressed name at `offset`; returns it (lower case kept as sent) and the offset after it. */
export function decodeName(buf: Uint8Array, offset: number): { name: string; next: number } {
  const labels: string[] = [];
  let pos = offset;
  let next = -1;
  let wireBytes = 1;
  for (let hops = 0; ; ) {
    if (pos >= buf.length) throw new DnsWireError("name runs past the end of the message");
    const len = buf[pos]!;
    if (len === 0) {
      if (next < 0) next = pos + 1;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      if (pos + 1 >= buf.length) throw new DnsWireError("compression pointer runs past the end");
      const target = ((len & 0x3f) << 8) | buf[pos + 1]!;
      // Only backwards, and each hop strictly further back: no loops, bounded work.
      if (target >= pos || ++hops > 127) throw new DnsWireError("compression pointer does not point backwards");
      if (next < 0) next = pos + 2;
      pos = target;
      continue;
    }
    if ((len & 0xc0) !== 0) throw new DnsWireError(`unknown label type 0x${len.toString(16)}`);
    if (pos + 1 + len > buf.length) throw new DnsWireError("label runs past the end of the message");
    wireBytes += len + 1;
    if (wireBytes > MAX_NAME_WIRE_BYTES) throw new DnsWireError("name longer than 255 bytes");
    labels.push(Buffer.from(buf.subarray(pos + 1, pos + 1 + len)).toString("latin1"));
    pos += 1 + len;
  }
  return { name: labels.join("."), next };
}

function need(buf: Uint8Array, offset: number, bytes: number, what: string): void {
  if (offset + bytes > buf.length) throw new DnsWireError(`${what} runs past the end of the message`);
}

const view = (buf: Uint8Array) => new DataView(buf.buffer, buf.byteOffset, buf.byteLength);

export function decodeMessage(input: Uint8Array): DecodedMessage {
  const buf = input;
  need(buf, 0, 12, "header");
  const dv = view(buf);
  const flags = dv.getUint16(2);
  const counts = [dv.getUint16(4), dv.getUint16(6), dv.getUint16(8), dv.getUint16(10)] as const;
  // Each question takes ≥ 5 bytes and each record ≥ 11: refuse counts the buffer cannot hold.
  if (counts[0] * 5 + (counts[1] + counts[2] + counts[3]) * 11 > buf.length - 12) throw new DnsWireError("record counts exceed the message size");
  let pos = 12;
  const questions: Question[] = [];
  for (let i = 0; i < counts[0]; i++) {
    const { name, next } = decodeName(buf, pos);
    need(buf, next, 4, "question");
    questions.push({ name, type: dv.getUint16(next), class: dv.getUint16(next + 2) });
    pos = next + 4;
  }
  const sections: ResourceRecord[][] = [[], [], []];
  let tsigOffset: number | undefined;
  for (const [index, section] of sections.entries()) {
    for (let i = 0; i < counts[index + 1]!; i++) {
      const start = pos;
      const { name, next } = decodeName(buf, pos);
      need(buf, next, 10, "record header");
      const length = dv.getUint16(next + 8);
      need(buf, next + 10, length, "record data");
      const rr: ResourceRecord = {
        name,
        type: dv.getUint16(next),
        class: dv.getUint16(next + 2),
        ttl: dv.getUint32(next + 4),
        data: buf.subarray(next + 10, next + 10 + length),
        dataOffset: next + 10,
      };
      section.push(rr);
      pos = next + 10 + length;
      if (index === 2 && rr.type === RR_TYPE.TSIG) {
        if (i !== counts[3] - 1) throw new DnsWireError("TSIG is not the last record");
        tsigOffset = start;
      }
    }
  }
  if (pos !== buf.length) throw new DnsWireError(`${buf.length - pos} bytes after the last record`);
  return {
    id: dv.getUint16(0),
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    aa: (flags & 0x400) !== 0,
    tc: (flags & 0x200) !== 0,
    rd: (flags & 0x100) !== 0,
    ra: (flags & 0x80) !== 0,
    rcode: flags & 0xf,
    questions,
    answers: sections[0]!,
    authorities: sections[1]!,
    additionals: sections[2]!,
    ...(tsigOffset === undefined ? {} : { tsigOffset }),
  };
}

/** The address an A (4 bytes) or AAAA (16 bytes) record holds, canonical; undefined for other sizes. */
export function addressOf(rr: ResourceRecord): string | undefined {
  if (rr.type === RR_TYPE.A && rr.data.length === 4) return formatIp({ family: 4, bytes: [...rr.data] });
  if (rr.type === RR_TYPE.AAAA && rr.data.length === 16) return formatIp({ family: 6, bytes: [...rr.data] });
  return undefined;
}

/** The rdata of an A or AAAA record for an address literal. */
export function addressData(address: string): Buffer {
  const ip = parseIp(address);
  if (!ip) throw new DnsWireError(`${JSON.stringify(address)} is not an IP address`);
  return Buffer.from(ip.bytes);
}

/** Lower-case name equality (DNS names compare case-insensitively), trailing dots ignored. */
export function sameName(a: string, b: string): boolean {
  return a.replace(/\.$/, "").toLowerCase() === b.replace(/\.$/, "").toLowerCase();
}
