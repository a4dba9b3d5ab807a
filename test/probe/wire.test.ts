import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fixtureJson from "./fixtures/go-vpnham-0.0.18-probes.json" with { type: "json" };
import { GO_ZERO_TIME, goTimeIso } from "../../src/probe/gotime.ts";
import {
  decodeProbe,
  encodeLocation,
  encodeProbe,
  isRequest,
  makeReply,
  PROBE_SIZE,
  type Probe,
} from "../../src/probe/wire.ts";

type FixtureTime = { version: 1; zero?: true; unix_seconds?: number; nanoseconds?: number; offset_min: number; iso?: string };
type FixtureDecoded = {
  sequence: number;
  src_uuid: string;
  src_time: FixtureTime;
  src_location: string;
  dst_uuid: string;
  dst_time: FixtureTime;
  dst_location: string;
};
type FixtureDatagram = { hex: string; decoded: FixtureDecoded };
const fixture = fixtureJson as unknown as { requests_sent_by_go: FixtureDatagram[]; request_sent_to_go: FixtureDatagram; reply_from_go: FixtureDatagram };

const all: [string, FixtureDatagram][] = [
  ...fixture.requests_sent_by_go.map((d, i): [string, FixtureDatagram] => [`requests_sent_by_go[${i}]`, d]),
  ["request_sent_to_go", fixture.request_sent_to_go],
  ["reply_from_go", fixture.reply_from_go],
];

function checkTime(actual: Probe["srcTime"], expected: FixtureTime): void {
  assert.equal(actual.offsetMin, expected.offset_min);
  if (expected.zero) {
    assert.equal(actual.unixNs, GO_ZERO_TIME.unixNs);
    return;
  }
  assert.equal(actual.unixNs, BigInt(expected.unix_seconds!) * 1_000_000_000n + BigInt(expected.nanoseconds!));
  assert.equal(goTimeIso(actual.unixNs), expected.iso);
}

function sampleProbe(): Probe {
  return {
    sequence: 0xfedcba9876543210n,
    srcUuid: Buffer.alloc(16, 1),
    srcTime: { unixNs: 1_795_238_038_094_163_417n, offsetMin: -1 },
    srcLocation: "right/active",
    dstUuid: Buffer.alloc(16, 2),
    dstTime: GO_ZERO_TIME,
    dstLocation: "",
  };
}

describe("probe wire format against Go v0.0.18 captures", () => {
  for (const [name, datagram] of all) {
    test(`${name}: decodes to the fixture values and re-encodes byte for byte`, () => {
      const bytes = Buffer.from(datagram.hex, "hex");
      assert.equal(bytes.length, PROBE_SIZE);
      const r = decodeProbe(bytes);
      assert.ok(r.ok, r.ok ? "" : r.reason);
      const p = r.probe;
      const want = datagram.decoded;
      assert.equal(p.sequence, BigInt(want.sequence));
      assert.equal(p.srcUuid.toString("hex"), want.src_uuid);
      assert.equal(p.dstUuid.toString("hex"), want.dst_uuid);
      assert.equal(p.srcLocation, want.src_location);
      assert.equal(p.dstLocation, want.dst_location);
      checkTime(p.srcTime, want.src_time);
      checkTime(p.dstTime, want.dst_time);
      assert.equal(isRequest(p), want.dst_time.zero === true);
      assert.equal(encodeProbe(p).toString("hex"), datagram.hex);
    });
  }

  test("makeReply on request_sent_to_go with Go's reply time reproduces Go's reply", () => {
    const request = Buffer.from(fixture.request_sent_to_go.hex, "hex");
    const goReply = decodeProbe(Buffer.from(fixture.reply_from_go.hex, "hex"));
    assert.ok(goReply.ok);
    const reply = makeReply(request, goReply.probe.dstTime.unixNs, "left/active", goReply.probe.dstTime.offsetMin);
    assert.equal(reply.toString("hex"), fixture.reply_from_go.hex);
    // Default zone offset is UTC: only bytes 104..105 differ.
    const utc = makeReply(request, goReply.probe.dstTime.unixNs, "left/active");
    assert.equal(utc.subarray(104, 106).toString("hex"), "ffff");
    assert.equal(utc.subarray(0, 104).toString("hex"), reply.subarray(0, 104).toString("hex"));
  });
});

describe("probe wire format", () => {
  test("sequence is little-endian u64 and round-trips", () => {
    const p = sampleProbe();
    const bytes = encodeProbe(p);
    assert.equal(bytes.subarray(0, 8).toString("hex"), "1032547698badcfe");
    const r = decodeProbe(bytes);
    assert.ok(r.ok);
    assert.deepEqual(r.probe, p);
    assert.ok(isRequest(r.probe));
  });

  test("makeReply copies bytes 0..90 and fills dst fields; not a request any more", () => {
    const request = encodeProbe(sampleProbe());
    const reply = makeReply(request, 1_000_000_001n, "left/standby");
    assert.deepEqual(reply.subarray(0, 91), request.subarray(0, 91));
    const r = decodeProbe(reply);
    assert.ok(r.ok);
    assert.equal(isRequest(r.probe), false);
    assert.equal(r.probe.dstTime.unixNs, 1_000_000_001n);
    assert.equal(r.probe.dstLocation, "left/standby");
    assert.throws(() => makeReply(Buffer.alloc(141), 0n, "x"), RangeError);
  });

  test("a location over 36 bytes is cut on a UTF-8 boundary", () => {
    assert.equal(encodeLocation("a".repeat(40)).length, 36);
    // 35 ASCII + a 2-byte char straddling byte 36: the whole char goes.
    assert.equal(encodeLocation("a".repeat(35) + "é").toString(), "a".repeat(35));
    // 34 ASCII + "é" fits exactly in 36.
    assert.equal(encodeLocation("a".repeat(34) + "éx").toString(), "a".repeat(34) + "é");
    // 4-byte chars: 9 fit exactly; the 10th is dropped whole.
    assert.equal(encodeLocation("😀".repeat(10)).toString(), "😀".repeat(9));
    assert.equal(encodeLocation("a" + "😀".repeat(9)).toString(), "a" + "😀".repeat(8));
    const reply = makeReply(encodeProbe(sampleProbe()), 1n, "ü".repeat(20));
    const r = decodeProbe(reply);
    assert.ok(r.ok);
    assert.equal(r.probe.dstLocation, "ü".repeat(18));
  });

  test("location ends at the first NUL, as in Go", () => {
    const bytes = encodeProbe({ ...sampleProbe(), srcLocation: "abc" });
    bytes[39 + 5] = 0x41; // garbage after the NUL is ignored
    const r = decodeProbe(bytes);
    assert.ok(r.ok);
    assert.equal(r.probe.srcLocation, "abc");
    const full = encodeProbe({ ...sampleProbe(), srcLocation: "x".repeat(36) });
    const f = decodeProbe(full);
    assert.ok(f.ok);
    assert.equal(f.probe.srcLocation, "x".repeat(36));
  });

  test("malformed datagrams give stable reasons and never throw", () => {
    const good = encodeProbe(sampleProbe());
    for (const size of [0, 1, 141, 143, 2000]) {
      assert.deepEqual(decodeProbe(Buffer.alloc(size)), { ok: false, reason: "size" });
    }
    const badSrcVersion = Buffer.from(good);
    badSrcVersion[24] = 2;
    assert.deepEqual(decodeProbe(badSrcVersion), { ok: false, reason: "time_version" });
    const badDstVersion = Buffer.from(good);
    badDstVersion[91] = 0;
    assert.deepEqual(decodeProbe(badDstVersion), { ok: false, reason: "time_version" });
    const badNs = Buffer.from(good);
    badNs.writeInt32BE(-5, 91 + 9);
    assert.deepEqual(decodeProbe(badNs), { ok: false, reason: "time_range" });
    const badUtf8 = Buffer.from(good);
    badUtf8[106] = 0xc3; // a lead byte with no continuation
    assert.deepEqual(decodeProbe(badUtf8), { ok: false, reason: "location_utf8" });
    assert.deepEqual(decodeProbe(Buffer.alloc(PROBE_SIZE)), { ok: false, reason: "time_version" });
  });

  test("random bytes never throw", () => {
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff);
    for (let i = 0; i < 2000; i++) {
      const b = Buffer.alloc(PROBE_SIZE);
      for (let j = 0; j < PROBE_SIZE; j++) b[j] = rnd();
      if (i % 2) {
        b[24] = 1;
        b[91] = 1;
      }
      const r = decodeProbe(b);
      if (r.ok) assert.equal(encodeProbe(r.probe).subarray(0, 39).toString("hex"), b.subarray(0, 39).toString("hex"));
    }
  });

  test("encodeProbe refuses a uuid that is not 16 bytes", () => {
    assert.throws(() => encodeProbe({ ...sampleProbe(), srcUuid: Buffer.alloc(15) }), RangeError);
  });
});
