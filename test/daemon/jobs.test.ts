import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { BridgeComponent, bridgeJob, bridgeRuntimes } from "../../src/bridge/job.ts";
import { parseConfigWith, type Config } from "../../src/config/index.ts";
import type { ComponentSpec, Job, JobContext } from "../../src/daemon/component.ts";
import { componentSpecsFor, jobs, reportedName } from "../../src/daemon/jobs.ts";
import { createMetrics } from "../../src/metrics/registry.ts";
import { configYaml } from "../support/bridge-yaml.ts";

const bridge = (name: string, n: number) => ({
  name,
  role: "active" as const,
  statusAddr: `127.66.21.${n}:18080`,
  partnerUrl: "http://127.66.21.200:18080/",
  tunnels: [{ name: "lo", role: "active" as const, addr: `127.66.21.${n}:13003`, probeAddr: `127.66.21.${100 + n}:13003` }],
});
const config = (): Config => parseConfigWith(configYaml([bridge("left", 1), bridge("right", 2)], null), { interfaceNames: new Set(["lo"]) }).config;
const context = (): JobContext => ({ metrics: createMetrics({ latencyBucketsCount: 3, maxLatencyUs: 1000, version: "test" }), dryRun: true, bridgeActive: () => undefined });

describe("the jobs registry", () => {
  test("bridges are the first job", () => {
    assert.equal(jobs[0], bridgeJob);
  });

  test("each job is set up once per daemon; its specs come in registry order, at every (re)load", () => {
    const calls: string[] = [];
    const fake =
      (name: string): Job =>
      (ctx) => {
        calls.push(`setup ${name} dryRun=${ctx.dryRun}`);
        return (cfg) => {
          calls.push(`specs ${name}`);
          return cfg.bridges.map((b): ComponentSpec => ({ key: `${name}:${b.name}`, settings: b.name, create: () => assert.fail("not built") }));
        };
      };
    const specsOf = componentSpecsFor(context(), [fake("one"), fake("two")]);
    assert.deepEqual(calls, ["setup one dryRun=true", "setup two dryRun=true"]);
    assert.deepEqual(specsOf(config()).map((s) => s.key), ["one:left", "one:right", "two:left", "two:right"]);
    specsOf({ ...config(), bridges: [] });
    assert.deepEqual(calls.slice(2), ["specs one", "specs two", "specs one", "specs two"]);
  });

  test("the bridge job: key bridge:<name> in config order, the whole bridge config as settings, built only by create()", () => {
    const cfg = config();
    const specs = bridgeJob(context())(cfg);
    assert.deepEqual(specs.map((s) => s.key), ["bridge:left", "bridge:right"]);
    assert.equal(specs[0]!.settings, cfg.bridges[0]);
    const component = specs[1]!.create();
    assert.ok(component instanceof BridgeComponent);
    assert.equal(component.key, "bridge:right");
    assert.equal(component.settings, cfg.bridges[1]);
    assert.equal((component.status() as { name: string }).name, "right");
    assert.deepEqual([...bridgeRuntimes([component]).keys()], ["right"]);
  });

  test("reportedName: a bridge by its name, any other component by its key", () => {
    assert.equal(reportedName("bridge:vpnham-dev-lft"), "vpnham-dev-lft");
    assert.equal(reportedName("bridge:a:b"), "a:b");
    assert.equal(reportedName("check:web"), "check:web");
    assert.equal(reportedName("collector:ipsec"), "collector:ipsec");
  });
});
