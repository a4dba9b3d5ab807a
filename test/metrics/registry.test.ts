import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { register as globalRegistry } from "prom-client";
import { initBridge, removeBridge } from "../../src/metrics/bridge-series.ts";
import { startEventLoopLagMonitor } from "../../src/metrics/event-loop.ts";
import { createMetrics, type Metrics } from "../../src/metrics/registry.ts";
import { parsePromText, waitFor, type Family } from "./support.ts";

// A scrape of the Go vpnham v0.0.18, recorded. (Cast: Deno's checker without deno.json lacks ImportMeta.url.)
const goScrape = readFileSync(new URL("./fixtures/go-vpnham-0.0.18-metrics-scrape.txt", (import.meta as unknown as { url: string }).url), "utf8");

function newMetrics(): Metrics {
  return createMetrics({ latencyBucketsCount: 33, maxLatencyUs: 1_000_000, version: "9.9.9-test" });
}

async function scrape(metrics: Metrics): Promise<Map<string, Family>> {
  const { families, problems } = parsePromText(await metrics.registry.metrics());
  assert.deepEqual(problems, []);
  return families;
}

/** Label names of a family's samples, without `le`. */
function labelNames(f: Family | undefined): string[] {
  assert.ok(f, "family exists");
  const names = new Set<string>();
  for (const s of f.samples) for (const k of Object.keys(s.labels)) if (k !== "le") names.add(k);
  return [...names].sort();
}

function value(f: Family | undefined, labels: Record<string, string>, sampleName = f?.name): number | undefined {
  return f?.samples.find((s) => s.name === sampleName && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

/** Fills every labelled series once so each family has samples to inspect. */
function touchEverything(m: Metrics): void {
  const bt = { bridge: "b1", tunnel: "eth1" };
  const loc = { ...bt, probe_location_src: "left", probe_location_dst: "right" };
  initBridge(m, "b1", ["eth1", "eth2"]);
  m.latencyForward.observe(loc, 120);
  m.latencyReturn.observe(loc, -3); // two clocks: may be negative
  m.latencyRoundTrip.observe(bt, 250);
  m.datagramsMalformed.inc({ ...bt, reason: "size" });
  m.roleTransitions.inc({ bridge: "b1", tunnel: "", to: "active", reason: "tunnel_up" });
  m.hookDuration.observe({ bridge: "b1", hook: "bridge_activate" }, 0.2);
  m.httpRequests.inc({ server: "metrics", code: "200" });
  m.httpConnectionsShed.inc({ server: "status", action: "evicted", limit: "total" });
  m.eventLoopLag.observe(0.002);
}

describe("metrics registry", () => {
  test("Go-compatible series keep the Go names, types and labels", async () => {
    const m = newMetrics();
    touchEverything(m);
    const ours = await scrape(m);
    const expected: [string, string, string[]][] = [
      ["vpnham_bridge_active", "gauge", ["bridge"]],
      ["vpnham_bridge_up", "gauge", ["bridge"]],
      ["vpnham_tunnel_interface_active", "gauge", ["bridge", "tunnel"]],
      ["vpnham_tunnel_interface_up", "gauge", ["bridge", "tunnel"]],
      ["vpnham_probes_sent_total", "counter", ["bridge", "tunnel"]],
      ["vpnham_probes_returned_total", "counter", ["bridge", "tunnel"]],
      ["vpnham_probes_failed_total", "counter", ["bridge", "tunnel"]],
      ["vpnham_probes_latency_forward_microseconds", "histogram", ["bridge", "probe_location_dst", "probe_location_src", "tunnel"]],
      ["vpnham_probes_latency_return_microseconds", "histogram", ["bridge", "probe_location_dst", "probe_location_src", "tunnel"]],
      ["vpnham_errors_total", "counter", ["bridge", "scope"]],
      ["vpnham_version", "gauge", ["version"]],
    ];
    for (const [name, type, labels] of expected) {
      const f = ours.get(name);
      assert.equal(f?.type, type, `${name} type`);
      assert.deepEqual(labelNames(f), labels, `${name} labels`);
      assert.ok((f?.help ?? "").length > 20, `${name} has a meaningful HELP`);
    }
    // Whatever the Go fixture exports under vpnham_ we export with the same type and labels.
    const go = parsePromText(goScrape).families;
    for (const [name, f] of go) {
      if (!name.startsWith("vpnham_")) continue;
      assert.equal(ours.get(name)?.type, f.type, `${name} type as in Go`);
      assert.deepEqual(labelNames(ours.get(name)), labelNames(f), `${name} labels as in Go`);
    }
  });

  test("our health series exist with the documented labels", async () => {
    const m = newMetrics();
    touchEverything(m);
    const ours = await scrape(m);
    const expected: [string, string, string[]][] = [
      ["vpnham_build_info", "gauge", ["runtime", "version"]],
      ["vpnham_probes_late_total", "counter", ["bridge", "tunnel"]],
      ["vpnham_probes_round_trip_seconds", "histogram", ["bridge", "tunnel"]],
      ["vpnham_datagrams_malformed_total", "counter", ["bridge", "reason", "tunnel"]],
      ["vpnham_partner_polls_total", "counter", ["bridge", "outcome"]],
      ["vpnham_partner_up", "gauge", ["bridge"]],
      ["vpnham_split_brain", "gauge", ["bridge"]],
      ["vpnham_role_transitions_total", "counter", ["bridge", "reason", "to", "tunnel"]],
      ["vpnham_last_role_change_timestamp_seconds", "gauge", ["bridge"]],
      ["vpnham_hook_runs_total", "counter", ["bridge", "hook", "outcome"]],
      ["vpnham_hook_runs_dropped_total", "counter", ["bridge", "hook", "reason"]],
      ["vpnham_hook_duration_seconds", "histogram", ["bridge", "hook"]],
      ["vpnham_http_requests_total", "counter", ["code", "server"]],
      ["vpnham_http_connections_shed_total", "counter", ["action", "limit", "server"]],
      ["vpnham_event_loop_lag_seconds", "histogram", []],
      ["vpnham_config_reloads_total", "counter", ["outcome"]],
      ["process_cpu_seconds_total", "counter", []],
      ["process_resident_memory_bytes", "gauge", []],
      ["process_start_time_seconds", "gauge", []],
      ["nodejs_heap_size_total_bytes", "gauge", []],
      ["nodejs_heap_size_used_bytes", "gauge", []],
      ["nodejs_external_memory_bytes", "gauge", []],
    ];
    for (const [name, type, labels] of expected) {
      const f = ours.get(name);
      assert.equal(f?.type, type, `${name} type`);
      assert.deepEqual(labelNames(f), labels, `${name} labels`);
    }
    assert.ok((value(ours.get("process_resident_memory_bytes"), {}) ?? 0) > 1e6, "rss measured");
    assert.ok((value(ours.get("nodejs_heap_size_used_bytes"), {}) ?? 0) > 0, "heap measured");
    const start = value(ours.get("process_start_time_seconds"), {}) ?? 0;
    assert.ok(Math.abs(start - Date.now() / 1000) < 3600, "start time is recent");
    // Latency buckets are the configured ones.
    const les = ours.get("vpnham_probes_latency_forward_microseconds")!.samples.flatMap((s) => (s.labels.le ? [s.labels.le] : []));
    assert.deepEqual(les.slice(0, 4), ["1", "1.5", "2.5", "3.5"]);
    assert.deepEqual(les.slice(-3), ["649381.5", "1000000", "+Inf"]);
  });

  test("version and build info are 1, with the runtime; the global registry stays empty", async () => {
    const m = newMetrics();
    const ours = await scrape(m);
    assert.equal(value(ours.get("vpnham_version"), { version: "9.9.9-test" }), 1);
    const info = ours.get("vpnham_build_info")!.samples[0]!;
    assert.equal(info.value, 1);
    assert.match(info.labels.runtime ?? "", /^(bun|deno|node)\/\d/);
    assert.doesNotMatch(await globalRegistry.metrics(), /vpnham_|process_/);
    // A second instance (tests, reload) does not collide with the first.
    assert.doesNotThrow(() => newMetrics());
  });

  test("initBridge creates per-bridge and per-tunnel series at 0 and is idempotent", async () => {
    const m = newMetrics();
    initBridge(m, "b1", ["eth1", "eth2"]);
    let f = await scrape(m);
    for (const tunnel of ["eth1", "eth2"]) {
      for (const name of ["vpnham_probes_failed_total", "vpnham_probes_sent_total", "vpnham_probes_returned_total", "vpnham_probes_late_total", "vpnham_tunnel_interface_up", "vpnham_tunnel_interface_active"]) {
        assert.equal(value(f.get(name), { bridge: "b1", tunnel }), 0, `${name}{${tunnel}} at 0`);
      }
      assert.equal(value(f.get("vpnham_probes_round_trip_seconds"), { bridge: "b1", tunnel }, "vpnham_probes_round_trip_seconds_count"), 0);
    }
    for (const name of ["vpnham_bridge_active", "vpnham_bridge_up", "vpnham_partner_up", "vpnham_split_brain"]) {
      assert.equal(value(f.get(name), { bridge: "b1" }), 0, name);
    }
    assert.equal(value(f.get("vpnham_partner_polls_total"), { bridge: "b1", outcome: "timeout" }), 0);
    assert.equal(value(f.get("vpnham_errors_total"), { bridge: "b1", scope: "peer_probing" }), 0);
    assert.equal(value(f.get("vpnham_hook_runs_total"), { bridge: "b1", hook: "bridge_deactivate", outcome: "timeout" }), 0);
    assert.equal(value(f.get("vpnham_hook_runs_dropped_total"), { bridge: "b1", hook: "interface_activate", reason: "coalesced" }), 0);
    const since = value(f.get("vpnham_last_role_change_timestamp_seconds"), { bridge: "b1" }) ?? 0;
    assert.ok(Math.abs(since - Date.now() / 1000) < 60, "last role change starts at start-up");

    m.probesFailed.inc({ bridge: "b1", tunnel: "eth1" }, 3);
    m.bridgeUp.set({ bridge: "b1" }, 2);
    m.lastRoleChange.set({ bridge: "b1" }, 1234);
    initBridge(m, "b1", ["eth1", "eth2"]);
    f = await scrape(m);
    assert.equal(value(f.get("vpnham_probes_failed_total"), { bridge: "b1", tunnel: "eth1" }), 3, "counter kept");
    assert.equal(value(f.get("vpnham_bridge_up"), { bridge: "b1" }), 2, "gauge kept");
    assert.equal(value(f.get("vpnham_last_role_change_timestamp_seconds"), { bridge: "b1" }), 1234, "start time not reset");
  });

  test("removeBridge drops every series of that bridge and nothing else", async () => {
    const m = newMetrics();
    touchEverything(m);
    initBridge(m, "b2", ["tun0"]);
    m.latencyForward.observe({ bridge: "b2", tunnel: "tun0", probe_location_src: "a", probe_location_dst: "b" }, 5);
    m.errors.inc({ scope: "job_bridge_activate", bridge: "b1" });
    await removeBridge(m, "b1");
    const text = await m.registry.metrics();
    assert.equal(parsePromText(text).problems.length, 0);
    assert.doesNotMatch(text, /bridge="b1"/);
    assert.match(text, /vpnham_probes_failed_total\{bridge="b2",tunnel="tun0"\} 0/);
    assert.match(text, /vpnham_probes_latency_forward_microseconds_count\{bridge="b2"/);
    assert.match(text, /vpnham_http_requests_total\{server="metrics",code="200"\} 1/);
    // Re-adding starts fresh.
    initBridge(m, "b1", ["eth1"]);
    const f = await scrape(m);
    assert.equal(value(f.get("vpnham_probes_sent_total"), { bridge: "b1", tunnel: "eth1" }), 0);
    assert.equal(value(f.get("vpnham_probes_sent_total"), { bridge: "b1", tunnel: "eth2" }), undefined);
  });

  test("event-loop lag monitor records a blocked loop and stops", async () => {
    const m = newMetrics();
    const stop = startEventLoopLagMonitor(m, 10);
    try {
      const count = async (): Promise<number> => value((await scrape(m)).get("vpnham_event_loop_lag_seconds"), {}, "vpnham_event_loop_lag_seconds_count") ?? 0;
      await waitFor(async () => (await count()) >= 1, 2000, "first lag sample");
      const blockUntil = Date.now() + 80;
      while (Date.now() < blockUntil) {
        // busy: the timer cannot fire
      }
      await waitFor(async () => (await count()) >= 3, 2000, "more lag samples");
      const f = (await scrape(m)).get("vpnham_event_loop_lag_seconds");
      assert.ok((value(f, { le: "0.025" }, "vpnham_event_loop_lag_seconds_bucket") ?? 0) < (value(f, {}, "vpnham_event_loop_lag_seconds_count") ?? 0), "one sample above 25 ms");
      assert.ok((value(f, {}, "vpnham_event_loop_lag_seconds_sum") ?? 0) >= 0.05, "the 80 ms block shows");
    } finally {
      stop();
    }
    const after = value((await scrape(m)).get("vpnham_event_loop_lag_seconds"), {}, "vpnham_event_loop_lag_seconds_count");
    // Let a second monitor tick three times (≥ 3 periods) instead of sleeping.
    const witness = newMetrics();
    const stopWitness = startEventLoopLagMonitor(witness, 10);
    try {
      await waitFor(async () => (value((await scrape(witness)).get("vpnham_event_loop_lag_seconds"), {}, "vpnham_event_loop_lag_seconds_count") ?? 0) >= 3, 2000, "witness samples");
    } finally {
      stopWitness();
    }
    assert.equal(value((await scrape(m)).get("vpnham_event_loop_lag_seconds"), {}, "vpnham_event_loop_lag_seconds_count"), after, "no samples after stop");
  });
});
