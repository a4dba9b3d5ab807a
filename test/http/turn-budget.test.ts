import { test } from "node:test";
import assert from "node:assert/strict";
import { TurnBudget, type TurnShare } from "../../src/http/turn-budget.ts";

const share = (): TurnShare => ({ turn: -1, used: 0 });
/** After the turn has closed (a 0 ms timer: turn-budget.ts). */
const nextTurn = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5));

test("a turn allows maxRequests in all, maxPerHolder each; the next turn renews both", async () => {
  const budget = new TurnBudget({ maxRequests: 5, maxPerHolder: 2, maxMs: 1000, maxBytes: Infinity });
  const [a, b, c] = [share(), share(), share()];
  assert.deepEqual([budget.take(a), budget.take(a), budget.take(a)], [true, true, false], "a's share");
  assert.deepEqual([budget.take(b), budget.take(b), budget.take(c), budget.take(c)], [true, true, true, false], "the turn's total");
  await nextTurn();
  assert.deepEqual([budget.take(a), budget.take(c)], [true, true]);
});

test("a turn also ends after maxMs of work", async () => {
  let nowMs = 0;
  const budget = new TurnBudget({ maxRequests: 100, maxPerHolder: 100, maxMs: 2, maxBytes: Infinity }, () => nowMs);
  const a = share();
  assert.equal(budget.take(a), true);
  nowMs = 1.9;
  assert.equal(budget.take(a), true);
  nowMs = 2;
  assert.equal(budget.take(a), false);
  await nextTurn();
  assert.equal(budget.take(a), true, "a new turn starts its clock at its first request");
});

test("a turn also ends once maxBytes of answers are written", async () => {
  const budget = new TurnBudget({ maxRequests: 100, maxPerHolder: 100, maxMs: 1000, maxBytes: 1000 });
  const a = share();
  assert.equal(budget.take(a), true);
  budget.charge(600);
  assert.equal(budget.take(a), true);
  budget.charge(400);
  assert.equal(budget.take(a), false);
  await nextTurn();
  assert.equal(budget.take(a), true);
});

test("waiters resume in a later turn, in the order they came; a throwing one doesn't strand the rest", async () => {
  const budget = new TurnBudget({ maxRequests: 1, maxPerHolder: 1, maxMs: 1000, maxBytes: Infinity });
  const order: string[] = [];
  budget.wait(() => order.push("first"));
  budget.wait(() => {
    throw new Error("boom");
  });
  budget.wait(() => order.push("third"));
  assert.deepEqual(order, [], "not in the same turn");
  await nextTurn();
  assert.deepEqual(order, ["first", "third"]);
});

test("a timer due meanwhile runs between two turns of waiting work", async () => {
  const budget = new TurnBudget({ maxRequests: 1, maxPerHolder: 1, maxMs: 1000, maxBytes: Infinity });
  const a = share();
  let served = 0;
  let timerSawServed = -1;
  const work = (): void => {
    while (served < 50 && budget.take(a)) {
      const startMs = performance.now();
      while (performance.now() - startMs < 0.2); // a request's work
      served++;
    }
    if (served < 50) budget.wait(work);
  };
  setTimeout(() => (timerSawServed = served), 1);
  work();
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(served, 50);
  assert.ok(timerSawServed > 0 && timerSawServed < 50, `the timer ran amid the work (after ${timerSawServed} requests)`);
});

test("round robin: a newcomer waits behind one round of the others, not behind all their work", async () => {
  const budget = new TurnBudget({ maxRequests: 4, maxPerHolder: 2, maxMs: 1000, maxBytes: Infinity });
  const served: string[] = [];
  const worker = (name: string, requests: number): void => {
    const share: TurnShare = { turn: -1, used: 0 };
    let left = requests;
    const work = (): void => {
      while (left > 0 && budget.take(share)) {
        left--;
        served.push(name);
      }
      if (left > 0) budget.wait(work);
    };
    work();
  };
  for (const name of ["a", "b", "c", "d"]) worker(name, 100);
  worker("poll", 1);
  await new Promise((resolve) => setTimeout(resolve, 50));
  const pollAt = served.indexOf("poll");
  assert.ok(pollAt !== -1 && pollAt <= 4 * 2 + 4, `the poll was served as request ${pollAt}: ${served.slice(0, 20).join(" ")}`);
});
