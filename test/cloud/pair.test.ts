// Two in-process daemons, active and standby, hook-free, with `aws:` route tables on one
// loopback fake EC2 (each host its own fake IMDS for region and role credentials): cutting the
// active host's tunnel makes the tables point at the standby's ENI, its recovery points them
// back (the configured-active reclaims exactly the routes it owned), a console edit is repaired
// at the next drift run, throttling is retried until it converges, and a dry run changes
// nothing. Loopback only (127.88.140.x).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { parseConfigWith } from "../../src/config/index.ts";
import { startDaemon, type Daemon } from "../../src/daemon/daemon.ts";
import type { AwsRoutesStatus } from "../../src/cloud/job.ts";
import { FakeEc2, FakeImds } from "../support/fake-aws.ts";
import { hp, metricSum, quietLogs, startEcho, startRelay, waitFor } from "../robustness/support.ts";

const bridge = "cloudpair";
const T1 = "rtb-0000000000000140a";
const T2 = "rtb-0000000000000140b";
const ENI = { active: "eni-0aaaaaaaaaaaaa140", standby: "eni-0bbbbbbbbbbbbb140" };
const cidrs = ["10.140.0.0/16", "2001:db8:140::/56"];
const driftMs = 300;

function yaml(role: "active" | "standby", me: number, partner: number, ec2: FakeEc2, imds: FakeImds): string {
  return `bridges:
  ${bridge}:
    role: ${role}
    bridge_interface: lo
    peer_cidr: ${cidrs[0]}
    extra_peer_cidrs: ["${cidrs[1]}"]
    status_addr: 127.88.140.${me}:8080
    partner_url: http://127.88.140.${partner}:8080/
    probe_interval: 50ms
    partner_status_timeout: 40ms
    partner_status_threshold_down: 3
    partner_status_threshold_up: 2
    probe_location: pair/${role}
    tunnel_interfaces:
      t0: { role: active, addr: "127.88.140.${me}:3003", probe_addr: "127.88.140.${10 + me}:3003", threshold_down: 3, threshold_up: 2 }
    reconcile:
      bridge_activate:
        aws:
          timeout: 2s
          route_tables: [${T1}, ${T2}]
          endpoint: ${ec2.url}
          metadata_endpoint: ${imds.url}
          network_interface_id: ${ENI[role]}
          drift_interval: ${driftMs}ms
metrics:
  listen_addr: 127.88.140.${me}:8000
`;
}

describe("an active/standby pair moves the route tables", () => {
  const ec2 = new FakeEc2("127.88.140.100");
  const imds = { active: new FakeImds(ec2, "127.88.140.101"), standby: new FakeImds(ec2, "127.88.140.102") };
  const echoes: Array<Awaited<ReturnType<typeof startEcho>>> = [];
  const relays: Array<Awaited<ReturnType<typeof startRelay>>> = [];
  let restoreLogs: () => void;

  before(async () => {
    restoreLogs = quietLogs();
    await ec2.start();
    await imds.active.start();
    await imds.standby.start();
    for (const me of [1, 2]) {
      echoes.push(await startEcho(hp(`127.88.140.${30 + me}`, 3003)));
      relays.push(
        await startRelay({
          near: hp(`127.88.140.${10 + me}`, 3003),
          far: hp(`127.88.140.${20 + me}`, 3003),
          daemon: hp(`127.88.140.${me}`, 3003),
          peer: hp(`127.88.140.${30 + me}`, 3003),
        }),
      );
    }
  });

  after(async () => {
    await Promise.all([...relays, ...echoes].map((x) => x.close()));
    await Promise.all([ec2.stop(), imds.active.stop(), imds.standby.stop()]);
    restoreLogs();
  });

  const pointsAt = (eni: string) => [T1, T2].every((t) => cidrs.every((c) => ec2.targetOf(t, c) === eni));

  test("cut → standby's ENI; recovery → back; console edit repaired; throttling converges", { timeout: 60_000 }, async () => {
    ec2.addTable(T1, "vpc-a", [{ destination: "0.0.0.0/0", gatewayId: "igw-0123" }]);
    ec2.addTable(T2, "vpc-a", [{ destination: cidrs[0]!, networkInterfaceId: "eni-0old" }]);
    let active: Daemon | undefined;
    let standby: Daemon | undefined;
    try {
      active = await startDaemon(parseConfigWith(yaml("active", 1, 2, ec2, imds.active)).config);
      standby = await startDaemon(parseConfigWith(yaml("standby", 2, 1, ec2, imds.standby)).config);
      await waitFor(() => pointsAt(ENI.active), { timeoutMs: 10_000, what: "the tables at the active host" });
      const cloudStatus = (d: Daemon) => d.status()[`cloud:${bridge}/aws`] as AwsRoutesStatus;
      assert.equal(cloudStatus(active).active, true);
      assert.equal(cloudStatus(standby).active, false);

      // A console edit is repaired by the next drift run.
      await waitFor(() => cloudStatus(active!).tables[T1]?.lastOutcome === "in_sync" || cloudStatus(active!).tables[T1]?.lastOutcome === "applied", { timeoutMs: 5000, what: "first run done" });
      const drift = () => metricSum(active!.metrics.registry.getSingleMetric("vpnham_reconcile_drift_total") as never, { target: `${bridge}/${T1}` });
      const driftBefore = await drift();
      ec2.setTarget(T1, cidrs[0]!, "eni-0console");
      await waitFor(() => pointsAt(ENI.active), { timeoutMs: 5000, what: "the console edit repaired" });
      await waitFor(async () => (await drift()) > driftBefore, { timeoutMs: 2000, what: "drift counted" });

      // Cut the active host's tunnel: the standby takes over and points the tables at itself.
      relays[0]!.cut();
      await waitFor(() => pointsAt(ENI.standby), { timeoutMs: 10_000, what: "the tables at the standby" });
      assert.equal(ec2.targetOf(T1, "0.0.0.0/0"), "igw-0123", "other routes untouched");

      // Recovery: the configured-active reclaims exactly its routes; the standby lets go.
      relays[0]!.restore();
      await waitFor(() => pointsAt(ENI.active), { timeoutMs: 10_000, what: "the tables back at the active host" });
      await waitFor(() => cloudStatus(standby!).active === false, { timeoutMs: 5000, what: "the standby's loops stopped" });
      const t1 = ec2.tables.get(T1)!.routes.map((r) => `${r.destination}→${r.networkInterfaceId ?? r.gatewayId}`).sort();
      assert.deepEqual(t1, ["0.0.0.0/0→igw-0123", "10.0.0.0/16→local", `10.140.0.0/16→${ENI.active}`, `2001:db8:140::/56→${ENI.active}`]);

      // Throttled while repairing: retried (1 s, 2 s back-off), converges.
      ec2.faults.push({ code: "RequestLimitExceeded", status: 503, action: "ReplaceRoute" }, { code: "RequestLimitExceeded", status: 503, action: "ReplaceRoute" });
      ec2.setTarget(T2, cidrs[1]!, "eni-0console");
      await waitFor(() => ec2.faults.length === 0 && pointsAt(ENI.active), { timeoutMs: 15_000, what: "converged through throttling" });

      // Quiet once settled: no writes while nothing changes (the partner does not fight back).
      const writes = ec2.writes().length;
      await new Promise((r) => setTimeout(r, 3 * driftMs));
      assert.equal(ec2.writes().length, writes, "no flapping");
      assert.deepEqual(ec2.signatureFailures, []);
    } finally {
      await standby?.stop();
      await active?.stop();
    }
  });

  test("dry run: the plan is logged, the tables stay as they are", { timeout: 30_000 }, async () => {
    ec2.tables.clear();
    ec2.calls.length = 0;
    ec2.addTable(T1, "vpc-a", [{ destination: cidrs[0]!, networkInterfaceId: "eni-0old" }]);
    ec2.addTable(T2, "vpc-a");
    const daemon = await startDaemon(parseConfigWith(yaml("active", 1, 2, ec2, imds.active)).config, { dryRun: true });
    try {
      const status = () => daemon.status()[`cloud:${bridge}/aws`] as AwsRoutesStatus;
      await waitFor(() => status().tables[T1]?.lastOutcome === "dry_run" && status().tables[T2]?.lastOutcome === "dry_run", { timeoutMs: 10_000, what: "dry runs" });
      assert.deepEqual(status().tables[T1]!.lastPlan, [
        `ReplaceRoute RouteTableId=${T1} DestinationCidrBlock=10.140.0.0/16 NetworkInterfaceId=${ENI.active} (was eni-0old)`,
        `CreateRoute RouteTableId=${T1} DestinationIpv6CidrBlock=2001:db8:140::/56 NetworkInterfaceId=${ENI.active} (was no route)`,
      ]);
      assert.deepEqual(ec2.writes(), []);
      assert.equal(ec2.targetOf(T1, cidrs[0]!), "eni-0old");
    } finally {
      await daemon.stop();
    }
  });
});
