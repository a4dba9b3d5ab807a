import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  decodeGoTime,
  encodeGoTime,
  GO_ZERO_UNIX_NS,
  goTimeIso,
  nowUnixNs,
  UTC_OFFSET_MIN,
} from "../../src/probe/gotime.ts";

const hex = (b: Buffer) => b.toString("hex");

describe("Go binary time v1", () => {
  test("zero time is year 1, not Unix epoch", () => {
    const out = Buffer.alloc(15);
    encodeGoTime(GO_ZERO_UNIX_NS, out, 0);
    assert.equal(hex(out), "01" + "00".repeat(12) + "ffff");
    const d = decodeGoTime(out, 0);
    assert.deepEqual(d, { ok: true, unixNs: GO_ZERO_UNIX_NS, zero: true, offsetMin: -1 });
    assert.equal(goTimeIso(GO_ZERO_UNIX_NS), "0001-01-01T00:00:00.000000000Z");
  });

  test("Unix epoch 0 is not zero", () => {
    const out = Buffer.alloc(15);
    encodeGoTime(0n, out, 0);
    assert.equal(hex(out), "01" + "0000000e7791f700" + "00000000" + "ffff");
    const d = decodeGoTime(out, 0);
    assert.ok(d.ok && !d.zero && d.unixNs === 0n);
  });

  test("fixture src_time (offset 0) round-trips with its offset", () => {
    const bytes = Buffer.from("010000000ee2931f9628b6475c0000", "hex");
    const d = decodeGoTime(bytes, 0);
    assert.ok(d.ok);
    assert.equal(d.unixNs, 1795238038683034460n);
    assert.equal(d.offsetMin, 0);
    assert.equal(d.zero, false);
    assert.equal(goTimeIso(d.unixNs), "2026-11-21T05:13:58.683034460Z");
    const out = Buffer.alloc(17, 0xaa);
    encodeGoTime(d.unixNs, out, 1, d.offsetMin);
    assert.equal(hex(out.subarray(1, 16)), hex(bytes));
    assert.equal(out[0], 0xaa, "does not write before offset");
    assert.equal(out[16], 0xaa, "does not write after 15 bytes");
    encodeGoTime(d.unixNs, out, 1);
    assert.equal(hex(out.subarray(14, 16)), "ffff", "default offset is UTC");
  });

  test("times before 1970 keep nanoseconds positive", () => {
    const out = Buffer.alloc(15);
    encodeGoTime(-1n, out, 0, UTC_OFFSET_MIN);
    const d = decodeGoTime(out, 0);
    assert.ok(d.ok);
    assert.equal(d.unixNs, -1n);
    assert.equal(out.readInt32BE(9), 999_999_999);
  });

  test("version byte other than 1 is refused", () => {
    for (const v of [0, 2, 0xff]) {
      const out = Buffer.alloc(15);
      encodeGoTime(123n, out, 0);
      out[0] = v;
      assert.deepEqual(decodeGoTime(out, 0), { ok: false, reason: "time_version" });
    }
  });

  test("nanoseconds outside 0..999999999 are refused", () => {
    for (const ns of [-1, 1_000_000_000, 0x7fffffff]) {
      const out = Buffer.alloc(15);
      encodeGoTime(0n, out, 0);
      out.writeInt32BE(ns, 9);
      assert.deepEqual(decodeGoTime(out, 0), { ok: false, reason: "time_range" });
    }
  });

  test("any offset is accepted and ignored", () => {
    const out = Buffer.alloc(15);
    encodeGoTime(5n, out, 0, 120);
    const d = decodeGoTime(out, 0);
    assert.ok(d.ok && d.unixNs === 5n && d.offsetMin === 120);
  });

  test("nowUnixNs follows the wall clock with sub-ms precision", () => {
    const samples: bigint[] = [];
    for (let i = 0; i < 2000; i++) samples.push(nowUnixNs());
    const wallNs = BigInt(Date.now()) * 1_000_000n;
    const last = samples[samples.length - 1]!;
    const diffMs = Number(last - wallNs) / 1e6;
    assert.ok(Math.abs(diffMs) < 3, `nowUnixNs is ${diffMs} ms off Date.now()`);
    // Not all on whole milliseconds: there is sub-ms information.
    assert.ok(samples.some((s) => s % 1_000_000n !== 0n));
    for (let i = 1; i < samples.length; i++) assert.ok(samples[i]! >= samples[i - 1]! - 2_000_000n);
  });
});
