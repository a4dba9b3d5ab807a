import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  addressData,
  addressOf,
  decodeMessage,
  decodeName,
  DnsWireError,
  encodeMessage,
  encodeName,
  OPCODE,
  RR_CLASS,
  RR_TYPE,
  type Message,
} from "../../src/dns/wire.ts";

const fixture = JSON.parse(readFileSync(new URL("fixtures/bind-update.json", import.meta.url), "utf8")) as Record<string, string>;
const hex = (text: string) => Buffer.from(text, "hex");

const update: Message = {
  id: 0x1234,
  qr: false,
  opcode: OPCODE.UPDATE,
  aa: false,
  tc: false,
  rd: false,
  ra: false,
  rcode: 0,
  questions: [{ name: "example.test", type: RR_TYPE.SOA, class: RR_CLASS.IN }],
  answers: [],
  authorities: [
    { name: "vpn.example.test", type: RR_TYPE.A, class: RR_CLASS.NONE, ttl: 0, data: addressData("192.0.2.2") },
    { name: "vpn.example.test", type: RR_TYPE.AAAA, class: RR_CLASS.IN, ttl: 60, data: addressData("2001:db8::3") },
  ],
  additionals: [],
};

test("wire: an UPDATE encodes and decodes to the same message", () => {
  const decoded = decodeMessage(encodeMessage(update));
  assert.equal(decoded.id, 0x1234);
  assert.equal(decoded.opcode, OPCODE.UPDATE);
  assert.deepEqual(decoded.questions, update.questions);
  assert.deepEqual(
    decoded.authorities.map((rr) => ({ name: rr.name, type: rr.type, class: rr.class, ttl: rr.ttl, address: addressOf(rr) })),
    [
      { name: "vpn.example.test", type: RR_TYPE.A, class: RR_CLASS.NONE, ttl: 0, address: "192.0.2.2" },
      { name: "vpn.example.test", type: RR_TYPE.AAAA, class: RR_CLASS.IN, ttl: 60, address: "2001:db8::3" },
    ],
  );
});

test("wire: nsupdate's message (compressed names) decodes: zone, delete with class NONE, adds, TSIG last", () => {
  const message = decodeMessage(hex(fixture.nsupdateOnly!));
  assert.equal(message.opcode, OPCODE.UPDATE);
  assert.deepEqual(message.questions, [{ name: "example.test", type: RR_TYPE.SOA, class: RR_CLASS.IN }]);
  assert.deepEqual(
    message.authorities.map((rr) => [rr.class, rr.ttl, addressOf(rr)]),
    [
      [RR_CLASS.NONE, 0, "192.0.2.2"],
      [RR_CLASS.IN, 60, "192.0.2.3"],
      [RR_CLASS.IN, 60, "2001:db8::3"],
    ],
  );
  assert.equal(message.additionals[0]?.type, RR_TYPE.TSIG);
  assert.ok(message.tsigOffset !== undefined);
});

test("wire: header flags round-trip", () => {
  const flags = { qr: true, aa: true, tc: true, rd: true, ra: true, rcode: 9, opcode: OPCODE.UPDATE };
  const decoded = decodeMessage(encodeMessage({ ...update, ...flags, authorities: [] }));
  assert.deepEqual({ qr: decoded.qr, aa: decoded.aa, tc: decoded.tc, rd: decoded.rd, ra: decoded.ra, rcode: decoded.rcode, opcode: decoded.opcode }, flags);
});

test("wire: names: labels over 63 bytes and names over 255 bytes are refused both ways", () => {
  assert.throws(() => encodeName(`${"a".repeat(64)}.test`), DnsWireError);
  assert.throws(() => encodeName(Array.from({ length: 5 }, () => "a".repeat(60)).join(".")), DnsWireError);
  assert.deepEqual([...encodeName("")], [0]);
  const long = Buffer.concat([...Array.from({ length: 5 }, () => Buffer.concat([Buffer.from([60]), Buffer.alloc(60, 97)])), Buffer.from([0])]);
  assert.throws(() => decodeName(long, 0), /longer than 255/);
});

test("wire: compression pointers must point backwards (a loop is an error, not a hang)", () => {
  assert.throws(() => decodeName(Buffer.from([0xc0, 0x00]), 0), /backwards/);
  assert.throws(() => decodeName(Buffer.from([0x01, 0x61, 0xc0, 0x02]), 0), /backwards/);
  assert.throws(() => decodeName(Buffer.from([0x01, 0x61, 0xc0, 0x04, 0xc0, 0x00]), 2), /backwards/);
  assert.deepEqual(decodeName(Buffer.from([0x01, 0x61, 0x00, 0x01, 0x62, 0xc0, 0x00]), 3), { name: "b.a", next: 7 });
});

test("wire: counts the message cannot hold, trailing bytes and a TSIG not last are refused", () => {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(0xffff, 6);
  assert.throws(() => decodeMessage(header), /counts exceed/);
  assert.throws(() => decodeMessage(Buffer.concat([encodeMessage(update), Buffer.from([0])])), /after the last record/);
  const tsigFirst: Message = {
    ...update,
    additionals: [
      { name: "k", type: RR_TYPE.TSIG, class: RR_CLASS.ANY, ttl: 0, data: Buffer.alloc(0) },
      { name: "", type: RR_TYPE.OPT, class: 1232, ttl: 0, data: Buffer.alloc(0) },
    ],
  };
  assert.throws(() => decodeMessage(encodeMessage(tsigFirst)), /not the last/);
});

/** Deterministic xorshift so a failure can be reproduced. */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
}

test("wire fuzz: every truncation, random corruptions and random bytes either decode or throw DnsWireError", () => {
  const samples = [hex(fixture.request!), hex(fixture.response!), hex(fixture.nsupdateOnly!), encodeMessage(update)];
  const rand = random(0x5eed);
  let refused = 0;
  const attempt = (bytes: Uint8Array) => {
    try {
      decodeMessage(bytes);
    } catch (error) {
      assert.ok(error instanceof DnsWireError, `not a DnsWireError: ${String(error)}`);
      refused++;
    }
  };
  for (const sample of samples) {
    for (let length = 0; length < sample.length; length++) attempt(sample.subarray(0, length));
    for (let round = 0; round < 2000; round++) {
      const copy = Buffer.from(sample);
      const flips = 1 + Math.floor(rand() * 4);
      for (let i = 0; i < flips; i++) copy[Math.floor(rand() * copy.length)] = Math.floor(rand() * 256);
      attempt(copy);
    }
  }
  for (let round = 0; round < 2000; round++) attempt(Buffer.from(Array.from({ length: Math.floor(rand() * 600) }, () => Math.floor(rand() * 256))));
  attempt(Buffer.alloc(70_000, 0xc0));
  assert.ok(refused > 4000);
});
