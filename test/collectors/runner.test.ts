import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { CollectorRunner, nextRunAtMs, runBounded } from "../../src/collectors/runner.ts";
import type { Collector, Sample } from "../../src/collectors/types.ts";
import { waitFor } from "../../src/util/wait.ts";

const family = { name: "x_up", help: "x", type: "gauge", labelNames: ["k"] } as const;
const sample = (value: number): Sample => ({ name: "x_up", labels: { k: "a" }, value });

function fake(collect: Collector["collect"], extra: Partial<Collector> = {}): Collector {
  return { name: "fake", families: [family], collect, ...extra };
}

describe("collector runner", () => {
  test("nextRunAtMs: first at once, then on the interval; a refresh as soon as the gap allows", () => {
    const table: [string, Parameters<typeof nextRunAtMs>[0], number][] = [
      ["never ran", { nowMs: 50, lastStartMs: undefined, intervalMs: 15_000, refreshRequested: false, minRefreshGapMs: 100 }, 50],
      ["on the interval", { nowMs: 1000, lastStartMs: 0, intervalMs: 15_000, refreshRequested: false, minRefreshGapMs: 100 }, 15_000],
      ["interval overdue", { nowMs: 20_000, lastStartMs: 0, intervalMs: 15_000, refreshRequested: false, minRefreshGapMs: 100 }, 20_000],
      ["refresh, gap passed", { nowMs: 1000, lastStartMs: 0, intervalMs: 15_000, refreshRequested: true, minRefreshGapMs: 100 }, 1000],
      ["refresh, too soon", { nowMs: 30, lastStartMs: 0, intervalMs: 15_000, refreshRequested: true, minRefreshGapMs: 100 }, 100],
      ["refresh, interval sooner than gap", { nowMs: 30, lastStartMs: 0, intervalMs: 50, refreshRequested: true, minRefreshGapMs: 100 }, 50],
    ];
    for (const [what, input, expected] of table) assert.equal(nextRunAtMs(input), expected, what);
  });

  test("runBounded: a collector that ignores the signal is given up on at the timeout", async () => {
    let aborted = false;
    const started = performance.now();
    const outcome = await runBounded((signal) => {
      signal.addEventListener("abort", () => (aborted = true));
      return new Promise(() => {});
    }, 50);
    assert.deepEqual(outcome, { ok: false, error: "timed out after 50 ms" });
    assert.ok(aborted, "the signal fired");
    assert.ok(performance.now() - started < 1000);
  });

  test("runBounded: a rejection is an outcome, with its message", async () => {
    assert.deepEqual(await runBounded(async () => Promise.reject(new Error("ECONNREFUSED")), 1000), { ok: false, error: "ECONNREFUSED" });
  });

  test("success caches samples; failure drops them and records why", async () => {
    let fail = false;
    const runner = new CollectorRunner(fake(async () => (fail ? Promise.reject(new Error("charon gone")) : [sample(1)])), { intervalMs: 60_000, timeoutMs: 1000 });
    try {
      let status = await runner.runNow();
      assert.equal(status.success, true);
      assert.deepEqual(runner.samples("x_up"), [sample(1)]);
      assert.equal(status.series, 1);
      fail = true;
      status = await runner.runNow();
      assert.equal(status.success, false);
      assert.equal(status.lastError, "charon gone");
      assert.equal(runner.samples("x_up"), undefined);
      assert.equal(status.failures, 1);
      assert.equal(status.runs, 2);
      assert.ok(status.lastSuccessUnixMs !== undefined, "the last success is remembered");
    } finally {
      await runner.stop();
    }
  });

  test("samples outside the declared families are dropped and reported", async () => {
    const problems: string[] = [];
    const runner = new CollectorRunner(
      fake(async () => [sample(1), { name: "other", labels: {}, value: 1 }, { name: "x_up", labels: { j: "b" }, value: 1 }, { name: "x_up", labels: { k: "c" }, value: NaN }]),
      { intervalMs: 60_000, timeoutMs: 1000 },
      { onProblems: (_, p) => problems.push(...p) },
    );
    try {
      await runner.runNow();
      assert.deepEqual(runner.samples("x_up"), [sample(1)]);
      assert.equal(problems.length, 3);
    } finally {
      await runner.stop();
    }
  });

  test("refreshes are coalesced and rate-limited; never two runs at once", async () => {
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    let refresh = () => {};
    const runner = new CollectorRunner(
      fake(
        async () => {
          running += 1;
          maxRunning = Math.max(maxRunning, running);
          runs += 1;
          await new Promise((r) => setTimeout(r, 20));
          running -= 1;
          return [sample(runs)];
        },
        { start: (r) => (refresh = r) },
      ),
      { intervalMs: 60_000, timeoutMs: 1000 },
      { minRefreshGapMs: 50 },
    );
    try {
      runner.start();
      await waitFor(() => runs === 1 && running === 0, { timeoutMs: 2000, what: "first run" });
      const started = performance.now();
      for (let i = 0; i < 100; i += 1) refresh();
      await waitFor(() => runs === 2 && running === 0, { timeoutMs: 2000, what: "refreshed run" });
      await new Promise((r) => setTimeout(r, 150));
      assert.equal(runs, 2, "100 refreshes → one more run");
      assert.equal(maxRunning, 1);
      assert.ok(performance.now() - started < 1000);
    } finally {
      await runner.stop();
    }
  });

  test("a refresh during a run causes exactly one more run after it", async () => {
    let runs = 0;
    let refresh = () => {};
    const runner = new CollectorRunner(
      fake(
        async () => {
          runs += 1;
          if (runs === 1) for (let i = 0; i < 5; i += 1) refresh();
          await new Promise((r) => setTimeout(r, 10));
          return [];
        },
        { start: (r) => (refresh = r) },
      ),
      { intervalMs: 60_000, timeoutMs: 1000 },
      { minRefreshGapMs: 10 },
    );
    try {
      runner.start();
      await waitFor(() => runs === 2, { timeoutMs: 2000, what: "second run" });
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(runs, 2);
    } finally {
      await runner.stop();
    }
  });

  test("stop() stops the timer and calls the collector's stop", async () => {
    let stopped = false;
    let runs = 0;
    const runner = new CollectorRunner(
      fake(async () => {
        runs += 1;
        return [];
      }, { stop: async () => void (stopped = true) }),
      { intervalMs: 1000, timeoutMs: 100 },
    );
    runner.start();
    await waitFor(() => runs === 1, { timeoutMs: 2000, what: "first run" });
    await runner.stop();
    assert.ok(stopped);
    runner.refresh();
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(runs, 1);
  });
});
