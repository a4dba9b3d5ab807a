import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { configModel, hookNames, loadConfig, parseConfig, resolveConfigPath, type Config } from "../../src/config/index.ts";
import { UserError } from "../../src/util/errors.ts";
import { base, load, problemsOf } from "./support.ts";

// (Cast: Deno's checker without deno.json lacks ImportMeta.url.)
const examples = new URL("../../examples/", (import.meta as unknown as { url: string }).url);
const examplePath = (name: string) => fileURLToPath(new URL(name, examples));

function only(config: Config) {
  assert.equal(config.bridges.length, 1);
  return config.bridges[0]!;
}

describe("Shape 1 (README / seed)", () => {
  test("examples/seed.yaml loads with the values it states", () => {
    const { config } = load(readFileSync(examplePath("seed.yaml"), "utf8"));
    configModel.parse(config);
    const bridge = only(config);
    assert.equal(bridge.name, "vpnham-dev-lft");
    assert.equal(bridge.role, "active");
    assert.deepEqual(bridge.peerCidrs, ["10.1.0.0/16"]);
    assert.equal(bridge.statusAddr.text, "10.0.0.2:8080");
    assert.equal(bridge.partnerUrl, "http://10.0.0.3:8080/");
    assert.equal(bridge.probeIntervalMs, 1000);
    assert.equal(bridge.probeLocation, "left/active");
    assert.equal(bridge.scriptsTimeoutMs, 5000);
    assert.deepEqual(
      bridge.tunnels.map((t) => [t.name, t.role, t.addr.text, t.probeAddr.text, t.thresholdDown, t.thresholdUp]),
      [
        ["eth1", "active", "192.168.255.2:3003", "192.168.255.3:3003", 5, 3],
        ["eth2", "standby", "192.168.255.18:3003", "192.168.255.19:3003", 7, 5],
      ],
    );
    // Per-bridge scripts override default_scripts per hook; the rest come from the defaults.
    assert.deepEqual(bridge.hooks.bridge_activate.commands, [["sh", "-c", "echo ${bridge_interface} ${bridge_peer_cidr}"]]);
    assert.deepEqual(bridge.hooks.interface_activate.commands, [["sh", "-c", "echo 'activate ${tunnel_interface} ${tunnel_interface_ip}'"]]);
    assert.deepEqual(bridge.hooks.interface_deactivate.commands, [["sh", "-c", "echo 'deactivate ${tunnel_interface} ${tunnel_interface_ip}'"]]);
    assert.deepEqual(bridge.hooks.bridge_deactivate.commands, []);
    assert.deepEqual(config.metrics, {
      listenAddr: { host: "0.0.0.0", port: 8000, family: 4, text: "0.0.0.0:8000" },
      latencyBucketsCount: 33,
      maxLatencyUs: 1_000_000,
    });
  });

  test("default_scripts apply to bridges without scripts; [] overrides with nothing", () => {
    const data = base();
    data.default_scripts = { bridge_activate: [["true"]], bridge_deactivate: [["false"]] };
    data.bridges.b.scripts = { bridge_deactivate: [] };
    const { hooks } = only(load(data).config);
    assert.deepEqual(hooks.bridge_activate.commands, [["true"]]);
    assert.deepEqual(hooks.bridge_deactivate.commands, []);
    assert.deepEqual(hooks.interface_activate.commands, []);
  });

  test("argv scalars are taken as text, as Go's YAML does", () => {
    const text = stringify(base()) + 'default_scripts:\n  bridge_activate: [["sleep", 15], ["test", true]]\n';
    assert.deepEqual(only(load(text).config).hooks.bridge_activate.commands, [["sleep", "15"], ["test", "true"]]);
  });

  test("partner_status_url is accepted as an alias of partner_url", () => {
    const data = base();
    delete data.bridges.b.partner_url;
    data.bridges.b.partner_status_url = "http://10.0.0.3:8080";
    assert.equal(only(load(data).config).partnerUrl, "http://10.0.0.3:8080");
  });
});

describe("Shape 2 (Go v0.0.18 reconcile)", () => {
  test("examples/go-v0.0.18.yaml loads", () => {
    const { config, warnings } = load(readFileSync(examplePath("go-v0.0.18.yaml"), "utf8"));
    configModel.parse(config);
    const bridge = only(config);
    assert.deepEqual(bridge.peerCidrs, ["10.1.0.0/16", "10.2.0.0/16", "fd00:1::/64"]);
    assert.equal(bridge.partnerPollingInterface, "eth0");
    assert.equal(bridge.partnerStatusTimeoutMs, 500);
    assert.equal(bridge.scriptsTimeoutMs, 5000);
    assert.deepEqual(bridge.hooks.bridge_activate.reapply, { initialDelayMs: 1000, maximumDelayMs: 3_600_000, factor: 2 });
    assert.deepEqual(bridge.hooks.interface_activate.reapply, { initialDelayMs: 10_000, maximumDelayMs: 300_000, factor: 2 });
    assert.equal(bridge.hooks.interface_deactivate.reapply, undefined);
    assert.match(bridge.hooks.interface_activate.commands[0]![2]!, /ip -4 route replace/);
    assert.deepEqual(config.metrics.listenAddr.text, "0.0.0.0:8001");
    assert.deepEqual(warnings, []);
  });

  test("reapply follows Go: maximum defaults to initial, initial to maximum, factor to 2; 0 disables", () => {
    const data = base();
    data.bridges.b.reconcile = {
      bridge_activate: { reapply: { maximum_delay: "30s" }, script: [["a"]] },
      interface_activate: { reapply: { initial_delay: "0s" } },
      bridge_deactivate: { script: [["d"]] },
    };
    const { hooks, scriptsTimeoutMs } = only(load(data).config);
    assert.deepEqual(hooks.bridge_activate.reapply, { initialDelayMs: 30_000, maximumDelayMs: 30_000, factor: 2 });
    assert.equal(hooks.interface_activate.reapply, undefined);
    assert.deepEqual(hooks.bridge_deactivate.commands, [["d"]]);
    assert.equal(scriptsTimeoutMs, 30_000);
  });

  test("a reconcile hook without script falls back to default_scripts", () => {
    const data = base();
    data.default_scripts = { interface_activate: [["x"]] };
    data.bridges.b.reconcile = { interface_activate: { reapply: { initial_delay: "5s" } } };
    assert.deepEqual(only(load(data).config).hooks.interface_activate.commands, [["x"]]);
  });

  test("aws/gcp are kept in cloud, vpnham's defaults filled in", () => {
    const data = base();
    data.bridges.b.reconcile = {
      bridge_activate: {
        aws: { timeout: "10s", route_tables: ["rtb-0123"] },
        gcp: { route_id_prefix: "vpnham", route_priority: 1000, route_tags: [], timeout: "15s" },
      },
    };
    const { config, warnings } = load(data);
    assert.deepEqual(only(config).hooks.bridge_activate.cloud, {
      aws: { timeoutMs: 10_000, routeTables: ["rtb-0123"], driftIntervalMs: 60_000, partnerClaimHoldMaxMs: 600_000 },
      gcp: { routeIdPrefix: "vpnham", routePriority: 1000, routeTags: [], timeoutMs: 15_000, driftIntervalMs: 60_000, partnerClaimHoldMaxMs: 600_000 },
    });
    assert.deepEqual(warnings.filter((w) => w.startsWith("bridges.b.reconcile.bridge_activate.")), []);
  });
});

describe("defaults (Go's)", () => {
  const minimal = () => {
    const data = base();
    delete data.bridges.b.probe_interval;
    delete data.bridges.b.partner_status_timeout;
    return data;
  };

  test("every default, with metrics omitted", () => {
    const { config } = load(minimal());
    configModel.parse(config);
    const bridge = only(config);
    assert.equal(bridge.probeIntervalMs, 15_000);
    assert.equal(bridge.partnerStatusTimeoutMs, 1000);
    assert.equal(bridge.partnerThresholdDown, 5);
    assert.equal(bridge.partnerThresholdUp, 2);
    assert.equal(bridge.scriptsTimeoutMs, 30_000);
    assert.equal(bridge.probeLocation, "");
    assert.equal(bridge.preemptDelayMs, 0);
    assert.equal(bridge.secret, undefined);
    assert.equal(bridge.partnerPollingInterface, undefined);
    assert.deepEqual(bridge.secondaryInterfaces, []);
    for (const tunnel of bridge.tunnels) assert.deepEqual([tunnel.thresholdDown, tunnel.thresholdUp], [5, 2]);
    for (const hook of hookNames) assert.deepEqual(bridge.hooks[hook], { commands: [] });
    assert.equal(config.metrics.listenAddr.text, "0.0.0.0:8000");
    assert.equal(config.metrics.latencyBucketsCount, 33);
    assert.equal(config.metrics.maxLatencyUs, 1_000_000);
    assert.equal(config.dryRun, false);
  });

  test("explicit zeros and nulls mean the default, as in Go", () => {
    const data = minimal();
    data.bridges.b.probe_interval = "0s";
    data.bridges.b.partner_status_timeout = 0;
    data.bridges.b.partner_status_threshold_down = 0;
    data.bridges.b.tunnel_interfaces.eth1.threshold_up = 0;
    data.bridges.b.probe_location = null;
    data.metrics = { listen_addr: "", latency_buckets_count: 0, max_latency_us: null };
    const { config } = load(data);
    const bridge = only(config);
    assert.equal(bridge.probeIntervalMs, 15_000);
    assert.equal(bridge.partnerStatusTimeoutMs, 1000);
    assert.equal(bridge.partnerThresholdDown, 5);
    assert.equal(bridge.tunnels[0]!.thresholdUp, 2);
    assert.equal(bridge.probeLocation, "");
    assert.deepEqual([config.metrics.listenAddr.text, config.metrics.latencyBucketsCount, config.metrics.maxLatencyUs], ["0.0.0.0:8000", 33, 1_000_000]);
  });

  test("`metrics:` with no value loads with defaults", () => {
    const text = stringify(minimal()) + "metrics:\n";
    assert.equal(load(text).config.metrics.listenAddr.text, "0.0.0.0:8000");
  });
});

describe("our additions", () => {
  test("dry_run, preempt_delay, bridge_deactivate", () => {
    const data = base();
    data.dry_run = true;
    data.bridges.b.preempt_delay = "2m";
    data.bridges.b.scripts = { bridge_deactivate: [["ip", "route", "del", "${bridge_peer_cidr}"]] };
    const { config } = load(data);
    assert.equal(config.dryRun, true);
    assert.equal(only(config).preemptDelayMs, 120_000);
    assert.deepEqual(only(config).hooks.bridge_deactivate.commands, [["ip", "route", "del", "${bridge_peer_cidr}"]]);
  });

  test("secret inline", () => {
    const data = base();
    data.bridges.b.secret = "0123456789abcdef-long-enough";
    assert.equal(only(load(data).config).secret, "0123456789abcdef-long-enough");
  });

  test("secret_file is read relative to the config file, trailing newline dropped", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vpnham-config-"));
    try {
      writeFileSync(join(dir, "secret"), "s3cret-s3cret-s3cret\n", { mode: 0o600 });
      chmodSync(join(dir, "secret"), 0o600);
      const data = base();
      data.bridges.b.secret_file = "secret";
      writeFileSync(join(dir, "vpnham.yaml"), stringify(data));
      const { config, warnings } = await loadConfig(join(dir, "vpnham.yaml"));
      assert.equal(only(config).secret, "s3cret-s3cret-s3cret");
      assert.ok(!warnings.some((w) => w.includes("secret")), warnings.join("\n"));
      chmodSync(join(dir, "secret"), 0o644);
      assert.ok((await loadConfig(join(dir, "vpnham.yaml"))).warnings.some((w) => w.startsWith("bridges.b.secret_file: ") && w.includes("readable by everyone")));
      data.bridges.b.secret_file = "missing";
      writeFileSync(join(dir, "vpnham.yaml"), stringify(data));
      await assert.rejects(loadConfig(join(dir, "vpnham.yaml")), (e: UserError) => e.problems.some((p) => p.startsWith("bridges.b.secret_file: cannot read ") && p.includes("ENOENT")));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a secret never appears in problems or warnings", () => {
    const data = base();
    data.bridges.b.secret = "xyzzy";
    const { warnings } = load(data);
    assert.ok(warnings.some((w) => w.startsWith("bridges.b.secret: ")));
    assert.ok(!warnings.join("\n").includes("xyzzy"));
    data.bridges.b.secret = 987654321;
    const problems = problemsOf(data);
    assert.ok(problems.some((p) => p.startsWith("bridges.b.secret: ")));
    assert.ok(!problems.join("\n").includes("987654321"));
  });
});

describe("order", () => {
  test("bridges and tunnels keep YAML order, even with numeric-looking names", () => {
    const data = base();
    const bridge = data.bridges.b;
    const text = [
      "bridges:",
      ...["zeta", "10", "alpha"].map((name, i) =>
        [
          `  "${name}":`,
          `    role: active`,
          `    bridge_interface: eth0`,
          `    peer_cidr: 10.1.0.0/16`,
          `    status_addr: 10.0.0.2:${8080 + i}`,
          `    partner_url: ${bridge.partner_url}`,
          `    tunnel_interfaces:`,
          `      "eth9": { role: standby, addr: "192.168.${i}.2:3003", probe_addr: "192.168.${i}.3:3003" }`,
          `      "20": { role: active, addr: "192.168.${i}.2:3004", probe_addr: "192.168.${i}.3:3004" }`,
          `      "3": { role: standby, addr: "192.168.${i}.2:3005", probe_addr: "192.168.${i}.3:3005" }`,
        ].join("\n"),
      ),
    ].join("\n");
    const { config } = load(text);
    assert.deepEqual(config.bridges.map((b) => b.name), ["zeta", "10", "alpha"]);
    for (const b of config.bridges) assert.deepEqual(b.tunnels.map((t) => t.name), ["eth9", "20", "3"]);
  });
});

describe("example files", () => {
  const topology = ["left-active", "left-standby", "right-active", "right-standby"];
  for (const name of ["seed.yaml", "go-v0.0.18.yaml", ...topology.map((host) => `topology/${host}.yaml`)]) {
    test(`${name} loads`, () => {
      configModel.parse(load(readFileSync(examplePath(name), "utf8")).config);
    });
  }
  test("topology hosts pair up", () => {
    const byHost = Object.fromEntries(topology.map((host) => [host, only(load(readFileSync(examplePath(`topology/${host}.yaml`), "utf8")).config)]));
    for (const side of ["left", "right"]) {
      const active = byHost[`${side}-active`]!;
      const standby = byHost[`${side}-standby`]!;
      assert.equal(active.name, side === "left" ? "vpnham-dev-lft" : "vpnham-dev-rgt");
      assert.equal(standby.name, active.name);
      assert.deepEqual([active.role, standby.role], ["active", "standby"]);
      assert.equal(active.partnerUrl, `http://${standby.statusAddr.host}:8080/`);
      assert.equal(standby.partnerUrl, `http://${active.statusAddr.host}:8080/`);
      for (const bridge of [active, standby]) {
        assert.equal(bridge.probeIntervalMs, 1000);
        assert.deepEqual(bridge.tunnels.filter((t) => t.role === "active").map((t) => t.name), ["eth1"]);
        assert.ok(bridge.hooks.bridge_activate.commands[0]![2]!.includes("${VPNHAM_HOOK_LOG:-/tmp/vpnham-hooks.log}"));
      }
    }
    // Every probe_addr is some other host's addr.
    const addrs = Object.values(byHost).flatMap((b) => b.tunnels.map((t) => t.addr.text));
    for (const bridge of Object.values(byHost)) for (const t of bridge.tunnels) assert.ok(addrs.includes(t.probeAddr.text), t.probeAddr.text);
  });
});

describe("files and paths", () => {
  test("resolveConfigPath: --config, then $VPNHAM_CONFIG, then $VPNHAM__CONFIG, then ./.vpnham.yaml", () => {
    const env = { VPNHAM_CONFIG: "/etc/a.yaml", VPNHAM__CONFIG: "/etc/b.yaml" };
    assert.equal(resolveConfigPath("/x.yaml", env, "/w"), "/x.yaml");
    assert.equal(resolveConfigPath("rel.yaml", env, "/w"), "/w/rel.yaml");
    assert.equal(resolveConfigPath(undefined, env, "/w"), "/etc/a.yaml");
    assert.equal(resolveConfigPath(undefined, { VPNHAM__CONFIG: "/etc/b.yaml" }, "/w"), "/etc/b.yaml");
    assert.equal(resolveConfigPath(undefined, { VPNHAM_CONFIG: "" }, "/w"), "/w/.vpnham.yaml");
    assert.equal(resolveConfigPath("", {}, "/w"), "/w/.vpnham.yaml");
  });

  test("loadConfig of a missing file is a UserError naming it", async () => {
    await assert.rejects(loadConfig("/nonexistent/vpnham.yaml"), (e: unknown) => e instanceof UserError && /\/nonexistent\/vpnham\.yaml.*no such file/.test(e.message));
  });

  test("parseConfig names the source; one problem is the message, several are summarised", () => {
    const one = base();
    one.bridges.b.role = "boss";
    assert.throws(() => parseConfig(stringify(one), "my.yaml"), (e: UserError) => e.message === `config my.yaml: ${e.problems[0]}` && e.problems.length === 1);
    one.bridges.b.probe_interval = 5;
    assert.throws(() => parseConfig(stringify(one), "my.yaml"), (e: UserError) => e.message === "config my.yaml: 2 problems" && e.problems.length === 2);
  });

  test("parseConfig warns about interfaces missing on this host", () => {
    const data = base();
    data.bridges.b.bridge_interface = "vpnhamnosuch0";
    const { warnings } = parseConfig(stringify(data));
    assert.ok(warnings.some((w) => w.startsWith("bridges.b.bridge_interface: interface vpnhamnosuch0 not found")), warnings.join("\n"));
  });
});
