import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { BridgeComponent, bridgeJob, bridgeRuntimes } from "../../src/bridge/job.ts";
import { parseConfigWith, type Config } from "../../src/config/index.ts";
import type { ComponentSpec, Job, JobContext } from "../../src/daemon/component.ts";
import { componentSpecsFor, jobs, reportedName, type JobEntry } from "../../src/daemon/jobs.ts";
import { jobSections } from "../../src/config/schema.ts";
import { createControlRegistry } from "../../src/control/registry.ts";
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
  test("bridges are the first job; the entries follow the config's job sections", async () => {
    assert.equal(await jobs[0]!.load(), bridgeJob);
    // Cloud routes are a second job under bridges: (Go's reconcile.bridge_activate keys).
    assert.deepEqual([...new Set(jobs.map((j) => j.section))], [...jobSections]);
  });

  const fake =
    (name: string, calls: string[]): Job =>
    (ctx) => {
      calls.push(`setup ${name} dryRun=${ctx.dryRun}`);
      return (cfg) => {
        calls.push(`specs ${name}`);
        return cfg.bridges.map((b): ComponentSpec => ({ key: `${name}:${b.name}`, settings: b.name, create: () => assert.fail("not built") }));
      };
    };
  /** An entry whose module "loads" only when the config's bridge list names it. */
  const entry = (name: string, calls: string[], commands?: string[]): JobEntry => ({
    section: "checks",
    wanted: (cfg) => cfg.bridges.some((b) => b.name === name),
    load: async () => {
      calls.push(`load ${name}`);
      return fake(name, calls);
    },
    ...(commands ? { commands } : {}),
  });

  test("a job loads and is set up once, when a config first wants it; specs come in registry order", async () => {
    const calls: string[] = [];
    const specsOf = componentSpecsFor(context(), [entry("left", calls), entry("right", calls), entry("never", calls)]);
    assert.deepEqual(calls, [], "nothing loads before a config asks");
    const onlyLeft = { ...config(), bridges: config().bridges.filter((b) => b.name === "left") };
    assert.deepEqual((await specsOf(onlyLeft)).map((s) => s.key), ["left:left"]);
    assert.deepEqual(calls, ["load left", "setup left dryRun=true", "specs left"]);
    assert.deepEqual((await specsOf(config())).map((s) => s.key), ["left:left", "left:right", "right:left", "right:right"]);
    // Without its section, a job that was set up stays set up and is asked (it answers none).
    assert.deepEqual(await specsOf({ ...config(), bridges: [] }), []);
    assert.deepEqual(calls.slice(3), ["specs left", "load right", "setup right dryRun=true", "specs right", "specs left", "specs right"]);
    assert.equal(calls.filter((c) => c === "load never").length, 0);
  });

  test("a job's control commands are served from the start and reach the job once it is set up", async () => {
    const calls: string[] = [];
    const control = createControlRegistry();
    const commanding: JobEntry = {
      ...entry("left", calls, ["poke"]),
      load: async () => (ctx) => {
        ctx.control!.register("poke", async (args) => ({ poked: args.what }));
        return () => [];
      },
    };
    const specsOf = componentSpecsFor({ ...context(), control }, [commanding]);
    const poke = control.handlers().get("poke")!;
    await assert.rejects(poke({ what: 1 }), /nothing to poke: no checks: section is running/);
    await specsOf(config());
    assert.deepEqual(await poke({ what: 1 }), { poked: 1 });
  });

  test("a job that registers a command its entry does not list is refused (the socket would not serve it)", async () => {
    const sneaky: JobEntry = {
      ...entry("left", []),
      load: async () => (ctx) => {
        ctx.control!.register("sneak", async () => "no");
        return () => [];
      },
    };
    const specsOf = componentSpecsFor({ ...context(), control: createControlRegistry() }, [sneaky]);
    await assert.rejects(specsOf(config()), /registers sneak, which its entry in jobs.ts does not list/);
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
