/**
 * Issue 14 end to end: the four-host world (four-hosts.test.ts), the left pair configured with
 * `reconcile.bridge_activate.aws` route tables on the fake EC2 + IMDSv2 (cloud-side.ts), every
 * host the compiled binary. Asserts on what the cloud holds (docs/cloud-routes.md §Testing):
 * the tables point at the active's ENI; the active killed → at the standby's; back → at the
 * active's again; a console edit → repaired by one write at the next drift run; throttling during
 * a failover → retried, converges; the pair on GCP routes → the same failover and return; a
 * dry-run config → nothing changed, the plan logged. No
 * timing assertions: the observed times are printed as diagnostics. Needs root and iproute2;
 * skipped with a message otherwise, and under CI=true a skip is a failure. Bun only.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { waitFor } from "../../src/util/wait.ts";
import { attachCloud, BRIDGE, DESTINATIONS, DRIFT_MS, ENI, GCE_INSTANCE, GCE_NETWORK, LEFT, TABLES, type CloudSide } from "./cloud-side.ts";
import { expectSteady, repair, STEADY, waitHosts, waitMetrics } from "./expect.ts";
import { ensureBinary, World } from "./harness.ts";
import { metricSum } from "./metrics-text.ts";
import { HOST_IDS, netnsUnavailable, type HostId } from "./netns.ts";
import { CI, PARTNER_FAILOVER_MS, START_MS } from "./timing.ts";

const note = (line: string): void => void process.stderr.write(`${line}\n`);

const SUITE = "e2e: cloud route tables in the four-host world";
const unavailable = netnsUnavailable();
/** Failover bound plus API round trips, generous for a loaded 2-core machine. */
const MOVE_MS = PARTNER_FAILOVER_MS + 30_000;
const cloudLabels = { bridge: BRIDGE, cloud: "aws" };

let world: World | undefined;
let cloud: CloudSide | undefined;
let failed = false;

/** Wait until the cloud holds what `holds` wants; the error shows what it holds and the left hosts' logs. */
async function waitCloud(w: World, holds: () => boolean, describe: () => string, what: string, timeoutMs: number): Promise<void> {
  try {
    await waitFor(holds, { timeoutMs, intervalMs: 50, what });
  } catch (error) {
    const tails = LEFT.map((h) => `--- ${h} log tail:\n${w.logTail(h, 15)}`).join("\n");
    throw new Error(`${(error as Error).message}\nthe cloud holds: ${describe()}\n${tails}`);
  }
}

/** Every destination in every AWS table targets `eni`. */
const waitTables = (w: World, c: CloudSide, eni: string, what: string, timeoutMs: number): Promise<void> =>
  waitCloud(w, () => c.pointsAt(eni), () => c.describe(), what, timeoutMs);

/** Every destination's GCP route in the left network goes to `instance`, and no other. */
const waitGcpRoutes = (w: World, c: CloudSide, instance: string, what: string, timeoutMs: number): Promise<void> =>
  waitCloud(w, () => c.gcpPointsAt(instance), () => c.describeGcp(), what, timeoutMs);

/** `Action RouteTableId destination → ENI` of a write. */
const summary = (p: Record<string, string>, action: string): string =>
  `${action} ${p.RouteTableId} ${p.DestinationCidrBlock ?? p.DestinationIpv6CidrBlock} → ${p.NetworkInterfaceId ?? "-"}`;

/** Seconds from `t0` to the last write since `mark` (what the cloud saw), for the diagnostics. */
function lastWriteAfter(c: CloudSide, mark: number, t0: number): string {
  const writes = c.writesSince(mark).filter((call) => call.error === "");
  return writes.length ? `${((writes.at(-1)!.atMs - t0) / 1000).toFixed(1)} s` : "(no write)";
}

async function leftMetric(w: World, h: HostId, name: string, labels: Record<string, string>): Promise<number> {
  const m = await w.metrics(h);
  assert.ok(m, `${h} /metrics answers`);
  return metricSum(m, name, labels);
}

/** One scenario on the shared world, from the steady state (`awsSteady`: with the AWS tables at the active). */
function scenario(name: string, body: (w: World, c: CloudSide) => Promise<void>, options: { timeoutMs?: number; awsSteady?: boolean } = {}): void {
  const timeoutMs = options.timeoutMs ?? 180_000;
  test(name, { timeout: timeoutMs }, async () => {
    const w = world;
    const c = cloud;
    if (!w || !c) throw new Error("the world was not set up (see the first failure)");
    try {
      await repair(w);
      await expectSteady(w, START_MS);
      if (options.awsSteady !== false) await waitTables(w, c, ENI.la, "the tables at the active host (steady state)", MOVE_MS);
      await body(w, c);
      for (const h of HOST_IDS) assert.ok(w.running(h), `${h} is not running: ${JSON.stringify(w.exitOf(h))}\n${w.logTail(h, 15)}`);
      assert.deepEqual(c.ec2.signatureFailures, [], "every EC2 request was signed right");
      assert.deepEqual(c.compute.unauthorized, [], "every Compute request had a live token");
    } catch (error) {
      failed = true;
      throw error;
    }
  });
}

/** Cold start: the configured-active points the tables at its ENI; the standby never touches the cloud. */
async function coldStart(w: World, c: CloudSide): Promise<void> {
  assert.equal(c.ec2.targetOf(TABLES[0], "0.0.0.0/0"), "igw-0e2e0000000000001", "other routes untouched");
  assert.ok(c.writesSince(0).every((call) => call.params.NetworkInterfaceId === ENI.la), "every write targets the active's ENI");
  await waitMetrics(w, "la", [{ name: "vpnham_cloud_route_tables_held", labels: cloudLabels, value: 2 }], 30_000);
  assert.equal(await leftMetric(w, "ls", "vpnham_cloud_route_tables_held", cloudLabels), 0);
  assert.equal(await leftMetric(w, "ls", "vpnham_reconcile_runs_total", { kind: "aws_route" }), 0, "the standby ran nothing");
  assert.deepEqual(c.imds.ls.requests, [], "the standby never asked its IMDS");
  assert.ok(c.imds.la.tokensIssued > 0 && c.imds.la.credentialsIssued > 0, "the active used IMDSv2 tokens and role credentials");
}

/** The active host killed: the standby points the tables at itself; restarted, the active reclaims them. */
async function activeKilled(w: World, c: CloudSide): Promise<void> {
  const mark = c.ec2.calls.length;
  const t0 = Date.now();
  w.signal("la", "SIGKILL");
  await w.waitExit("la", 5_000);
  await waitTables(w, c, ENI.ls, "the tables at the standby after the active was killed", MOVE_MS);
  note(`cloud e2e: SIGKILL of the active → tables at the standby's ENI after ${lastWriteAfter(c, mark, t0)}`);
  assert.equal(c.ec2.targetOf(TABLES[0], "0.0.0.0/0"), "igw-0e2e0000000000001", "other routes untouched");
  await waitHosts(w, "the standby active", { ls: { active: true, partnerUp: false } }, PARTNER_FAILOVER_MS);
  await waitMetrics(w, "ls", [{ name: "vpnham_cloud_route_tables_held", labels: cloudLabels, value: 2 }], 30_000);

  const back = c.ec2.calls.length;
  const t1 = Date.now();
  w.start("la");
  await waitHosts(w, "the active restarted and reclaimed", STEADY, START_MS);
  await waitTables(w, c, ENI.la, "the tables back at the restarted active", MOVE_MS);
  note(`cloud e2e: restart of the active → tables back at its ENI after ${lastWriteAfter(c, back, t1)}`);
  await waitMetrics(w, "ls", [{ name: "vpnham_cloud_route_tables_held", labels: cloudLabels, value: 0 }], 30_000);
  await waitMetrics(w, "la", [{ name: "vpnham_cloud_route_tables_held", labels: cloudLabels, value: 2 }], 30_000);
  // The standby let go without a fight: every write since the restart is the active's.
  const fought = c.writesSince(back).filter((call) => call.params.NetworkInterfaceId !== ENI.la);
  assert.deepEqual(fought.map((call) => summary(call.params, call.action)), [], "no write back to the standby");
}

/** A console edit of one route: the active's next drift run repairs it, with exactly one write. */
async function consoleEdit(w: World, c: CloudSide): Promise<void> {
  const target = { kind: "aws_route", target: `${BRIDGE}/${TABLES[0]}` };
  await waitFor(async () => (await leftMetric(w, "la", "vpnham_reconcile_runs_total", { ...target, outcome: "in_sync" })) > 0, {
    timeoutMs: 30_000,
    what: "a drift run that found the table in sync",
  });
  const driftBefore = await leftMetric(w, "la", "vpnham_reconcile_drift_total", target);
  const mark = c.ec2.calls.length;
  const t0 = Date.now();
  c.ec2.setTarget(TABLES[0], DESTINATIONS[0], "eni-0e2e00000console");
  await waitTables(w, c, ENI.la, "the console edit repaired", 10 * DRIFT_MS + 30_000);
  note(`cloud e2e: console edit → repaired after ${lastWriteAfter(c, mark, t0)} (drift_interval ${DRIFT_MS} ms)`);
  assert.deepEqual(
    c.writesSince(mark).map((call) => summary(call.params, call.action)),
    [`ReplaceRoute ${TABLES[0]} ${DESTINATIONS[0]} → ${ENI.la}`],
    "one reapply, one write",
  );
  await waitMetrics(w, "la", [{ name: "vpnham_reconcile_drift_total", labels: target, value: driftBefore + 1 }], 10_000);
}

/** EC2 throttles the standby's writes while it takes over (tunnels of the active cut): retried, converges; back, reclaimed. */
async function throttledFailover(w: World, c: CloudSide): Promise<void> {
  const mark = c.ec2.calls.length;
  // Six in a row: more than one run's five tries when one table draws most of them, so a failed
  // run and the next drift run may be part of it too.
  const throttles = 6;
  for (let i = 0; i < throttles; i++) c.ec2.faults.push({ code: "RequestLimitExceeded", status: 503, action: "ReplaceRoute", message: "Request limit exceeded." });
  const t0 = Date.now();
  await w.topo.ip("la", "link", "set", "eth1", "down");
  await w.topo.ip("la", "link", "set", "eth2", "down");
  await waitTables(w, c, ENI.ls, "the tables at the standby through throttling", MOVE_MS + 60_000);
  note(`cloud e2e: tunnels of the active cut, ${throttles} writes throttled → tables at the standby after ${lastWriteAfter(c, mark, t0)}`);
  assert.equal(c.ec2.faults.length, 0, "every throttle answered");
  // Each throttled write was tried again (the fake's count): the tables converged through them.
  const throttled = c.ec2.calls.slice(mark).filter((call) => call.error === "RequestLimitExceeded");
  assert.equal(throttled.length, throttles);

  const back = c.ec2.calls.length;
  await w.topo.ip("la", "link", "set", "eth1", "up");
  await w.topo.ip("la", "link", "set", "eth2", "up");
  await waitHosts(w, "the active's tunnels back, it reclaims", STEADY, PARTNER_FAILOVER_MS + START_MS);
  await waitTables(w, c, ENI.la, "the tables back at the active", MOVE_MS);
  assert.deepEqual(c.writesSince(back).filter((call) => call.params.NetworkInterfaceId !== ENI.la).map((call) => summary(call.params, call.action)), []);
}

/** The left pair restarted on GCP: the network's routes go to the active instance, to the standby when it is killed, back when it returns. */
async function gcpFailover(w: World, c: CloudSide): Promise<void> {
  const gcpLabels = { bridge: BRIDGE, cloud: "gcp" };
  for (const h of LEFT) assert.deepEqual(await w.stop(h), { code: 0, signal: null }, `${h} stops cleanly`);
  for (const h of LEFT) w.configs[h] = c.writeConfig(h, { cloud: "gcp" });
  for (const h of LEFT) w.start(h);
  await waitHosts(w, "the left pair back, on GCP", { la: STEADY.la, ls: STEADY.ls }, START_MS);
  await waitGcpRoutes(w, c, GCE_INSTANCE.la, "the routes at the active instance", MOVE_MS);
  assert.deepEqual(c.compute.hopsTo("0.0.0.0/0", GCE_NETWORK), ["default-internet-gateway"], "other routes untouched");
  assert.deepEqual(c.gceMetadata.ls.requests, [], "the standby never asked its metadata server");
  await waitMetrics(w, "la", [{ name: "vpnham_cloud_route_tables_held", labels: gcpLabels, value: 1 }], 30_000);

  let t0 = Date.now();
  w.signal("la", "SIGKILL");
  await w.waitExit("la", 5_000);
  await waitGcpRoutes(w, c, GCE_INSTANCE.ls, "the routes at the standby instance after the active was killed", MOVE_MS);
  note(`cloud e2e: GCP, SIGKILL of the active → routes at the standby instance, seen after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  await waitMetrics(w, "ls", [{ name: "vpnham_cloud_route_tables_held", labels: gcpLabels, value: 1 }], 30_000);

  t0 = Date.now();
  w.start("la");
  await waitHosts(w, "the active restarted and reclaimed", STEADY, START_MS);
  await waitGcpRoutes(w, c, GCE_INSTANCE.la, "the routes back at the restarted active", MOVE_MS);
  note(`cloud e2e: GCP, restart of the active → routes back at it, seen after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  await waitMetrics(w, "ls", [{ name: "vpnham_cloud_route_tables_held", labels: gcpLabels, value: 0 }], 30_000);
  assert.deepEqual(c.compute.hopsTo("0.0.0.0/0", GCE_NETWORK), ["default-internet-gateway"], "other routes untouched");
}

/** Both left hosts restarted with `dry_run: true` over tables that need changes: the plan is logged, nothing written. */
async function dryRun(w: World, c: CloudSide): Promise<void> {
  for (const h of LEFT) assert.deepEqual(await w.stop(h), { code: 0, signal: null }, `${h} stops cleanly`);
  c.resetTables();
  const before = c.snapshot();
  const mark = c.ec2.calls.length;
  const logMark = w.logs("la").length;
  for (const h of LEFT) w.configs[h] = c.writeConfig(h, { dryRun: true });
  for (const h of LEFT) w.start(h);
  await waitHosts(w, "the left pair back, in dry run", { la: STEADY.la, ls: STEADY.ls }, START_MS);
  const [t1, t2] = TABLES;
  const [v4, v6] = DESTINATIONS;
  const plan = [
    `CreateRoute RouteTableId=${t1} DestinationCidrBlock=${v4} NetworkInterfaceId=${ENI.la} (was no route)`,
    `CreateRoute RouteTableId=${t1} DestinationIpv6CidrBlock=${v6} NetworkInterfaceId=${ENI.la} (was no route)`,
    `ReplaceRoute RouteTableId=${t2} DestinationCidrBlock=${v4} NetworkInterfaceId=${ENI.la} (was eni-0e2e000000000old)`,
    `CreateRoute RouteTableId=${t2} DestinationIpv6CidrBlock=${v6} NetworkInterfaceId=${ENI.la} (was no route)`,
  ];
  const logged = (): Set<string> => new Set(w.logs("la").slice(logMark).filter((r) => String(r.msg).startsWith("dry run, would ")).map((r) => String(r.step)));
  try {
    await waitFor(() => plan.every((step) => logged().has(step)), { timeoutMs: START_MS, what: "the active's dry-run plan in its log" });
  } catch (error) {
    throw new Error(`${(error as Error).message}; logged: ${JSON.stringify([...logged()])}\n${w.logTail("la", 20)}`);
  }
  // Drift runs keep planning the same and keep writing nothing.
  await waitFor(async () => (await leftMetric(w, "la", "vpnham_reconcile_runs_total", { kind: "aws_route", outcome: "dry_run" })) >= 2 * TABLES.length, {
    timeoutMs: 10 * DRIFT_MS + 30_000,
    what: "two dry runs per table",
  });
  assert.deepEqual([...logged()].sort(), [...plan].sort(), "exactly the plan, nothing else");
  assert.deepEqual(c.writesSince(mark), [], "nothing written");
  assert.deepEqual(c.snapshot(), before, "the tables as they were");
  assert.ok(c.ec2.calls.length > mark, "the tables were read");
}

if ("Deno" in globalThis) {
  test(SUITE, { skip: "the e2e suites run under `bun test` only" }, () => {});
} else if (unavailable && CI) {
  test(SUITE, () => assert.fail(`cannot run the cloud e2e suite: ${unavailable}; with CI=true a skip is a failure`));
} else if (unavailable) {
  note(`cloud e2e suite skipped: ${unavailable} (run as root with iproute2 installed)`);
  test(SUITE, { skip: `skipped: ${unavailable}` }, () => {});
} else {
  describe(SUITE, () => {
    // In after(), not a last test: a set-up that failed or timed out half-way, or a scenario that
    // did, still leaves no veths, namespaces, daemons or fakes behind.
    after(
      async () => {
        const w = world;
        const c = cloud;
        world = undefined;
        cloud = undefined;
        if (failed && w) note(`cloud e2e: a step failed; logs kept in ${w.runDir}`);
        await c?.close();
        await w?.close(failed);
      },
      { timeout: 30_000 },
    );

    test("set up: topology, links to the fake cloud, the four hosts", { timeout: 300_000 }, async () => {
      try {
        await ensureBinary();
        const w = await World.create();
        world = w;
        cloud = await attachCloud(w);
        // The daemons reach only the fakes: no keys, endpoints or proxies from the test's environment.
        for (const name of Object.keys(process.env)) if (/^AWS_|_proxy$/i.test(name)) w.env[name] = undefined;
        for (const h of LEFT) w.configs[h] = cloud.writeConfig(h);
        for (const h of HOST_IDS) w.start(h);
        await waitHosts(w, "cold start converges", STEADY, START_MS);
      } catch (error) {
        failed = true;
        throw error;
      }
    });

    scenario("cold start: the tables point at the active's ENI; the standby never touches the cloud", coldStart);
    scenario("active host killed: the tables move to the standby's ENI; restarted, back to the active's", activeKilled);
    scenario("console edit of a route: repaired by one write at the next drift run", consoleEdit);
    scenario("throttled (RequestLimitExceeded) during a failover by tunnel cut: retried, converges; reclaimed", throttledFailover, { timeoutMs: 240_000 });
    // These two restart the left pair with other configs: GCP routes, then AWS in dry run.
    scenario("GCP: the routes move to the standby instance when the active is killed, and back", gcpFailover, { timeoutMs: 240_000 });
    scenario("dry run: the plan logged, the tables unchanged", dryRun, { awsSteady: false });
  });
}
