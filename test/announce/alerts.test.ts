/**
 * examples/prometheus/vpnham-announce-alerts.yml: valid, unit-tested by promtool, and naming only
 * series the announce job exports.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { Registry } from "prom-client";
import { parse } from "yaml";
import { announceMetrics } from "../../src/announce/metrics.ts";

const dir = new URL("../../examples/prometheus/", import.meta.url).pathname;
const promtool = ["/usr/bin/promtool", "/usr/local/bin/promtool"].find((p) => spawnSync(p, ["--version"]).status === 0);

test("every announce alert names series the job exports", async () => {
  const registry = new Registry();
  announceMetrics(registry);
  const known = new Set((await registry.getMetricsAsJSON()).map((m) => m.name));
  const rules = parse(readFileSync(`${dir}vpnham-announce-alerts.yml`, "utf8")) as { groups: { rules: { alert: string; expr: string }[] }[] };
  for (const rule of rules.groups.flatMap((g) => g.rules)) {
    const names = rule.expr.match(/vpnham_[a-z_]+/g) ?? [];
    assert.ok(names.length > 0, rule.alert);
    for (const name of names) assert.ok(known.has(name), `${rule.alert}: ${name} is not exported`);
  }
});

test("promtool check rules and test rules pass", { skip: promtool ? false : "promtool not installed (apt-get install prometheus)" }, () => {
  for (const args of [["check", "rules", "vpnham-announce-alerts.yml"], ["test", "rules", "vpnham-announce-alerts.test.yml"]]) {
    const r = spawnSync(promtool!, args, { cwd: dir, encoding: "utf8", timeout: 60_000 });
    assert.equal(r.status, 0, `promtool ${args.join(" ")}:\n${r.stdout}${r.stderr}`);
  }
});
