import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { initBridge } from "../../src/metrics/bridge-series.ts";
import { createMetrics } from "../../src/metrics/registry.ts";
import { featureMetrics } from "../../src/metrics/features.ts";
import { Counter, Gauge, Histogram, Registry } from "../../src/metrics/prom.ts";
import { renderMetrics, renderMetricsBytes } from "../../src/metrics/render.ts";

/** A daemon's registry with every feature's series, bridges with tunnels, and some values. */
function daemonRegistry(tunnels: number): Registry {
  const metrics = createMetrics({ latencyBucketsCount: 33, maxLatencyUs: 1_000_000, version: "1.2.3" });
  for (const register of featureMetrics) register(metrics.registry);
  const names = Array.from({ length: tunnels }, (_, i) => `eth${i}`);
  initBridge(metrics, "left", names);
  for (const tunnel of names) {
    const labels = { bridge: "left", tunnel, probe_location_src: "a", probe_location_dst: "b" };
    for (let i = 0; i < 5; i++) metrics.latencyForward.observe(labels, 37 * i + 1);
    metrics.latencyRoundTrip.observe({ bridge: "left", tunnel }, 0.0004);
    metrics.probesSent.inc({ bridge: "left", tunnel }, 7);
  }
  metrics.roleTransitions.inc({ bridge: "left", tunnel: "eth0", to: "active", reason: "bridge_up" });
  return metrics.registry;
}

/** The process's own series change between two renders; the rest must not. */
const steady = (text: string): string => text.replace(/^(process|nodejs)_\S+ [\d.e+-]+$/gm, "$1_… value");

/** Equal, or the first line that differs (the texts are megabytes). */
function assertSameText(actual: string, expected: string): void {
  if (actual === expected) return;
  const [a, e] = [actual.split("\n"), expected.split("\n")];
  const i = a.findIndex((line, n) => line !== e[n]);
  assert.fail(`line ${i + 1} differs: ${JSON.stringify(a[i])} vs prom-client's ${JSON.stringify(e[i])} (${a.length} vs ${e.length} lines)`);
}

describe("renderMetrics", () => {
  test("writes what prom-client's registry.metrics() writes, byte for byte", async () => {
    const registry = daemonRegistry(3);
    assertSameText(steady(await renderMetrics(registry)), steady(await registry.metrics()));
  });

  test("hostile label values, values prom-client spells its own way, series without labels, empty metrics", async () => {
    const registry = new Registry();
    const registers = [registry];
    const counter = new Counter({ name: "c_total", help: 'help with \\ backslash and\nnewline "quoted"', labelNames: ["a", "b"], registers });
    counter.inc({ a: 'quote " back \\ slash', b: "new\nline" }, 2);
    counter.inc({ b: "order", a: "kept" });
    const gauge = new Gauge({ name: "g", help: "g", labelNames: ["n"], registers });
    gauge.set({ n: 1 }, Number.NaN);
    gauge.set({ n: 2 }, Number.POSITIVE_INFINITY);
    gauge.set({ n: 3 }, Number.NEGATIVE_INFINITY);
    gauge.set({ n: 4 }, 1e-7);
    new Gauge({ name: "unlabelled", help: "u", registers }).set(3.5);
    new Gauge({ name: "never_set", help: "n", labelNames: ["x"], registers });
    const histogram = new Histogram({ name: "h_seconds", help: "h", buckets: [0.001, 0.5, 10], registers });
    histogram.observe(0.2);
    histogram.observe(20);
    new Gauge({ name: "collected", help: "c", registers, collect() { this.set(42); } });
    assertSameText(await renderMetrics(registry), await registry.metrics());
    assertSameText((await renderMetricsBytes(registry, 0)).toString("utf8"), await registry.metrics());
    assertSameText(await renderMetrics(new Registry()), await new Registry().metrics());
  });

  test("a series' label text follows the series: removed and re-created series render anew", async () => {
    const registry = new Registry();
    const counter = new Counter({ name: "c_total", help: "c", labelNames: ["t"], registers: [registry] });
    counter.inc({ t: "x" });
    await renderMetrics(registry);
    counter.remove({ t: "x" });
    counter.inc({ t: "y" }, 3);
    assertSameText(await renderMetrics(registry), await registry.metrics());
  });

  test("gives the event loop turns while it renders (prom-client's render is one run of microtasks)", async () => {
    const registry = daemonRegistry(300);
    let turns = 0;
    let rendering = true;
    const tick = (): void => {
      turns++;
      if (rendering) setImmediate(tick);
    };
    setImmediate(tick);
    const text = await renderMetrics(registry, 0);
    rendering = false;
    assert.ok(turns > 10, `the event loop ran ${turns} times during the render`);
    assertSameText(steady(text), steady(await registry.metrics()));
  });
});
