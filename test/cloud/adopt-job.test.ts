// adopt_partner_routes against the loopback fake EC2 + IMDSv2 (test/support/fake-aws.ts): while
// standby the job learns the routes that target the partner's ENI and keeps them in its state
// file; after a restart from that file it takes them over with its own at activation, and leaves
// routes to anyone else alone (docs/cloud-routes.md §Adopting the partner's routes).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AwsRoutesComponent, type AwsRoutesSettings } from "../../src/cloud/job.ts";
import type { CloudAws } from "../../src/cloud/schema.ts";
import type { JobContext } from "../../src/daemon/component.ts";
import { createMetrics } from "../../src/metrics/registry.ts";
import { waitFor } from "../../src/util/wait.ts";
import { FakeEc2, FakeImds } from "../support/fake-aws.ts";
import { quietLogs } from "../robustness/support.ts";

const ME = "eni-0aaaaaaaaaaaaaaa1";
const PARTNER = "eni-0bbbbbbbbbbbbbbb2";
const ELSE = "eni-0ccccccccccccccc3";
const T1 = "rtb-0000000000000001a";

let restoreLogs: () => void;
before(() => (restoreLogs = quietLogs()));
after(() => restoreLogs());

function component(ec2: FakeEc2, imds: FakeImds, stateFile: string, state: { active: boolean }) {
  const context: JobContext = { metrics: createMetrics({ latencyBucketsCount: 2, maxLatencyUs: 10, version: "test" }), dryRun: false, bridgeActive: () => state.active, partnerActive: () => undefined };
  const aws: CloudAws = { timeoutMs: 2000, routeTables: [T1], endpoint: ec2.url, metadataEndpoint: imds.url, driftIntervalMs: 0, partnerClaimHoldMaxMs: 60_000, adoptPartnerRoutes: true, adoptStateFile: stateFile };
  const settings: AwsRoutesSettings = { bridge: "vpn", role: "standby", peerCidrs: ["10.99.0.0/16"], interfaces: ["eth0"], aws };
  return new AwsRoutesComponent(settings, context, {
    env: {},
    watchIntervalMs: 10,
    learnIntervalMs: 20,
    retry: { retries: 6, initialMs: 20, maxMs: 100 },
    localAddresses: (ifname) => (ifname === "eth0" ? { ipv4: ["10.0.1.10"], ipv6: [] } : { ipv4: [], ipv6: [] }),
  });
}

test("learned while standby, kept in the state file, taken over at activation after a restart", { timeout: 20_000 }, async () => {
  const ec2 = new FakeEc2();
  const imds = new FakeImds(ec2);
  imds.nics = [{ mac: "0e:00:00:00:00:01", eni: ME, vpcId: "vpc-a", ipv4s: ["10.0.1.10"] }];
  await ec2.start();
  await imds.start();
  const dir = mkdtempSync(join(tmpdir(), "h14b-adopt-"));
  const stateFile = join(dir, "adopted.json");
  const learned = () => {
    try {
      return (JSON.parse(readFileSync(stateFile, "utf8")) as { tables: Record<string, { destinations: string[] }> }).tables[T1]?.destinations ?? [];
    } catch {
      return [];
    }
  };
  ec2.addTable(T1, "vpc-a", [
    { destination: "10.99.0.0/16", networkInterfaceId: PARTNER },
    { destination: "10.60.0.0/24", networkInterfaceId: PARTNER }, // learned by the partner over BGP
    { destination: "10.70.0.0/24", networkInterfaceId: ELSE },
  ]);
  const bridge = { active: false };
  let first = component(ec2, imds, stateFile, bridge);
  try {
    await first.start();
    await waitFor(() => learned().join() === "10.60.0.0/24", { timeoutMs: 10_000, what: "the partner's BGP prefix learned" });
    ec2.setTarget(T1, "10.61.0.0/24", PARTNER); // a new prefix on the partner
    await waitFor(() => learned().join() === "10.60.0.0/24,10.61.0.0/24", { timeoutMs: 10_000, what: "the new prefix learned" });
    assert.deepEqual(ec2.writes(), [], "a standby only reads");
    assert.deepEqual(first.status()["adopted"], { [T1]: { partners: [PARTNER], destinations: ["10.60.0.0/24", "10.61.0.0/24"] } });
    await first.stop();

    // The partner dies; we restart before we learn anything more: the file is what we know.
    first = component(ec2, imds, stateFile, bridge);
    bridge.active = true;
    await first.start();
    await waitFor(() => ["10.99.0.0/16", "10.60.0.0/24", "10.61.0.0/24"].every((d) => ec2.targetOf(T1, d) === ME), { timeoutMs: 10_000, what: "ours and the partner's routes at us" });
    await first.settled();
    assert.equal(ec2.targetOf(T1, "10.70.0.0/24"), ELSE, "a route to someone else is not the partner's");
    assert.deepEqual(ec2.signatureFailures, []);
  } finally {
    await first.stop();
    await ec2.stop();
    await imds.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
