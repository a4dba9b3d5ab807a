import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";
import { startCollectors, type CollectorsRuntimeConfig } from "../../src/collectors/index.ts";
import type { CollectorKind } from "../../src/collectors/kinds.ts";
import type { Collector, FamilyDef } from "../../src/collectors/types.ts";
import { temporaryPathFor } from "../../src/collectors/textfile.ts";
import { configureLogger } from "../../src/util/log.ts";
import { parsePromText, sampleValue, type Family } from "../metrics/support.ts";
import { findTool, run, skipUnless } from "../ops/support.ts";

const promtool = findTool("promtool");
const promtoolSkip = skipUnless(promtool !== undefined, "promtool not installed (apt-get install prometheus)");

/** A kind whose collector is `collect`; the name is cast, the engine only uses it as a label and config key. */
function kind(name: string, collect: Collector["collect"]): CollectorKind {
  const families: FamilyDef[] = [{ name: `test_${name}_up`, help: `${name} up`, type: "gauge", labelNames: ["thing"] }];
  return { name, families, create: () => ({ name, families, collect }) } as unknown as CollectorKind;
}

const timing = { intervalMs: 60_000, timeoutMs: 200 };
const config = (names: string[], textfilePath?: string): CollectorsRuntimeConfig =>
  ({ collectors: Object.fromEntries(names.map((n) => [n, timing])), metrics: { textfilePath } }) as unknown as CollectorsRuntimeConfig;

async function scrape(registry: Registry): Promise<{ text: string; families: Map<string, Family> }> {
  const text = await registry.metrics();
  const { families, problems } = parsePromText(text);
  assert.deepEqual(problems, []);
  return { text, families };
}
const valueOf = sampleValue;

describe("collectors engine", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "hcol-engine-"));
    configureLogger({ level: "silent" });
  });
  after(() => {
    configureLogger({ level: "info" });
    rmSync(dir, { recursive: true, force: true });
  });

  const good = kind("good", async () => [{ name: "test_good_up", labels: { thing: "a" }, value: 1 }]);
  const broken = kind("broken", async () => Promise.reject(new Error("no daemon")));
  const slow = kind("slow", (signal) => new Promise((_, reject) => signal.addEventListener("abort", () => reject(new Error("aborted")))));

  test("a failing or hanging collector never fails or slows the scrape; success and duration per collector", async () => {
    const registry = new Registry();
    const collectors = startCollectors(config(["good", "broken", "slow"]), registry, { kinds: [good, broken, slow] });
    try {
      const started = performance.now();
      await scrape(registry); // while `slow` is still running
      assert.ok(performance.now() - started < 100, "the scrape does not wait for a run");
      const statuses = await collectors.runNow();
      assert.deepEqual(statuses.map((s) => [s.name, s.success]), [["good", true], ["broken", false], ["slow", false]]);
      assert.match(statuses[2]!.lastError ?? "", /timed out after 200 ms/);
      const { families } = await scrape(registry);
      assert.equal(valueOf(families, "vpnham_collector_success", { collector: "good" }), 1);
      assert.equal(valueOf(families, "vpnham_collector_success", { collector: "broken" }), 0);
      assert.equal(valueOf(families, "vpnham_collector_success", { collector: "slow" }), 0);
      assert.ok((valueOf(families, "vpnham_collector_duration_seconds", { collector: "slow" }) ?? 0) >= 0.2);
      assert.equal(valueOf(families, "test_good_up", { thing: "a" }), 1);
      assert.equal(families.get("test_broken_up")?.samples.length ?? 0, 0, "a failed collector's series are dropped");
      assert.ok((valueOf(families, "vpnham_collector_last_success_timestamp_seconds", { collector: "good" }) ?? 0) > 1.6e9);
      assert.equal(valueOf(families, "vpnham_collector_last_success_timestamp_seconds", { collector: "broken" }), 0);
    } finally {
      await collectors.stop();
    }
  });

  test("stop() unregisters every series, so a restart (reload) registers them again", async () => {
    const registry = new Registry();
    const first = startCollectors(config(["good"]), registry, { kinds: [good] });
    await first.runNow();
    await first.stop();
    assert.equal(registry.getMetricsAsArray().length, 0);
    const second = startCollectors(config(["good"]), registry, { kinds: [good] });
    try {
      await second.runNow();
      const { families } = await scrape(registry);
      assert.equal(valueOf(families, "test_good_up", { thing: "a" }), 1);
    } finally {
      await second.stop();
    }
  });

  test("nothing configured: nothing registered, nothing runs", async () => {
    const registry = new Registry();
    const none = startCollectors({ metrics: {} }, registry);
    assert.equal(registry.getMetricsAsArray().length, 0);
    assert.deepEqual(none.status(), []);
    await none.stop();
  });

  test("textfile: the collectors' series only, replaced atomically, no temporary file left", async () => {
    const registry = new Registry();
    registry.setDefaultLabels({}); // the daemon's own series must not leak into the file
    const path = join(dir, "vpnham.prom");
    const collectors = startCollectors(config(["good", "broken"], path), registry, { kinds: [good, broken] });
    try {
      await collectors.runNow();
      const text = readFileSync(path, "utf8");
      const { families, problems } = parsePromText(text);
      assert.deepEqual(problems, []);
      assert.deepEqual([...families.keys()].sort(), [
        "test_broken_up",
        "test_good_up",
        "vpnham_collector_duration_seconds",
        "vpnham_collector_last_success_timestamp_seconds",
        "vpnham_collector_success",
      ]);
      assert.equal(valueOf(families, "test_good_up", { thing: "a" }), 1);
      assert.deepEqual(readdirSync(dir), ["vpnham.prom"]);
      assert.ok(!temporaryPathFor(path, 1).endsWith(".prom"), "node_exporter never reads the temporary file");
      assert.equal(temporaryPathFor(path, 7), join(dir, ".vpnham.prom.7.tmp"));
    } finally {
      await collectors.stop();
    }
  });

  test("a textfile that cannot be written is logged, the collectors keep running", async () => {
    const registry = new Registry();
    const collectors = startCollectors(config(["good"], join(dir, "missing-dir", "x.prom")), registry, { kinds: [good] });
    try {
      const [status] = await collectors.runNow();
      assert.equal(status?.success, true);
    } finally {
      await collectors.stop();
    }
  });

  test("promtool check metrics accepts the collectors' scrape", { skip: promtoolSkip }, async () => {
    const registry = new Registry();
    const collectors = startCollectors(config(["good", "broken"]), registry, { kinds: [good, broken] });
    try {
      await collectors.runNow();
      const r = await run([promtool!, "check", "metrics"], { input: await registry.metrics() });
      assert.equal(r.code, 0, r.stdout + r.stderr);
    } finally {
      await collectors.stop();
    }
  });
});
