// The AWS route job (src/cloud/job.ts) with a bridge whose state the test sets, against the
// loopback fake EC2 + IMDSv2 (test/support/fake-aws.ts): activation points every destination of
// every table at our ENI (found through IMDS by address), drift is repaired, throttling retried,
// dry-run changes nothing, start-up never needs the cloud, the split-brain rule holds.
import { cloudBridgeYaml } from "./bridge-yaml.ts";
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { AwsRoutesComponent, makeCloudJob, type AwsRoutesSettings, type CloudJobOptions } from "../../src/cloud/job.ts";
import type { CloudAws } from "../../src/cloud/schema.ts";
import { parseConfigWith } from "../../src/config/index.ts";
import type { JobContext } from "../../src/daemon/component.ts";
import { createMetrics } from "../../src/metrics/registry.ts";
import { configureLogger, onLogEntry } from "../../src/util/log.ts";
import { waitFor } from "../../src/util/wait.ts";
import { FakeEc2, FakeImds } from "../support/fake-aws.ts";
import { metricSum, quietLogs } from "../robustness/support.ts";

const ME = "eni-0aaaaaaaaaaaaaaa1";
const PARTNER = "eni-0bbbbbbbbbbbbbbb2";
const T1 = "rtb-0000000000000001a";
const T2 = "rtb-0000000000000002a";
const cidrs = ["10.99.0.0/16", "192.168.50.0/24", "2001:db8:99::/56"];
const fast = { retries: 6, initialMs: 20, maxMs: 100 };

function world() {
  const ec2 = new FakeEc2();
  const imds = new FakeImds(ec2);
  imds.nics = [
    { mac: "0e:00:00:00:00:01", eni: ME, vpcId: "vpc-a", ipv4s: ["10.0.1.10"] },
    { mac: "0e:00:00:00:00:09", eni: "eni-0other", vpcId: "vpc-z", ipv4s: ["10.9.1.10"] },
  ];
  return { ec2, imds };
}

function harness(w: ReturnType<typeof world>, overrides: Partial<CloudAws> = {}, role: "active" | "standby" = "active", options: { dryRun?: boolean; env?: Record<string, string> } = {}) {
  const state = { active: false, partnerActive: undefined as boolean | undefined };
  const metrics = createMetrics({ latencyBucketsCount: 2, maxLatencyUs: 10, version: "test" });
  const context: JobContext = {
    metrics,
    dryRun: options.dryRun ?? false,
    bridgeActive: () => state.active,
    partnerActive: () => state.partnerActive,
  };
  const aws: CloudAws = {
    timeoutMs: 2000,
    routeTables: [T1, T2],
    endpoint: w.ec2.url,
    metadataEndpoint: w.imds.url,
    driftIntervalMs: 0,
    partnerClaimHoldMaxMs: 60_000,
    ...overrides,
  };
  const settings: AwsRoutesSettings = { bridge: "vpn", role, peerCidrs: cidrs, interfaces: ["eth0"], aws };
  const jobOptions: CloudJobOptions = {
    env: options.env ?? {},
    watchIntervalMs: 10,
    retry: fast,
    localAddresses: (ifname) => (ifname === "eth0" ? { ipv4: ["10.0.1.10"], ipv6: [] } : { ipv4: [], ipv6: [] }),
  };
  const component = new AwsRoutesComponent(settings, context, jobOptions);
  return { state, metrics, component };
}

const pointsAt = (ec2: FakeEc2, eni: string, tables = [T1, T2]) => tables.every((t) => cidrs.every((c) => ec2.targetOf(t, c) === eni));

describe("the AWS route job", () => {
  let restoreLogs: () => void;
  before(() => (restoreLogs = quietLogs()));
  after(() => restoreLogs());

  test("activation points every destination × table at our ENI, through IMDS (region, role, ENI by address)", { timeout: 20_000 }, async () => {
    const w = world();
    await w.ec2.start();
    await w.imds.start();
    w.ec2.addTable(T1, "vpc-a", [{ destination: "10.99.0.0/16", networkInterfaceId: PARTNER }]);
    w.ec2.addTable(T2, "vpc-a", [{ destination: "192.168.50.0/24", networkInterfaceId: PARTNER }, { destination: "2001:db8:99::/56", networkInterfaceId: PARTNER }]);
    const h = harness(w);
    try {
      await h.component.start();
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(w.ec2.calls.length + w.imds.requests.length, 0, "nothing reaches the cloud while the bridge is not active");
      h.state.active = true;
      await waitFor(() => pointsAt(w.ec2, ME), { timeoutMs: 10_000, what: "routes at our ENI" });
      await h.component.settled();
      assert.deepEqual(w.ec2.signatureFailures, []);
      const writes = w.ec2.writes().map((c) => `${c.action} ${c.params.RouteTableId} ${c.params.DestinationCidrBlock ?? c.params.DestinationIpv6CidrBlock}`);
      assert.deepEqual(writes.sort(), [
        `CreateRoute ${T1} 192.168.50.0/24`,
        `CreateRoute ${T1} 2001:db8:99::/56`,
        `CreateRoute ${T2} 10.99.0.0/16`,
        `ReplaceRoute ${T1} 10.99.0.0/16`,
        `ReplaceRoute ${T2} 192.168.50.0/24`,
        `ReplaceRoute ${T2} 2001:db8:99::/56`,
      ]);
      const status = h.component.status();
      assert.equal(status.region, "eu-west-1");
      assert.equal(status.credentials, "instance role vpnham-routes");
      assert.deepEqual(status.networkInterfaces, [{ interface: "eth0", eni: ME, vpcId: "vpc-a" }]);
      assert.equal(status.tables[T1]!.lastOutcome, "applied");
      const runs = h.metrics.registry.getSingleMetric("vpnham_reconcile_runs_total") as never;
      assert.equal(await metricSum(runs, { kind: "aws_route", target: `vpn/${T1}`, outcome: "applied" }), 1);
      assert.equal(await metricSum(h.metrics.registry.getSingleMetric("vpnham_cloud_route_tables_held") as never, { bridge: "vpn" }), 2);

      // Deactivated: the loops stop, nothing more is written.
      h.state.active = false;
      await waitFor(() => !h.component.status().active, { timeoutMs: 2000, what: "loops stopped" });
      const calls = w.ec2.calls.length;
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(w.ec2.calls.length, calls);
    } finally {
      await h.component.stop();
      await w.ec2.stop();
      await w.imds.stop();
    }
    assert.equal(await metricSum(h.metrics.registry.getSingleMetric("vpnham_reconcile_runs_total") as never, { target: `vpn/${T1}` }), 0, "series removed at stop");
  });

  test("drift is repaired at the next drift run; throttling is retried until it converges", { timeout: 20_000 }, async () => {
    const w = world();
    await w.ec2.start();
    await w.imds.start();
    w.ec2.addTable(T1, "vpc-a");
    w.ec2.addTable(T2, "vpc-a");
    const h = harness(w, { driftIntervalMs: 200 });
    try {
      await h.component.start();
      h.state.active = true;
      await waitFor(() => pointsAt(w.ec2, ME), { timeoutMs: 10_000, what: "routes at our ENI" });
      await h.component.settled(); // the first run's read-back done: what follows is drift
      w.ec2.setTarget(T2, "192.168.50.0/24", "eni-0someoneelse");
      await waitFor(() => pointsAt(w.ec2, ME), { timeoutMs: 5000, what: "the manual edit repaired" });
      const drift = h.metrics.registry.getSingleMetric("vpnham_reconcile_drift_total") as never;
      await waitFor(async () => (await metricSum(drift, { target: `vpn/${T2}` })) >= 1, { timeoutMs: 2000, what: `drift counted (${await metricSum(drift, {})} in all)` });

      for (let i = 0; i < 4; i++) w.ec2.faults.push({ code: "RequestLimitExceeded", status: 503, message: "Request limit exceeded." });
      w.ec2.faults.push({ code: "InternalError", status: 500, message: "An internal error has occurred" });
      w.ec2.setTarget(T1, "10.99.0.0/16", PARTNER);
      w.ec2.setTarget(T2, "10.99.0.0/16", PARTNER);
      await waitFor(() => w.ec2.faults.length === 0 && pointsAt(w.ec2, ME), { timeoutMs: 10_000, what: "converged through throttling" });
      assert.equal(w.ec2.calls.filter((c) => c.error === "RequestLimitExceeded").length, 4);
      assert.deepEqual(w.ec2.signatureFailures, []);
    } finally {
      await h.component.stop();
      await w.ec2.stop();
      await w.imds.stop();
    }
  });

  test("dry run: reads, plans and logs the exact calls; changes nothing", { timeout: 20_000 }, async () => {
    const w = world();
    await w.ec2.start();
    await w.imds.start();
    w.ec2.addTable(T1, "vpc-a", [{ destination: "10.99.0.0/16", networkInterfaceId: PARTNER }]);
    w.ec2.addTable(T2, "vpc-a");
    const h = harness(w, {}, "active", { dryRun: true });
    const logged: string[] = [];
    configureLogger({ level: "info" }); // the dry-run lines are info
    const unsubscribe = onLogEntry((entry) => logged.push(String(entry.args[0])));
    try {
      await h.component.start();
      h.state.active = true;
      await waitFor(() => h.component.status().tables[T1]?.lastOutcome === "dry_run" && h.component.status().tables[T2]?.lastOutcome === "dry_run", { timeoutMs: 10_000, what: "dry runs" });
      assert.deepEqual(w.ec2.writes(), []);
      assert.equal(w.ec2.targetOf(T1, "10.99.0.0/16"), PARTNER);
      assert.ok(logged.includes(`dry run, would ReplaceRoute RouteTableId=${T1} DestinationCidrBlock=10.99.0.0/16 NetworkInterfaceId=${ME} (was ${PARTNER})`), logged.join("\n"));
      assert.ok(logged.includes(`dry run, would CreateRoute RouteTableId=${T2} DestinationIpv6CidrBlock=2001:db8:99::/56 NetworkInterfaceId=${ME} (was no route)`));
      assert.deepEqual(h.component.status().tables[T2]!.lastPlan!.length, 3);
    } finally {
      unsubscribe();
      configureLogger({ level: "warn" });
      await h.component.stop();
      await w.ec2.stop();
      await w.imds.stop();
    }
  });

  test("start-up off-cloud: the component starts, says why it cannot reach AWS, and converges once it can", { timeout: 20_000 }, async () => {
    const w = world();
    await w.ec2.start();
    await w.imds.start();
    const imdsUrl = w.imds.url;
    await w.imds.stop(); // no metadata service (yet): not on EC2, or IMDS down
    w.ec2.addTable(T1, "vpc-a");
    w.ec2.addTable(T2, "vpc-a");
    const h = harness(w, { driftIntervalMs: 300, metadataEndpoint: imdsUrl }, "active");
    try {
      await h.component.start();
      h.state.active = true;
      await waitFor(() => h.component.status().tables[T1]?.lastOutcome === "failed", { timeoutMs: 10_000, what: "a failed run" });
      assert.match(h.component.status().tables[T1]!.lastError!, /^IMDS \(is this an EC2 instance\?\): .*(ECONNREFUSED|refused)/i);
      // IMDS comes up on the same address: the next drift run gets there.
      const again = new FakeImds(w.ec2);
      again.nics = w.imds.nics;
      await again.start(Number(new URL(imdsUrl).port));
      await waitFor(() => pointsAt(w.ec2, ME), { timeoutMs: 10_000, what: "converged once IMDS answered" });
      await again.stop();
    } finally {
      await h.component.stop();
      await w.ec2.stop();
    }
  });

  test("the configured-standby holds while its partner reports itself active, and backs off from a partner that takes the routes back", { timeout: 20_000 }, async () => {
    const w = world();
    await w.ec2.start();
    await w.imds.start();
    w.ec2.addTable(T1, "vpc-a", cidrs.map((destination) => ({ destination, networkInterfaceId: PARTNER })));
    const h = harness(w, { routeTables: [T1], driftIntervalMs: 100, partnerClaimHoldMaxMs: 60_000 }, "standby");
    try {
      await h.component.start();
      h.state.partnerActive = true;
      h.state.active = true;
      await waitFor(() => /partner reports itself active/.test(h.component.status().tables[T1]?.hold ?? ""), { timeoutMs: 5000, what: "holding" });
      assert.deepEqual(w.ec2.writes(), []);
      // The partner goes silent (link cut): take over.
      h.state.partnerActive = undefined;
      await waitFor(() => pointsAt(w.ec2, ME, [T1]), { timeoutMs: 5000, what: "takeover" });
      await waitFor(async () => (await metricSum(h.metrics.registry.getSingleMetric("vpnham_cloud_route_tables_held") as never, { bridge: "vpn" })) === 1, { timeoutMs: 2000, what: "held" });
      // The partner, alive on the far side of the cut, takes them back: conflict, hold ≥ 2 drift intervals.
      for (const c of cidrs) w.ec2.setTarget(T1, c, PARTNER);
      await waitFor(() => /taken back by/.test(h.component.status().tables[T1]?.hold ?? ""), { timeoutMs: 5000, what: "conflict" });
      const writes = w.ec2.writes().length;
      assert.equal(await metricSum(h.metrics.registry.getSingleMetric("vpnham_cloud_route_conflicts_total") as never, { bridge: "vpn" }), 1);
      await new Promise((r) => setTimeout(r, 150));
      assert.equal(w.ec2.writes().length, writes, "no rewrite during the hold");
      assert.ok(pointsAt(w.ec2, PARTNER, [T1]));
    } finally {
      await h.component.stop();
      await w.ec2.stop();
      await w.imds.stop();
    }
  });
});

describe("config → components", () => {
  test("aws: with route tables gives one component per bridge; Go's keys and ours normalised", () => {
    const yaml = `bridges:
  vpn:
    role: active
    bridge_interface: eth0
    peer_cidr: 10.99.0.0/16
    extra_peer_cidrs: ["2001:db8:99::/56"]
    secondary_interfaces: [eth1]
    status_addr: 127.0.0.1:8080
    partner_url: http://127.0.0.2:8080/
    probe_location: a
    tunnel_interfaces:
      t0: { role: active, addr: 127.0.0.1:3003, probe_addr: 127.0.0.2:3003 }
    reconcile:
      bridge_activate:
        aws:
          timeout: 5s
          route_tables: [${T1}, ${T2}]
          region: eu-west-1
          endpoint: http://127.0.0.1:9/
          drift_interval: 30s
metrics: { listen_addr: 127.0.0.1:8000 }
`;
    const { config, warnings } = parseConfigWith(yaml);
    assert.deepEqual(warnings.filter((w) => /aws/.test(w)), []);
    const aws = config.bridges[0]!.hooks.bridge_activate!.cloud!.aws!;
    assert.deepEqual(aws, { timeoutMs: 5000, routeTables: [T1, T2], region: "eu-west-1", endpoint: "http://127.0.0.1:9/", driftIntervalMs: 30_000, partnerClaimHoldMaxMs: 600_000 });
    const metrics = createMetrics({ latencyBucketsCount: 2, maxLatencyUs: 10, version: "test" });
    const specs = makeCloudJob()({ metrics, dryRun: false, bridgeActive: () => false })(config);
    assert.deepEqual(specs.map((s) => s.key), ["cloud:vpn/aws"]);
    assert.deepEqual((specs[0]!.settings as AwsRoutesSettings).interfaces, ["eth0", "eth1"]);
    assert.deepEqual((specs[0]!.settings as AwsRoutesSettings).peerCidrs, ["10.99.0.0/16", "2001:db8:99::/56"]);
  });

  test("route table ids are checked", () => {
    assert.throws(() => parseConfigWith(cloudBridgeYaml("aws: { route_tables: [main] }")), /route_tables.*rtb-/s);
  });
});

for (const cloud of ["aws", "gcp", "azure"] as const) {
  test(`examples/${cloud}.yaml loads without warnings on a host with its interfaces, with a ${cloud} component`, async () => {
    const { readFileSync } = await import("node:fs");
    const text = readFileSync(new URL(`../../examples/${cloud}.yaml`, import.meta.url), "utf8");
    const { config, warnings } = parseConfigWith(text, { interfaceNames: new Set(["eth0", "eth1", "eth2"]) });
    assert.deepEqual(warnings, []);
    assert.ok(config.bridges[0]!.hooks.bridge_activate!.cloud![cloud]);
    const metrics = createMetrics({ latencyBucketsCount: 2, maxLatencyUs: 10, version: "test" });
    assert.deepEqual(makeCloudJob()({ metrics, dryRun: false, bridgeActive: () => false })(config).map((s) => s.key), [`cloud:vpn-left/${cloud}`]);
  });
}
