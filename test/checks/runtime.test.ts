import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { checkMetrics } from "../../src/checks/metrics.ts";
import { startChecks, type CheckStatus } from "../../src/checks/runtime.ts";
import type { CheckSpec, ChecksConfig } from "../../src/checks/schema.ts";
import { configureLogger } from "../../src/util/log.ts";
import { waitFor } from "../hooks/support.ts";
import { blackhole, loopback } from "./support.ts";

// The transitions are asserted through onChange and status; keep the test output quiet.
before(() => configureLogger({ level: "silent" }));
after(() => configureLogger({ level: "info" }));

const timing = { intervalMs: 60, timeoutMs: 40, thresholdDown: 2, thresholdUp: 2 };
const bridgeCheck = (bridge: string, extra: Partial<CheckSpec> = {}): CheckSpec => ({ ...timing, kind: "bridge_active", bridge, ...extra }) as CheckSpec;

async function values(registry: Registry, name: string): Promise<Array<{ labels: Record<string, unknown>; value: number; metricName?: string }>> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return [];
  return (await metric.get()).values as Array<{ labels: Record<string, unknown>; value: number; metricName?: string }>;
}

async function gauge(registry: Registry, name: string, labels: Record<string, string>): Promise<number | undefined> {
  return (await values(registry, name)).find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x) && (v.metricName ?? name) === name)?.value;
}

test("bridge_active: up and down through the thresholds, with onChange, status and vpnham_check_up", async () => {
  const registry = new Registry();
  let active = true;
  const changes: Array<[string, CheckStatus]> = [];
  const runtime = startChecks({ ha: bridgeCheck("dc1") }, {
    metrics: checkMetrics(registry),
    bridgeActive: (name) => (name === "dc1" ? active : undefined),
    onChange: (check, status) => changes.push([check, status]),
  });
  try {
    assert.deepEqual(runtime.status(), { ha: { up: false, decided: false } });
    assert.equal(await gauge(registry, "vpnham_check_up", { check: "ha" }), 0, "0 until decided");
    await waitFor(() => runtime.status().ha!.up, 2000, "up");
    assert.deepEqual(changes, [["ha", { up: true, decided: true }]]);
    assert.equal(await gauge(registry, "vpnham_check_up", { check: "ha" }), 1);
    active = false;
    await waitFor(() => !runtime.status().ha!.up, 2000, "down");
    assert.deepEqual(changes[1], ["ha", { up: false, decided: true, lastError: 'inactive: bridge "dc1" is not active' }]);
    assert.equal(await gauge(registry, "vpnham_check_up", { check: "ha" }), 0);
    assert.ok((await gauge(registry, "vpnham_check_failures_total", { check: "ha", reason: "inactive" }))! >= 2);
  } finally {
    await runtime.stop();
  }
  assert.deepEqual(await values(registry, "vpnham_check_up"), [], "stop() drops the check's series");
  assert.deepEqual(await values(registry, "vpnham_check_failures_total"), []);
});

test("a hanging target never blocks another check; its probes end at the timeout", async () => {
  const hole = await blackhole();
  const registry = new Registry();
  let fastProbes = 0;
  const config: ChecksConfig = {
    stuck: { intervalMs: 400, timeoutMs: 250, thresholdDown: 2, thresholdUp: 2, kind: "tcp", address: loopback(hole.port) },
    fast: bridgeCheck("dc1", { intervalMs: 50, timeoutMs: 25 }),
  };
  const runtime = startChecks(config, {
    metrics: checkMetrics(registry),
    bridgeActive: () => (fastProbes++, true),
  });
  try {
    const startMs = performance.now();
    await waitFor(() => runtime.status().stuck!.decided, 10_000, "the stuck check decided");
    const elapsedMs = performance.now() - startMs;
    assert.deepEqual(runtime.status().stuck, { up: false, decided: true, lastError: "timeout: no answer in time" });
    // Two probes of 250 ms, 400 ms apart: ~650 ms. The fast check ran all along (every 50 ms).
    assert.ok(elapsedMs < 10_000, `${elapsedMs} ms`);
    assert.ok(fastProbes >= 6, `fast check probed only ${fastProbes} times while the other hung`);
    assert.equal(runtime.status().fast!.up, true);
    const count = (await values(registry, "vpnham_check_duration_seconds")).find((v) => v.metricName === "vpnham_check_duration_seconds_sum" && v.labels.check === "stuck");
    assert.ok(count && count.value >= 0.45 && count.value < 1.5, `stuck durations sum ${count?.value}`);
  } finally {
    await runtime.stop();
    await hole.close();
  }
});

test("a throwing bridgeActive callback is a bad sample (internal), counted, never an unhandled rejection", async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
  process.on("unhandledRejection", onUnhandled);
  const registry = new Registry();
  const runtime = startChecks({ ha: bridgeCheck("dc1") }, {
    metrics: checkMetrics(registry),
    bridgeActive: () => {
      throw new Error("bridge map is gone");
    },
    onChange: () => {
      throw new Error("listener bug");
    },
  });
  try {
    await waitFor(() => runtime.status().ha!.decided, 2000, "decided");
    assert.deepEqual(runtime.status().ha, { up: false, decided: true, lastError: "internal: bridge map is gone" });
    assert.ok((await gauge(registry, "vpnham_check_failures_total", { check: "ha", reason: "internal" }))! >= 2);
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.ok((await gauge(registry, "vpnham_check_failures_total", { check: "ha", reason: "internal" }))! >= 3, "the check keeps running after a listener threw");
  } finally {
    await runtime.stop();
    process.off("unhandledRejection", onUnhandled);
  }
  assert.deepEqual(unhandled, []);
});

test("exec check: a command past its timeout is a timeout sample, and stop() leaves nothing running", async () => {
  const registry = new Registry();
  const runtime = startChecks(
    { slow: { intervalMs: 300, timeoutMs: 150, thresholdDown: 2, thresholdUp: 2, kind: "exec", command: ["sleep", "30"] } },
    { metrics: checkMetrics(registry), bridgeActive: () => undefined },
  );
  try {
    await waitFor(() => runtime.status().slow!.decided, 3000, "decided");
    assert.equal(runtime.status().slow!.lastError, "timeout: no answer in time");
  } finally {
    const startMs = performance.now();
    await runtime.stop();
    assert.ok(performance.now() - startMs < 2000, "stop is bounded");
  }
});

test("stop() is idempotent and no probe runs after it", async () => {
  const registry = new Registry();
  let calls = 0;
  const runtime = startChecks({ a: bridgeCheck("x"), b: bridgeCheck("y") }, { metrics: checkMetrics(registry), bridgeActive: () => (calls++, true) });
  await waitFor(() => calls >= 4, 2000, "some probes");
  await Promise.all([runtime.stop(), runtime.stop()]);
  const after = calls;
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(calls, after);
});

test("checkMetrics is get-or-create per registry (a restarted engine reuses the series)", () => {
  const registry = new Registry();
  assert.equal(checkMetrics(registry), checkMetrics(registry));
  assert.notEqual(checkMetrics(registry), checkMetrics(new Registry()));
});
