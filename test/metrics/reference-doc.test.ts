import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describeHistogramBuckets, describeMetrics } from "../../src/metrics/describe.ts";
import { createMetrics } from "../../src/metrics/registry.ts";
import { generatedPart } from "../../src/docs/markers.ts";
import { generatedParts, REGENERATE_COMMAND } from "../../src/docs/generate.ts";

const newRegistry = () => createMetrics({ latencyBucketsCount: 33, maxLatencyUs: 1_000_000, version: "9.9.9-test" }).registry;

/** Table rows by metric name: [type, labels, description]. */
function rows(table: string): Map<string, string[]> {
  const lines = table.trimEnd().split("\n");
  assert.equal(lines[0], "| Name | Type | Labels | Description |");
  assert.equal(lines[1], "|---|---|---|---|");
  const result = new Map<string, string[]>();
  for (const line of lines.slice(2)) {
    const cells = line.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim());
    assert.equal(cells.length, 4, line);
    result.set(cells[0]!.replaceAll("`", ""), cells.slice(1));
  }
  return result;
}

test("describeMetrics has one row per registered family, with its type, labels and HELP text", () => {
  const registry = newRegistry();
  const table = rows(describeMetrics(registry));
  const names = registry.getMetricsAsArray().map((m) => m.name);
  assert.deepEqual([...table.keys()].sort(), [...names].sort());
  for (const m of registry.getMetricsAsArray()) {
    const [type, , help] = table.get(m.name)!;
    assert.equal(type, m.type, m.name);
    assert.equal(help, m.help.replaceAll("|", "\\|"), m.name);
  }
  // Label names are read from prom-client objects beyond its declared types: pin a few.
  assert.equal(table.get("vpnham_bridge_active")![1], "`bridge`");
  assert.equal(table.get("vpnham_probes_latency_forward_microseconds")![1], "`bridge`, `tunnel`, `probe_location_src`, `probe_location_dst`");
  assert.equal(table.get("process_open_fds")![1], "—");
});

test("describeHistogramBuckets lists every histogram's bounds", () => {
  const text = describeHistogramBuckets(newRegistry());
  assert.match(text, /^- `vpnham_hook_duration_seconds`: 12 bounds, 0\.01, 0\.05, .*, 120 \(\+Inf\)$/m);
  assert.match(text, /^- `vpnham_probes_round_trip_seconds`: 33 bounds, 0\.000001, 0\.0000015, .*, 0\.6493815, 1 \(\+Inf\)$/m);
  assert.equal(text.trimEnd().split("\n").length, 5);
});

test("docs/metrics.md's generated parts match the registry", () => {
  const doc = readFileSync(new URL("../../docs/metrics.md", import.meta.url), "utf8");
  for (const part of generatedParts().filter((p) => p.file === "metrics.md")) {
    const written = generatedPart(doc, part.name);
    assert.ok(written !== undefined, `docs/metrics.md has the <!-- generated:${part.name} --> markers`);
    assert.equal(written.trim(), part.body.trim(), `docs/metrics.md (${part.name}) is stale: run \`${REGENERATE_COMMAND}\``);
  }
});
