// Property tests of the probe decoder and the reply builder: any bytes in,
// never a throw, and a reason that an independent oracle agrees with.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { decodeProbe, encodeLocation, encodeProbe, isRequest, makeReply, MALFORMED_REASONS, PROBE_SIZE } from "../../src/probe/wire.ts";
import { mutated, oracle, prng, randomLocation, randomProbe, randomUnixNs, testSeed } from "./support.ts";

const seed = testSeed();
const MAX_UDP4_PAYLOAD = 65507;
describe(`probe decoder properties (seed ${seed}; rerun with VPNHAM_FUZZ_SEED=${seed})`, () => {
  test("every wrong size 0..141, 143..4096 and samples up to 65507 bytes: reason size, no throw", () => {
    const r = prng(seed);
    const lengths = [...Array.from({ length: 142 }, (_, i) => i), ...Array.from({ length: 4096 - 142 }, (_, i) => 143 + i)];
    for (let i = 0; i < 64; i++) lengths.push(r.int(4097, MAX_UDP4_PAYLOAD));
    lengths.push(MAX_UDP4_PAYLOAD, 65535, 284, 141, 143);
    for (const n of lengths) {
      const result = decodeProbe(r.bytes(n));
      assert.deepEqual(result, { ok: false, reason: "size" }, `length ${n}`);
    }
  });

  test("random and mutated 142-byte datagrams: never throws, agrees with the oracle", () => {
    const r = prng(seed + 1);
    const seen = new Map<string, number>();
    for (let i = 0; i < 30_000; i++) {
      const buf = i % 3 === 0 ? r.bytes(PROBE_SIZE) : mutated(r);
      const copy = Buffer.from(buf);
      const result = decodeProbe(buf);
      const expected = oracle(copy);
      const got = result.ok ? "ok" : result.reason;
      assert.equal(got, expected, `datagram ${copy.toString("hex")}`);
      assert.ok(result.ok || MALFORMED_REASONS.includes(result.reason));
      assert.deepEqual(buf, copy, "the decoder never writes to its input");
      seen.set(got, (seen.get(got) ?? 0) + 1);
      if (result.ok) {
        // Decoding what we encode from a decoded probe gives the same probe (idempotent).
        const again = decodeProbe(encodeProbe(result.probe));
        assert.ok(again.ok);
        assert.deepEqual(again.probe, result.probe);
      }
    }
    // The generator must reach every branch, or the test proves little.
    for (const reason of ["ok", ...MALFORMED_REASONS.filter((x) => x !== "size")]) {
      assert.ok((seen.get(reason) ?? 0) > 0, `no case reached ${reason}: ${JSON.stringify([...seen])}`);
    }
  });

  test("every time version byte other than 1, in src_time and dst_time: reason time_version", () => {
    const r = prng(seed + 2);
    for (const at of [24, 91]) {
      for (let version = 0; version < 256; version++) {
        if (version === 1) continue;
        const buf = encodeProbe(randomProbe(r, at === 24));
        buf[at] = version;
        assert.deepEqual(decodeProbe(buf), { ok: false, reason: "time_version" }, `byte ${at} = ${version}`);
      }
    }
  });

  test("nanoseconds outside 0..999999999 and invalid UTF-8 locations are refused", () => {
    const r = prng(seed + 3);
    for (const nsec of [-1, -2147483648, 1_000_000_000, 2147483647]) {
      for (const at of [24, 91]) {
        const buf = encodeProbe(randomProbe(r, false));
        buf.writeInt32BE(nsec, at + 9);
        assert.deepEqual(decodeProbe(buf), { ok: false, reason: "time_range" }, `nsec ${nsec} at ${at}`);
      }
    }
    for (const bad of [[0xff], [0xc3], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0x80]]) {
      for (const at of [39, 106]) {
        const buf = encodeProbe(randomProbe(r, false));
        buf.fill(0x61, at, at + 36);
        Buffer.from(bad).copy(buf, at + 10);
        assert.deepEqual(decodeProbe(buf), { ok: false, reason: "location_utf8" }, `${bad} at ${at}`);
      }
    }
  });

  test("valid probes round-trip byte-exactly; decoded buffers are copies", () => {
    const r = prng(seed + 4);
    for (let i = 0; i < 5_000; i++) {
      const probe = randomProbe(r, r.next() < 0.5);
      const bytes = encodeProbe(probe);
      const decoded = decodeProbe(bytes);
      assert.ok(decoded.ok, `probe ${i}`);
      assert.equal(decoded.probe.sequence, probe.sequence);
      assert.equal(decoded.probe.srcTime.unixNs, probe.srcTime.unixNs);
      assert.equal(decoded.probe.dstTime.unixNs, probe.dstTime.unixNs);
      assert.equal(decoded.probe.srcLocation, encodeLocation(probe.srcLocation).toString("utf8"));
      assert.ok(Buffer.byteLength(decoded.probe.srcLocation) <= 36);
      assert.deepEqual(encodeProbe(decoded.probe), bytes);
      bytes.fill(0xee);
      assert.deepEqual(decoded.probe.srcUuid, probe.srcUuid, "uuid survives the datagram buffer being reused");
    }
  });

  test("the sequence field takes any u64: 0, 1, 2^63, 2^64−1", () => {
    for (const sequence of [0n, 1n, 2n ** 63n, 2n ** 64n - 1n]) {
      const probe = { ...randomProbe(prng(seed + 5), true), sequence };
      const decoded = decodeProbe(encodeProbe(probe));
      assert.ok(decoded.ok);
      assert.equal(decoded.probe.sequence, sequence);
    }
  });

  test("a request is the zero time whatever its zone bytes; a reply keeps bytes 0..90", () => {
    const r = prng(seed + 6);
    for (const zone of [0x0000, 0xffff, 0x003c, 0x7fff]) {
      const buf = encodeProbe(randomProbe(r, true));
      buf.writeUInt16BE(zone, 91 + 13);
      const decoded = decodeProbe(buf);
      assert.ok(decoded.ok);
      assert.equal(isRequest(decoded.probe), true, `zone ${zone}`);
    }
    for (let i = 0; i < 2_000; i++) {
      const request = encodeProbe(randomProbe(r, true));
      const nowNs = randomUnixNs(r);
      const reply = makeReply(request, nowNs, randomLocation(r));
      assert.equal(reply.length, PROBE_SIZE);
      assert.deepEqual(reply.subarray(0, 91), request.subarray(0, 91));
      const decoded = decodeProbe(reply);
      assert.ok(decoded.ok);
      assert.equal(decoded.probe.dstTime.unixNs, nowNs);
    }
    for (const n of [0, 141, 143, 1000]) assert.throws(() => makeReply(Buffer.alloc(n), 1n, "x"), RangeError);
  });
});
