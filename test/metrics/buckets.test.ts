import { test } from "node:test";
import assert from "node:assert/strict";
import { latencyBuckets } from "../../src/metrics/buckets.ts";

test("default buckets (33, 1e6) match the Go vpnham's bounds", () => {
  const bounds = latencyBuckets(33, 1_000_000);
  assert.equal(bounds.length, 33);
  // The bounds the Go formula gives (docs/metrics.md §Latency buckets).
  assert.deepEqual(bounds.slice(0, 17), [1, 1.5, 2.5, 3.5, 5.5, 8.5, 13.5, 20.5, 31.5, 48.5, 75, 115.5, 178, 274, 421.5, 649.5, 1000]);
  assert.deepEqual(bounds.slice(-2), [649381.5, 1e6]);
  for (let i = 1; i < bounds.length; i++) assert.ok(bounds[i]! > bounds[i - 1]!, `bound ${i} ascending`);
});

test("duplicates after rounding are dropped instead of failing", () => {
  // base = 4^(1/4) ≈ 1.414: 1, 1.414→1.5, 2, 2.83→3, 4
  assert.deepEqual(latencyBuckets(5, 4), [1, 1.5, 2, 3, 4]);
  // base = 2^(1/9) ≈ 1.08: many bounds round to 1 or 1.5
  const bounds = latencyBuckets(10, 2);
  assert.deepEqual(bounds, [1, 1.5, 2]);
  assert.deepEqual(latencyBuckets(50, 1), [1]);
});

test("degenerate input never throws", () => {
  assert.deepEqual(latencyBuckets(0, 1e6), []);
  assert.deepEqual(latencyBuckets(1, 1e6), [1]);
  assert.deepEqual(latencyBuckets(Number.NaN, 1e6), []);
  assert.deepEqual(latencyBuckets(33, Number.POSITIVE_INFINITY), []);
  assert.deepEqual(latencyBuckets(5, 0), [1]);
  assert.deepEqual(latencyBuckets(5, -10), [1]);
  assert.deepEqual(latencyBuckets(2, 1e6), [1, 1e6]);
});
