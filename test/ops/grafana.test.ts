// examples/grafana/vpnham.json: a well-formed dashboard whose every query names series
// and labels that a real scrape of a running pair has.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Registry } from "prom-client";
import { stringify } from "yaml";
import { createCollectorMetrics } from "../../src/collectors/index.ts";
import { checkExpr, indexDeclared, indexScrape, metricNames, type ScrapeIndex } from "./promql.ts";
import { binarySkip, examplesDir, findTool, richScrapes, run, skipUnless, startPair, type Pair } from "./support.ts";

interface Target {
  refId?: string;
  expr?: string;
  datasource?: { uid?: string };
}
interface Panel {
  id?: number;
  type: string;
  title?: string;
  gridPos?: { x: number; y: number; w: number; h: number };
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Dashboard {
  uid?: string;
  title?: string;
  schemaVersion?: number;
  panels: Panel[];
  templating: { list: { name: string; type: string; query?: string | { query: string } }[] };
  annotations?: { list: { expr?: string }[] };
}

const path = join(examplesDir, "grafana", "vpnham.json");
const promtool = findTool("promtool");
const promtoolSkip = skipUnless(promtool !== undefined, "promtool not installed (apt-get install prometheus)");

/** Grafana's variables replaced by what they expand to, so promtool can parse the query. */
function expandVariables(expr: string): string {
  return expr
    .replace(/\$__rate_interval|\$__interval|\$__range/g, "1m")
    .replace(/\$\{?[a-zA-Z_][a-zA-Z0-9_]*\}?/g, ".*");
}
const text = readFileSync(path, "utf8");

/** The collectors' families as declared: the test pair runs no collectors, so its scrape has none. */
function declaredCollectorSeries(into?: ScrapeIndex): ScrapeIndex {
  const registry = new Registry();
  createCollectorMetrics(registry);
  const declared = registry.getMetricsAsArray().map((m) => ({ name: m.name, labelNames: (m as unknown as { labelNames: string[] }).labelNames }));
  return indexDeclared(declared, into);
}
const collectorSeries = /^vpnham_(ipsec|bgp|collector)_/;

function allPanels(panels: readonly Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
}

/** Every PromQL expression the dashboard sends: panel targets, variables, annotations. */
function expressions(d: Dashboard): { where: string; expr: string }[] {
  const out: { where: string; expr: string }[] = [];
  for (const p of allPanels(d.panels)) for (const t of p.targets ?? []) out.push({ where: `panel "${p.title}" ${t.refId}`, expr: t.expr ?? "" });
  for (const v of d.templating.list) {
    if (v.type !== "query") continue;
    const q = typeof v.query === "string" ? v.query : (v.query?.query ?? "");
    // label_values(selector, label): the selector is PromQL, the label must exist on it.
    const m = /^label_values\((.*),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$/.exec(q);
    out.push({ where: `variable ${v.name}`, expr: m ? `${m[1]} and on (${m[2]}) ${m[1]}` : q });
  }
  for (const a of d.annotations?.list ?? []) if (a.expr) out.push({ where: "annotation", expr: a.expr });
  return out;
}

describe("examples/grafana/vpnham.json", () => {
  const dashboard = JSON.parse(text) as Dashboard;
  const panels = allPanels(dashboard.panels);
  const queried = panels.filter((p) => p.type !== "row");

  test("is a dashboard with a uid, a title, a schema version and panels", () => {
    assert.equal(typeof dashboard.uid, "string");
    assert.equal(typeof dashboard.title, "string");
    assert.ok(Number.isInteger(dashboard.schemaVersion) && dashboard.schemaVersion! >= 36);
    assert.ok(queried.length >= 10, `only ${queried.length} panels`);
  });

  test("panel ids are unique and panels sit on the 24-column grid without overlapping", () => {
    const ids = panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, "duplicate panel ids");
    const boxes = panels.map((p) => {
      assert.ok(p.gridPos, `panel ${p.title}: no gridPos`);
      const { x, y, w, h } = p.gridPos;
      assert.ok(w > 0 && h > 0 && x >= 0 && y >= 0 && x + w <= 24, `panel ${p.title}: gridPos ${JSON.stringify(p.gridPos)}`);
      return { title: p.title, x, y, w, h };
    });
    for (const [i, a] of boxes.entries()) {
      for (const b of boxes.slice(i + 1)) {
        const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
        assert.ok(!overlap, `panels "${a.title}" and "${b.title}" overlap`);
      }
    }
  });

  test("every panel queries the chosen Prometheus data source with unique refIds", () => {
    const dsVar = dashboard.templating.list.find((v) => v.type === "datasource");
    assert.ok(dsVar && dsVar.query === "prometheus", "a datasource variable of type prometheus");
    for (const p of queried) {
      assert.equal(p.datasource?.uid, `\${${dsVar.name}}`, `panel ${p.title}: datasource`);
      assert.ok(p.targets && p.targets.length > 0, `panel ${p.title}: no targets`);
      const refIds = p.targets.map((t) => t.refId);
      assert.equal(new Set(refIds).size, refIds.length, `panel ${p.title}: duplicate refIds`);
      for (const t of p.targets) assert.ok(t.expr && t.expr.trim() !== "", `panel ${p.title}: empty expr`);
    }
  });

  test("shows roles over time, tunnel states, probe loss, latency heatmaps and hook runs", () => {
    const uses = (type: string, metric: string) =>
      queried.some((p) => p.type === type && (p.targets ?? []).some((t) => metricNames(t.expr ?? "").includes(metric)));
    assert.ok(uses("state-timeline", "vpnham_bridge_active"), "roles over time (bridge)");
    assert.ok(uses("state-timeline", "vpnham_tunnel_interface_active"), "roles over time (tunnel)");
    assert.ok(uses("state-timeline", "vpnham_tunnel_interface_up"), "tunnel states");
    assert.ok(uses("timeseries", "vpnham_role_transitions_total"), "role transitions by reason");
    assert.ok(uses("timeseries", "vpnham_probes_failed_total") && uses("timeseries", "vpnham_probes_sent_total"), "probe loss");
    for (const m of ["round_trip_seconds", "latency_forward_microseconds", "latency_return_microseconds"]) {
      assert.ok(uses("heatmap", `vpnham_probes_${m}_bucket`), `latency heatmap ${m}`);
    }
    assert.ok(uses("timeseries", "vpnham_hook_runs_total"), "hook runs");
  });

  test("shows the collectors: IPsec child up and bytes, BGP peer state and prefixes, collector success", () => {
    const uses = (type: string, metric: string) =>
      queried.some((p) => p.type === type && (p.targets ?? []).some((t) => metricNames(t.expr ?? "").includes(metric)));
    assert.ok(uses("state-timeline", "vpnham_ipsec_child_sa_up"), "IPsec child up");
    assert.ok(uses("timeseries", "vpnham_ipsec_child_sa_bytes_total"), "IPsec bytes");
    assert.ok(uses("state-timeline", "vpnham_bgp_peer_state"), "BGP peer state");
    assert.ok(uses("timeseries", "vpnham_bgp_peer_prefixes_received") && uses("timeseries", "vpnham_bgp_peer_prefixes_advertised"), "BGP prefixes");
    assert.ok(uses("state-timeline", "vpnham_collector_success"), "collector success");
  });

  test("the collector panels name only series and labels the collectors declare", () => {
    const index = declaredCollectorSeries();
    const mine = expressions(dashboard).filter(({ expr }) => metricNames(expr).some((n) => collectorSeries.test(n)));
    assert.ok(mine.length >= 6, `only ${mine.length} collector queries`);
    const problems = mine.flatMap(({ where, expr }) => checkExpr(expr, index).map((p) => `${where}: ${p}`));
    assert.deepEqual(problems, []);
    assert.notDeepEqual(checkExpr("min without (afi_safi) (vpnham_bgp_peer_state{conn=\"x\"})", index), [], "the checker sees a wrong label");
  });

  test("every query is valid PromQL (promtool check rules on them as recording rules)", { skip: promtoolSkip }, async () => {
    assert.ok(promtool, "promtool is required with CI=true (apt-get install prometheus)");
    const all = expressions(dashboard);
    const rules = all.map(({ expr }, i) => ({ record: `vpnham_dashboard:query_${i}`, expr: expandVariables(expr) }));
    const work = mkdtempSync(join(tmpdir(), "vpnham-grafana-rules-"));
    try {
      const file = join(work, "queries.yml");
      writeFileSync(file, stringify({ groups: [{ name: "dashboard", rules }] }));
      const r = await run([promtool, "check", "rules", file]);
      assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
      // The check can fail: a broken query is refused.
      writeFileSync(file, stringify({ groups: [{ name: "dashboard", rules: [{ record: "x:y", expr: "sum by (le (rate(x[1m]))" }] }] }));
      assert.notEqual((await run([promtool, "check", "rules", file])).code, 0);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  describe("against a running pair", { skip: binarySkip }, () => {
    let work = "";
    let pair: Pair | undefined;
    let index: ScrapeIndex = new Map();

    before(async () => {
      work = mkdtempSync(join(tmpdir(), "vpnham-grafana-"));
      pair = await startPair(work, "127.77.3");
      index = declaredCollectorSeries(indexScrape((await richScrapes(pair)).join("\n")));
    });
    after(async () => {
      await pair?.stop();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    test("every series and label the dashboard queries exists in the scrape (the collectors': declared)", () => {
      const all = expressions(dashboard);
      assert.ok(all.length > 20);
      const problems = all.flatMap(({ where, expr }) => checkExpr(expr, index).map((p) => `${where}: ${p}`));
      assert.deepEqual(problems, []);
    });
  });
});
