import { test } from "node:test";
import assert from "node:assert/strict";
import { afterAttempt, retryDelayMs } from "../../src/reconcile/retry.ts";

const policy = { retries: 3, initialMs: 100, maxMs: 1000 };

test("back-off doubles from initialMs up to maxMs, jittered over the upper half", () => {
  const table: [number, number, number][] = [
    // attempt, random, delay
    [1, 0, 50],
    [1, 0.999, 100],
    [2, 0, 100],
    [3, 0.5, 300],
    [5, 1, 1000],
    [30, 0, 500], // capped: never overflows to Infinity
  ];
  for (const [attempt, random, delay] of table) assert.equal(retryDelayMs(attempt, policy, random), delay, `attempt ${attempt}`);
});

test("after a try: done on success, on a final error or when retries are spent; else wait", () => {
  assert.deepEqual(afterAttempt(1, { ok: true }, policy, 0), { done: true, outcome: "ok" });
  assert.deepEqual(afterAttempt(1, { ok: false, retryable: false }, policy, 0), { done: true, outcome: "failed" });
  assert.deepEqual(afterAttempt(1, { ok: false, retryable: true }, policy, 0), { done: false, delayMs: 50 });
  assert.deepEqual(afterAttempt(3, { ok: false, retryable: true }, policy, 0), { done: false, delayMs: 200 });
  assert.deepEqual(afterAttempt(4, { ok: false, retryable: true }, policy, 0), { done: true, outcome: "failed" });
  assert.deepEqual(afterAttempt(1, { ok: false, retryable: true }, { ...policy, retries: 0 }, 0), { done: true, outcome: "failed" });
});
