/**
 * The reconcile engine against an in-memory target (a route table): the outcomes, dry-run,
 * retries, read-back, drift repair, timeouts and supersession, with the metrics they count.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { RetryableError, type Action } from "../../src/reconcile/action.ts";
import { startReconcileLoop, type Reconciler } from "../../src/reconcile/engine.ts";
import { createReconcileMetrics } from "../../src/reconcile/metrics.ts";

type Routes = Map<string, string>; // cidr → next hop

interface FakeTable {
  routes: Routes;
  reads: number;
  applies: string[];
  failNextApplies: number;
  failFinal: boolean;
  ignoreWrites: boolean;
  hangReads: boolean;
  failNextReads: number;
}

function fake(initial: [string, string][] = []): { table: FakeTable; reconciler: Reconciler<Routes, Routes> } {
  const table: FakeTable = { routes: new Map(initial), reads: 0, applies: [], failNextApplies: 0, failFinal: false, ignoreWrites: false, hangReads: false, failNextReads: 0 };
  const replace = (cidr: string, hop: string): Action => ({
    kind: "fake.ReplaceRoute",
    describe: () => `ReplaceRoute ${cidr} → ${hop}`,
    async apply() {
      table.applies.push(`${cidr}→${hop}`);
      if (table.failFinal) throw new Error("AccessDenied");
      if (table.failNextApplies > 0) {
        table.failNextApplies--;
        throw new RetryableError("503 Service Unavailable");
      }
      if (!table.ignoreWrites) table.routes.set(cidr, hop);
    },
  });
  const reconciler: Reconciler<Routes, Routes> = {
    kind: "fake_route",
    target: "rtb-main",
    read: async () => {
      table.reads++;
      if (table.hangReads) await new Promise(() => {});
      if (table.failNextReads > 0) {
        table.failNextReads--;
        throw new RetryableError("connection refused");
      }
      return new Map(table.routes);
    },
    plan: (desired, actual) => [...desired].filter(([cidr, hop]) => actual.get(cidr) !== hop).map(([cidr, hop]) => replace(cidr, hop)),
  };
  return { table, reconciler };
}

async function value(metric: { get(): Promise<{ values: { value: number; labels: Record<string, unknown> }[] }> }, labels: Record<string, string>) {
  const { values } = await metric.get();
  return values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((a, v) => a + v.value, 0);
}

const fast = { retries: 3, initialMs: 5, maxMs: 20 };
const want = (hop: string): Routes => new Map([["10.1.0.0/16", hop]]);

describe("reconcile engine", () => {
  test("in sync: nothing applied, in_sync counted, last success set", async () => {
    const metrics = createReconcileMetrics(new Registry());
    const { table, reconciler } = fake([["10.1.0.0/16", "eni-a"]]);
    const loop = startReconcileLoop(reconciler, { dryRun: false, callTimeoutMs: 1000, metrics, retry: fast });
    loop.setDesired(want("eni-a"));
    await loop.settled();
    assert.deepEqual(table.applies, []);
    assert.equal(loop.status().lastOutcome, "in_sync");
    assert.equal(await value(metrics.runs, { outcome: "in_sync" }), 1);
    assert.ok((await value(metrics.lastSuccess, {})) > 1e9);
    await loop.stop();
  });

  test("a change is applied and read back", async () => {
    const metrics = createReconcileMetrics(new Registry());
    const { table, reconciler } = fake([["10.1.0.0/16", "eni-a"]]);
    const loop = startReconcileLoop(reconciler, { dryRun: false, callTimeoutMs: 1000, metrics, retry: fast });
    loop.setDesired(want("eni-b"));
    await loop.settled();
    assert.deepEqual(table.applies, ["10.1.0.0/16→eni-b"]);
    assert.equal(table.reads, 2, "read, then read back");
    assert.equal(loop.status().lastOutcome, "applied");
    await loop.stop();
  });

  test("dry run prints the exact plan and changes nothing", async () => {
    const metrics = createReconcileMetrics(new Registry());
    const { table, reconciler } = fake([["10.1.0.0/16", "eni-a"]]);
    const loop = startReconcileLoop(reconciler, { dryRun: true, callTimeoutMs: 1000, metrics, retry: fast });
    loop.setDesired(want("eni-b"));
    await loop.settled();
    assert.deepEqual(table.applies, []);
    assert.deepEqual(loop.status().lastPlan, ["ReplaceRoute 10.1.0.0/16 → eni-b"]);
    assert.equal(await value(metrics.runs, { outcome: "dry_run" }), 1);
    await loop.stop();
  });

  test("a retryable failure is retried with back-off; a final one is not", async () => {
    const metrics = createReconcileMetrics(new Registry());
    const { table, reconciler } = fake();
    table.failNextApplies = 2;
    const loop = startReconcileLoop(reconciler, { dryRun: false, callTimeoutMs: 1000, metrics, retry: fast });
    loop.setDesired(want("eni-b"));
    await loop.settled();
    assert.equal(table.applies.length, 3);
    assert.equal(loop.status().lastOutcome, "applied");
    table.failFinal = true;
    loop.setDesired(want("eni-c"));
    await loop.settled();
    assert.equal(table.applies.length, 4, "one try only");
    assert.equal(loop.status().lastOutcome, "failed");
    assert.match(loop.status().lastError ?? "", /AccessDenied/);
    assert.equal(await value(metrics.runs, { outcome: "failed" }), 1);
    await loop.stop();
  });

  test("a write the target silently ignores fails the read-back, is retried, then counted failed", async () => {
    const metrics = createReconcileMetrics(new Registry());
    const { table, reconciler } = fake();
    table.ignoreWrites = true;
    const loop = startReconcileLoop(reconciler, { dryRun: false, callTimeoutMs: 1000, metrics, retry: fast });
    loop.setDesired(want("eni-b"));
    await loop.settled();
    assert.equal(table.applies.length, fast.retries + 1);
    assert.equal(loop.status().lastOutcome, "failed");
    assert.match(loop.status().lastError ?? "", /read back still differs: ReplaceRoute 10.1.0.0\/16 → eni-b/);
    await loop.stop();
  });

  test("drift: a periodic re-run finds the change behind our back, counts it and repairs it", async () => {
    const metrics = createReconcileMetrics(new Registry());
    const { table, reconciler } = fake();
    const loop = startReconcileLoop(reconciler, { dryRun: false, callTimeoutMs: 1000, metrics, retry: fast, driftIntervalMs: 30 });
    loop.setDesired(want("eni-b"));
    await loop.settled();
    table.routes.set("10.1.0.0/16", "eni-rogue");
    const deadline = Date.now() + 2000;
    while (table.routes.get("10.1.0.0/16") !== "eni-b" && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(table.routes.get("10.1.0.0/16"), "eni-b", "repaired");
    assert.equal(await value(metrics.drift, {}), 1);
    await loop.stop();
  });

  test("drift: a re-run whose first read fails (the router restarting) still counts the change it then finds", async () => {
    const metrics = createReconcileMetrics(new Registry());
    const { table, reconciler } = fake();
    const loop = startReconcileLoop(reconciler, { dryRun: false, callTimeoutMs: 1000, metrics, retry: fast, driftIntervalMs: 30 });
    loop.setDesired(want("eni-b"));
    await loop.settled();
    table.routes.clear();
    table.failNextReads = 1;
    const deadline = Date.now() + 2000;
    while (table.routes.get("10.1.0.0/16") !== "eni-b" && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(table.routes.get("10.1.0.0/16"), "eni-b", "repaired");
    assert.equal(await value(metrics.drift, {}), 1);
    await loop.stop();
  });

  test("drift: the first drift run after a failed run is a retry, not drift; drift counts once the target was as desired", async () => {
    const metrics = createReconcileMetrics(new Registry());
    const { table, reconciler } = fake();
    table.failNextApplies = 1000; // every try of the first run fails
    const loop = startReconcileLoop(reconciler, { dryRun: false, callTimeoutMs: 1000, metrics, retry: fast, driftIntervalMs: 30 });
    loop.setDesired(want("eni-b"));
    await loop.settled();
    assert.equal(loop.status().lastOutcome, "failed");
    table.failNextApplies = 0;
    const wait = async (done: () => boolean) => {
      const deadline = Date.now() + 2000;
      while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    };
    await wait(() => table.routes.get("10.1.0.0/16") === "eni-b");
    assert.equal(table.routes.get("10.1.0.0/16"), "eni-b", "the drift run applied what the failed run could not");
    assert.equal(await value(metrics.drift, {}), 0, "nothing drifted: the target never was as desired");
    await wait(() => loop.status().lastOutcome === "applied" || loop.status().lastOutcome === "in_sync");
    table.routes.set("10.1.0.0/16", "eni-rogue");
    await wait(() => table.routes.get("10.1.0.0/16") === "eni-b");
    assert.equal(await value(metrics.drift, {}), 1, "a real change behind our back counts");
    await loop.stop();
  });

  test("a read that never answers times out, is retried, and stop() never hangs", async () => {
    const metrics = createReconcileMetrics(new Registry());
    const { table, reconciler } = fake();
    table.hangReads = true;
    const loop = startReconcileLoop(reconciler, { dryRun: false, callTimeoutMs: 20, metrics, retry: { retries: 1, initialMs: 5, maxMs: 5 } });
    loop.setDesired(want("eni-b"));
    await loop.settled();
    assert.equal(table.reads, 2);
    assert.equal(loop.status().lastOutcome, "failed");
    loop.setDesired(want("eni-c"));
    await loop.stop();
  });

  test("a newer desired state supersedes a run waiting to retry; bursts coalesce", async () => {
    const metrics = createReconcileMetrics(new Registry());
    const { table, reconciler } = fake();
    table.failNextApplies = 1;
    const loop = startReconcileLoop(reconciler, { dryRun: false, callTimeoutMs: 1000, metrics, retry: { retries: 3, initialMs: 50, maxMs: 50 } });
    loop.setDesired(want("eni-b"));
    await new Promise((r) => setTimeout(r, 10)); // the first try failed, waiting to retry
    for (let i = 0; i < 20; i++) loop.setDesired(want(`eni-${i}`));
    await loop.settled();
    assert.equal(table.routes.get("10.1.0.0/16"), "eni-19");
    assert.equal(await value(metrics.runs, { outcome: "superseded" }), 1);
    assert.equal(await value(metrics.runs, { outcome: "applied" }), 1, "one run for the burst");
    await loop.stop();
  });
});
