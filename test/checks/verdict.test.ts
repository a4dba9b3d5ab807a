import { test } from "node:test";
import assert from "node:assert/strict";
import { checkStep, initialCheckState, statusOf, type Sample } from "../../src/checks/verdict.ts";

const good: Sample = { ok: true };
const bad = (reason: "timeout" | "status", detail = "x"): Sample => ({ ok: false, reason, detail });

/** (state, sample) → (state, changed?) over a sequence: one row per step. */
function steps(samples: Sample[], down = 2, up = 2) {
  let state = initialCheckState(down, up);
  return samples.map((sample) => {
    const next = checkStep(state, sample);
    state = next.state;
    return { ...statusOf(state), ...(next.changed ? { changed: next.changed } : {}) };
  });
}

test("verdict table: the shared hysteresis, with lastError from the newest bad sample", () => {
  assert.deepEqual(steps([good, good, bad("timeout"), bad("status", "HTTP 500"), good, good]), [
    { up: false, decided: false },
    { up: true, decided: true, changed: "up" },
    { up: true, decided: true, lastError: "timeout: x" },
    { up: false, decided: true, lastError: "status: HTTP 500", changed: "down" },
    { up: false, decided: true },
    { up: true, decided: true, changed: "up" },
  ]);
});

test("verdict table: first verdict down, never up", () => {
  assert.deepEqual(steps([bad("timeout"), bad("timeout"), bad("timeout")], 2, 2), [
    { up: false, decided: false, lastError: "timeout: x" },
    { up: false, decided: true, lastError: "timeout: x", changed: "down" },
    { up: false, decided: true, lastError: "timeout: x" },
  ]);
});

test("verdict: checkStep is pure (the input state is not changed)", () => {
  const state = initialCheckState(2, 2);
  const copy = structuredClone(state);
  checkStep(state, bad("timeout"));
  assert.deepEqual(state, copy);
});
