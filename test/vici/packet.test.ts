import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { newSection, ViciDecodeError } from "../../src/vici/message.ts";
import { decodePacket, encodePacket, FrameSplitter, MAX_SEGMENT_BYTES, PACKET, type Packet } from "../../src/vici/packet.ts";
import { fixture, fixtureNames, segment } from "./support.ts";

describe("VICI packets and framing", () => {
  test("every captured payload decodes; named packets keep their names", () => {
    const names = new Map<string, string>();
    for (const file of fixtureNames()) {
      const packet = decodePacket(fixture(file));
      names.set(file, "name" in packet ? packet.name : `type ${packet.type}`);
    }
    assert.equal(names.get("list-conn-event.bin"), "list-conn");
    assert.equal(names.get("child-updown-down.bin"), "child-updown");
    assert.equal(names.get("event-confirm.bin"), `type ${PACKET.EVENT_CONFIRM}`);
    assert.equal(names.get("list-conns-response.bin"), `type ${PACKET.CMD_RESPONSE}`);
  });

  test("encodePacket → FrameSplitter → decodePacket round-trips every packet type", () => {
    const message = Object.assign(newSection(), { noblock: "yes" });
    const packets: Packet[] = [
      { type: PACKET.CMD_REQUEST, name: "list-sas", message },
      { type: PACKET.CMD_RESPONSE, message },
      { type: PACKET.CMD_UNKNOWN },
      { type: PACKET.EVENT_REGISTER, name: "ike-updown" },
      { type: PACKET.EVENT_UNREGISTER, name: "ike-updown" },
      { type: PACKET.EVENT_CONFIRM },
      { type: PACKET.EVENT_UNKNOWN },
      { type: PACKET.EVENT, name: "list-sa", message },
    ];
    const splitter = new FrameSplitter();
    const out = packets.flatMap((p) => splitter.push(encodePacket(p))).map(decodePacket);
    assert.deepEqual(JSON.parse(JSON.stringify(out)), JSON.parse(JSON.stringify(packets)));
  });

  test("the splitter reassembles segments cut at every byte boundary", () => {
    const payloads = ["list-sa-event-5.9.8.bin", "event-confirm.bin", "list-conn-event.bin"].map(fixture);
    const stream = Uint8Array.from(payloads.flatMap((p) => [...segment(p)]));
    for (let cut = 0; cut <= stream.length; cut += 1) {
      const splitter = new FrameSplitter();
      const got = [...splitter.push(stream.subarray(0, cut)), ...splitter.push(stream.subarray(cut))];
      assert.deepEqual(got.map((p) => [...p]), payloads.map((p) => [...p]), `cut at ${cut}`);
      assert.equal(splitter.pendingBytes, 0);
    }
    const oneByOne = new FrameSplitter();
    const got = [...stream].flatMap((b) => oneByOne.push(Uint8Array.of(b)));
    assert.equal(got.length, 3);
  });

  test("a segment longer than the limit or of length 0 is refused before it is buffered", () => {
    const head = new Uint8Array(4);
    new DataView(head.buffer).setUint32(0, MAX_SEGMENT_BYTES + 1);
    assert.throws(() => new FrameSplitter().push(head), ViciDecodeError);
    assert.throws(() => new FrameSplitter().push(new Uint8Array(4)), /length 0/);
    const small = new FrameSplitter(100);
    new DataView(head.buffer).setUint32(0, 101);
    assert.throws(() => small.push(head), /exceeds 100/);
  });

  const bad: [string, number[], RegExp][] = [
    ["empty", [], /empty packet/],
    ["unknown type", [8], /unknown packet type 8/],
    ["name length missing", [PACKET.EVENT], /name length/],
    ["name truncated", [PACKET.EVENT, 5, 0x61], /packet name/],
    ["trailing bytes on EVENT_CONFIRM", [PACKET.EVENT_CONFIRM, 1], /unexpected bytes/],
    ["trailing bytes on EVENT_REGISTER", [PACKET.EVENT_REGISTER, 1, 0x61, 0], /unexpected bytes/],
  ];
  for (const [what, input, message] of bad) {
    test(`decodePacket rejects: ${what}`, () => {
      assert.throws(() => decodePacket(Uint8Array.from(input)), (e: unknown) => e instanceof ViciDecodeError && message.test(e.message));
    });
  }

  test("encodePacket refuses empty names and oversized packets", () => {
    assert.throws(() => encodePacket({ type: PACKET.EVENT_REGISTER, name: "" }), RangeError);
    const huge = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`k${i}`, "v".repeat(65535)]));
    assert.throws(() => encodePacket({ type: PACKET.CMD_REQUEST, name: "x", message: huge }), /exceeds/);
  });
});
