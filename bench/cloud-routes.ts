/**
 * Issue 14: bridge activation → AWS route tables updated, against the loopback fake EC2 with
 * 50 ms latency per call (docs/performance.md §Cloud route tables). 5 tables, 1 / 10 / 100
 * destinations each, every route first targeting the partner: per table one read, one
 * ReplaceRoute per destination (serial per table), one read-back; tables in parallel.
 * Prints the time to the first route moved, to every route moved, and to the read-back done.
 * The failover itself (partner judged down) comes on top: see §Failover.
 *
 *   bun bench/cloud-routes.ts [--latency-ms 50] [--tables 5] [--routes 1,10,100]
 */
import { parseArgs } from "node:util";
import { AwsRoutesComponent } from "../src/cloud/job.ts";
import type { JobContext } from "../src/daemon/component.ts";
import { createMetrics } from "../src/metrics/registry.ts";
import { configureLogger } from "../src/util/log.ts";
import { EXAMPLE_KEY_ID, EXAMPLE_SECRET, FakeEc2 } from "../test/support/fake-aws.ts";

const { values } = parseArgs({
  options: {
    "latency-ms": { type: "string", default: "50" },
    tables: { type: "string", default: "5" },
    routes: { type: "string", default: "1,10,100" },
  },
});
const latencyMs = Number(values["latency-ms"]);
const tableCount = Number(values.tables);
const routeCounts = values.routes!.split(",").map(Number);
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

const runtime = "Deno" in globalThis ? "deno" : "bun";
console.log(`cloud routes, ${runtime}: ${tableCount} tables, ${latencyMs} ms per EC2 call`);
console.log("| routes per table | first route moved | all routes moved | read-back done | EC2 calls |");
console.log("|---:|---:|---:|---:|---:|");
for (const routes of routeCounts) {
  const r = await once(routes);
  console.log(`| ${routes} | ${Math.round(r.firstMs)} ms | ${Math.round(r.allMs)} ms | ${Math.round(r.doneMs)} ms | ${r.calls} |`);
}
