/**
 * Issue 14: bridge activation → AWS route tables updated, against the loopback fake EC2 with
 * 50 ms latency per call (docs/performance.md §Cloud route tables). 5 tables, 1 / 10 / 100
 * destinations each, every route first targeting the partner: per table one read, one
 * ReplaceRoute per destination (serial per table), one read-back; tables in parallel.
 * Prints the time to the first route moved, to every route moved, and to the read-back done.
 * The failover itself (partner judged down) comes on top: see §Failover.
 * GCP (fake Compute Engine): one target for all of a bridge's routes (routes are per network,
 * not per table): per destination insert ours, wait on its Operation, delete the partner's, wait.
 * Azure (fake ARM): 5 route tables, per destination one PUT and its long-running operation.
 * Operations finish by their first poll; polls every --poll-ms (the daemon: GCP 500 ms, Azure 1 s
 * unless Retry-After says otherwise).
 *
 *   bun bench/cloud-routes.ts [--cloud aws,gcp,azure] [--latency-ms 50] [--tables 5] [--routes 1,10,100] [--poll-ms 100]
 */
import { parseArgs } from "node:util";
import { AwsRoutesComponent, AzureRoutesComponent, GcpRoutesComponent, type CloudRoutesComponent } from "../src/cloud/job.ts";
import type { JobContext } from "../src/daemon/component.ts";
import { createMetrics } from "../src/metrics/registry.ts";
import { configureLogger } from "../src/util/log.ts";
import { EXAMPLE_KEY_ID, EXAMPLE_SECRET, FakeEc2 } from "../test/support/fake-aws.ts";
import { FakeArm, FakeAzureTokens } from "../test/support/fake-azure.ts";
import { FakeCompute, FakeGceMetadata } from "../test/support/fake-gcp.ts";

const { values } = parseArgs({
  options: {
    "latency-ms": { type: "string", default: "50" },
    tables: { type: "string", default: "5" },
    routes: { type: "string", default: "1,10,100" },
    cloud: { type: "string", default: "aws,gcp,azure" },
    "poll-ms": { type: "string", default: "100" },
  },
});
const latencyMs = Number(values["latency-ms"]);
const tableCount = Number(values.tables);
const routeCounts = values.routes!.split(",").map(Number);
const clouds = values.cloud!.split(",");
const pollIntervalMs = Number(values["poll-ms"]);
const ME = "eni-0aaaaaaaaaaaaaaa1";
configureLogger({ level: "error" });

async function once(routes: number): Promise<{ firstMs: number; allMs: number; doneMs: number; calls: number }> {
  const ec2 = await new FakeEc2().start();
  ec2.latencyMs = latencyMs;
  const cidrs = Array.from({ length: routes }, (_, i) => `10.${100 + Math.floor(i / 250)}.${i % 250}.0/24`);
  const tables = Array.from({ length: tableCount }, (_, i) => `rtb-${String(i).padStart(17, "0")}`);
  for (const t of tables) ec2.addTable(t, "vpc-a", cidrs.map((destination) => ({ destination, networkInterfaceId: "eni-0partner" })));
  let active = false;
  const context: JobContext = { metrics: createMetrics({ latencyBucketsCount: 2, maxLatencyUs: 10, version: "bench" }), dryRun: false, bridgeActive: () => active };
  const component = new AwsRoutesComponent(
    {
      bridge: "bench",
      role: "standby",
      peerCidrs: cidrs,
      interfaces: ["eth0"],
      aws: { timeoutMs: 10_000, routeTables: tables, region: "eu-west-1", endpoint: ec2.url, networkInterfaceId: ME, driftIntervalMs: 0, partnerClaimHoldMaxMs: 60_000 },
    },
    context,
    { env: { AWS_ACCESS_KEY_ID: EXAMPLE_KEY_ID, AWS_SECRET_ACCESS_KEY: EXAMPLE_SECRET }, watchIntervalMs: 1 },
  );
  await component.start();
  const moved = () => tables.reduce((n, t) => n + cidrs.filter((c) => ec2.targetOf(t, c) === ME).length, 0);
  const started = performance.now();
  active = true;
  let firstMs = 0;
  while (moved() < routes * tableCount) {
    if (!firstMs && moved() > 0) firstMs = performance.now() - started;
    await new Promise((r) => setTimeout(r, 1));
  }
  const allMs = performance.now() - started;
  await component.settled();
  const doneMs = performance.now() - started;
  const calls = ec2.calls.length;
  if (ec2.signatureFailures.length) throw new Error(`signature failures: ${ec2.signatureFailures[0]}`);
  await component.stop();
  await ec2.stop();
  return { firstMs: firstMs || allMs, allMs, doneMs, calls };
}

interface Result {
  firstMs: number;
  allMs: number;
  doneMs: number;
  calls: number;
}

/** Activate, time the routes moving (`moved` of `total`), wait for the read-back. */
async function timeActivation(component: CloudRoutesComponent, activate: () => void, moved: () => number, total: number): Promise<Omit<Result, "calls">> {
  await component.start();
  const started = performance.now();
  activate();
  let firstMs = 0;
  while (moved() < total) {
    if (!firstMs && moved() > 0) firstMs = performance.now() - started;
    await new Promise((r) => setTimeout(r, 1));
  }
  const allMs = performance.now() - started;
  await component.settled();
  const doneMs = performance.now() - started;
  await component.stop();
  return { firstMs: firstMs || allMs, allMs, doneMs };
}

const cidrsOf = (routes: number) => Array.from({ length: routes }, (_, i) => `10.${100 + Math.floor(i / 250)}.${i % 250}.0/24`);
const benchMetrics = () => createMetrics({ latencyBucketsCount: 2, maxLatencyUs: 10, version: "bench" });

async function gcpOnce(routes: number): Promise<Result> {
  const compute = await new FakeCompute().start();
  const metadata = await new FakeGceMetadata(compute, "vpn-a").start();
  compute.latencyMs = latencyMs;
  compute.opPolls = 1;
  const cidrs = cidrsOf(routes);
  cidrs.forEach((destRange, i) => compute.addRoute({ name: `partner-${i}`, destRange, instance: "vpn-b" }));
  let active = false;
  const context: JobContext = { metrics: benchMetrics(), dryRun: false, bridgeActive: () => active };
  const component = new GcpRoutesComponent(
    { bridge: "bench", role: "standby", peerCidrs: cidrs, interfaces: ["eth0"], gcp: { routePriority: 1000, routeTags: [], timeoutMs: 10_000, endpoint: compute.url, metadataEndpoint: metadata.url, driftIntervalMs: 0, partnerClaimHoldMaxMs: 60_000 } },
    context,
    { env: {}, watchIntervalMs: 1, pollIntervalMs, localAddresses: () => ({ ipv4: ["10.132.0.2"], ipv6: [] }) },
  );
  const moved = () => cidrs.filter((c) => compute.hopsTo(c).join() === "vpn-a").length;
  const r = await timeActivation(component, () => (active = true), moved, routes);
  const calls = compute.calls.length;
  await compute.stop();
  await metadata.stop();
  return { ...r, calls };
}

async function azureOnce(routes: number): Promise<Result> {
  const arm = await new FakeArm().start();
  const tokens = await new FakeAzureTokens(arm).start();
  arm.latencyMs = latencyMs;
  arm.opPolls = 1;
  const SUB = "00000000-0000-0000-0000-000000000001";
  const RG = "vpn-rg";
  const cidrs = cidrsOf(routes);
  const tables = Array.from({ length: tableCount }, (_, i) => `rt-${i}`);
  for (const t of tables) arm.addTable(SUB, RG, t, Object.fromEntries(cidrs.map((addressPrefix, i) => [`partner-${i}`, { addressPrefix, nextHopType: "VirtualAppliance", nextHopIpAddress: "10.0.0.5" }])));
  let active = false;
  const context: JobContext = { metrics: benchMetrics(), dryRun: false, bridgeActive: () => active };
  const component = new AzureRoutesComponent(
    {
      bridge: "bench",
      role: "standby",
      peerCidrs: cidrs,
      interfaces: ["eth0"],
      azure: { subscriptionId: SUB, resourceGroup: RG, routeTables: tables, apiVersion: "2023-09-01", endpoint: arm.url, metadataEndpoint: tokens.url, authority: `${tokens.url}/`, timeoutMs: 10_000, driftIntervalMs: 0, partnerClaimHoldMaxMs: 60_000 },
    },
    context,
    { env: {}, watchIntervalMs: 1, pollIntervalMs, localAddresses: () => ({ ipv4: ["10.0.0.4"], ipv6: [] }) },
  );
  const moved = () => tables.reduce((n, t) => n + cidrs.filter((c) => arm.hopsTo(SUB, RG, t, c).join() === "10.0.0.4").length, 0);
  const r = await timeActivation(component, () => (active = true), moved, routes * tableCount);
  const calls = arm.calls.length;
  await arm.stop();
  await tokens.stop();
  return { ...r, calls };
}

const runtime = "Deno" in globalThis ? "deno" : "bun";
const runs: Record<string, { title: string; once: (routes: number) => Promise<Result> }> = {
  aws: { title: `AWS, ${tableCount} tables, ${latencyMs} ms per EC2 call`, once },
  gcp: { title: `GCP, one network, ${latencyMs} ms per Compute Engine call, Operations polled every ${pollIntervalMs} ms`, once: gcpOnce },
  azure: { title: `Azure, ${tableCount} tables, ${latencyMs} ms per ARM call, operations polled every ${pollIntervalMs} ms`, once: azureOnce },
};
for (const cloud of clouds) {
  const run = runs[cloud];
  if (!run) throw new Error(`--cloud ${cloud}: aws, gcp or azure`);
  console.log(`cloud routes, ${runtime}: ${run.title}`);
  console.log("| routes per table | first route moved | all routes moved | read-back done | API calls |");
  console.log("|---:|---:|---:|---:|---:|");
  for (const routes of routeCounts) {
    const r = await run.once(routes);
    console.log(`| ${routes} | ${Math.round(r.firstMs)} ms | ${Math.round(r.allMs)} ms | ${Math.round(r.doneMs)} ms | ${r.calls} |`);
  }
}
