// Azure route tables (src/cloud/azure/): the plan, table-tested; names; errors; and the job
// against the loopback fakes (test/support/fake-azure.ts): managed identity or service principal
// token, routes created or updated in place with each long-running operation polled to
// Succeeded, drift repaired, throttling retried, dry-run changes nothing.
import { cloudBridgeYaml } from "./bridge-yaml.ts";
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { destinationsOf } from "../../src/cloud/aws/plan.ts";
import { azureError, type AzureRoute } from "../../src/cloud/azure/arm.ts";
import { azureTokenStale } from "../../src/cloud/azure/identity.ts";
import { azureRouteName, describeAzureStep, planAzureRoutes, viewAzureRoutes, type AzureDesired } from "../../src/cloud/azure/plan.ts";
import { AzureRoutesComponent, type AzureRoutesSettings } from "../../src/cloud/job.ts";
import type { CloudAzure } from "../../src/cloud/schema.ts";
import { parseConfigWith } from "../../src/config/index.ts";
import type { JobContext } from "../../src/daemon/component.ts";
import { createMetrics } from "../../src/metrics/registry.ts";
import { isRetryable } from "../../src/reconcile/action.ts";
import { waitFor } from "../../src/util/wait.ts";
import { FakeArm, FakeAzureTokens } from "../support/fake-azure.ts";
import { quietLogs } from "../robustness/support.ts";

const desired: AzureDesired = { prefix: "vpnham-b", destinations: destinationsOf(["10.1.0.0/16", "2001:db8:1::/56"]), nextHop: { 4: "10.0.0.4", 6: "fd00::4" } };
const va = (name: string, addressPrefix: string, nextHopIpAddress: string): AzureRoute => ({ name, addressPrefix, nextHopType: "VirtualAppliance", nextHopIpAddress });

describe("planAzureRoutes", () => {
  const cases: Array<[string, AzureRoute[], string[]]> = [
    [
      "no routes → create both, IPv6 to our IPv6 address",
      [],
      [
        "routes.createOrUpdate routeTable=rt name=vpnham-b-10.1.0.0-16 addressPrefix=10.1.0.0/16 nextHopType=VirtualAppliance nextHopIpAddress=10.0.0.4 (was no route)",
        "routes.createOrUpdate routeTable=rt name=vpnham-b-2001-db8-1-56 addressPrefix=2001:db8:1::/56 nextHopType=VirtualAppliance nextHopIpAddress=fd00::4 (was no route)",
      ],
    ],
    ["ours → nothing", [va("a", "10.1.0.0/16", "10.0.0.4"), va("b", "2001:db8:1::/56", "fd00::4")], []],
    [
      "the partner's → updated in place (same name)",
      [va("theirs", "10.1.0.0/16", "10.0.0.5"), va("b", "2001:db8:1::/56", "fd00::4")],
      ["routes.createOrUpdate routeTable=rt name=theirs addressPrefix=10.1.0.0/16 nextHopType=VirtualAppliance nextHopIpAddress=10.0.0.4 (was 10.0.0.5)"],
    ],
    [
      "a gateway route → updated; duplicates → deleted",
      [{ name: "gw", addressPrefix: "10.1.0.0/16", nextHopType: "VirtualNetworkGateway" }, va("dup", "10.1.0.0/16", "10.0.0.4"), va("b", "2001:db8:1::/56", "fd00::4")],
      ["routes.delete routeTable=rt name=dup (was 10.0.0.4)", "routes.createOrUpdate routeTable=rt name=gw addressPrefix=10.1.0.0/16 nextHopType=VirtualAppliance nextHopIpAddress=10.0.0.4 (was VirtualNetworkGateway)"],
    ],
  ];
  for (const [name, routes, want] of cases) test(name, () => assert.deepEqual(planAzureRoutes(desired, routes).map((s) => describeAzureStep("rt", s)), want));

  test("no address of a family: a clear error", () => {
    assert.throws(() => planAzureRoutes({ ...desired, nextHop: { 4: "10.0.0.4" } }, []), /no IPv6 address to route 2001:db8:1::\/56/);
  });

  test("view: a None next hop counts as dead", () => {
    assert.deepEqual(viewAzureRoutes(desired, [{ name: "x", addressPrefix: "10.1.0.0/16", nextHopType: "None" }, va("b", "2001:db8:1::/56", "fd00::4")]), { ours: 1, missing: 0, others: [{ target: "None", blackhole: true }] });
  });

  test("names, errors, token refresh", () => {
    assert.equal(azureRouteName("vpnham-b", "10.1.0.0/16"), "vpnham-b-10.1.0.0-16");
    assert.equal(azureRouteName("p", "::/0"), "p-0");
    for (const [status, code, retryable] of [[429, "TooManyRequests", true], [409, "AnotherOperationInProgress", true], [500, "InternalServerError", true], [403, "AuthorizationFailed", false], [404, "ResourceNotFound", false]] as const) {
      assert.equal(isRetryable(azureError("x", status, JSON.stringify({ error: { code, message: "m" } }))), retryable, code);
    }
    assert.equal(azureTokenStale(0, 86_399, 86_399_000 - 301_000), false);
    assert.equal(azureTokenStale(0, 86_399, 86_399_000 - 299_000), true);
  });
});

describe("the Azure route job against the fakes", () => {
  let restoreLogs: () => void;
  before(() => (restoreLogs = quietLogs()));
  after(() => restoreLogs());
  const SUB = "00000000-0000-0000-0000-000000000001";
  const RG = "vpn-rg";
  const cidrs = ["10.160.0.0/16", "192.168.160.0/24"];

  async function world(options: { dryRun?: boolean; azure?: Partial<CloudAzure>; env?: Record<string, string> } = {}) {
    const arm = await new FakeArm().start();
    const tokens = await new FakeAzureTokens(arm).start();
    arm.addTable(SUB, RG, "rt-a", { "to-partner": { addressPrefix: cidrs[0]!, nextHopType: "VirtualAppliance", nextHopIpAddress: "10.0.0.5" } });
    arm.addTable(SUB, RG, "rt-b");
    let active = false;
    const context: JobContext = { metrics: createMetrics({ latencyBucketsCount: 2, maxLatencyUs: 10, version: "t" }), dryRun: options.dryRun ?? false, bridgeActive: () => active };
    const azure: CloudAzure = { subscriptionId: SUB, resourceGroup: RG, routeTables: ["rt-a", "rt-b"], apiVersion: "2023-09-01", endpoint: arm.url, metadataEndpoint: tokens.url, authority: `${tokens.url}/`, timeoutMs: 3000, driftIntervalMs: 0, partnerClaimHoldMaxMs: 60_000, ...options.azure };
    const settings: AzureRoutesSettings = { bridge: "b", role: "active", peerCidrs: cidrs, interfaces: ["eth0"], azure };
    const component = new AzureRoutesComponent(settings, context, { env: options.env ?? {}, watchIntervalMs: 10, retry: { retries: 6, initialMs: 20, maxMs: 100 }, pollIntervalMs: 10, localAddresses: () => ({ ipv4: ["10.0.0.4"], ipv6: [] }) });
    const ours = () => ["rt-a", "rt-b"].every((t) => cidrs.every((c) => arm.hopsTo(SUB, RG, t, c).join() === "10.0.0.4"));
    return { arm, tokens, component, ours, activate: () => (active = true), close: async () => (await component.stop(), await arm.stop(), await tokens.stop()) };
  }

  test("managed identity: routes created or updated, operations polled, drift and throttling handled", { timeout: 20_000 }, async () => {
    const w = await world({ azure: { driftIntervalMs: 200, clientId: "11111111-2222-3333-4444-555555555555" } });
    try {
      await w.component.start();
      w.activate();
      await waitFor(w.ours, { timeoutMs: 10_000, what: "routes at 10.0.0.4" });
      assert.ok(w.arm.table(SUB, RG, "rt-a").has("to-partner"), "the partner's route was updated in place");
      assert.deepEqual(w.tokens.issued, ["managed 11111111-2222-3333-4444-555555555555"]);
      assert.ok(w.arm.calls.some((c) => c.path.includes("/operations/")), "operations were polled");
      assert.equal(w.component.status().identity, "managed identity 11111111-2222-3333-4444-555555555555");

      await w.component.settled();
      w.arm.faults.push({ status: 429, code: "TooManyRequests", retryAfterS: 1 }, { status: 409, code: "AnotherOperationInProgress", method: "PUT" });
      w.arm.table(SUB, RG, "rt-b").set("console", { addressPrefix: "10.99.0.0/16", nextHopType: "Internet" });
      w.arm.table(SUB, RG, "rt-b").get("vpnham-b-192.168.160.0-24")!.nextHopIpAddress = "10.0.0.9";
      await waitFor(() => w.ours() && w.arm.faults.length === 0, { timeoutMs: 10_000, what: "drift repaired through throttling" });
      assert.equal(w.arm.hopsTo(SUB, RG, "rt-b", "10.99.0.0/16").join(), "Internet", "other routes untouched");

      // A token ARM stops accepting is fetched again.
      w.arm.tokens.clear();
      w.arm.table(SUB, RG, "rt-a").get("to-partner")!.nextHopIpAddress = "10.0.0.5";
      await waitFor(w.ours, { timeoutMs: 10_000, what: "repaired with a new token" });
      assert.equal(w.tokens.issued.length, 2);
    } finally {
      await w.close();
    }
  });

  test("a service principal whose secret is in a file", { timeout: 20_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "vpnham-h-cloud-azure-"));
    const secretFile = join(dir, "sp.secret");
    writeFileSync(secretFile, "s3cret-value\n", { mode: 0o600 });
    const w = await world({ azure: { clientId: "app-1", tenantId: "tenant-1", clientSecretFile: secretFile } });
    w.tokens.secrets.set("app-1", "s3cret-value");
    try {
      await w.component.start();
      w.activate();
      await waitFor(w.ours, { timeoutMs: 10_000, what: "routes at 10.0.0.4" });
      assert.deepEqual(w.tokens.issued, ["secret app-1@tenant-1"]);
    } finally {
      await w.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("dry run: the plan, nothing written", { timeout: 20_000 }, async () => {
    const w = await world({ dryRun: true });
    try {
      await w.component.start();
      w.activate();
      await waitFor(() => w.component.status().tables["rt-a"]?.lastOutcome === "dry_run" && w.component.status().tables["rt-b"]?.lastOutcome === "dry_run", { timeoutMs: 10_000, what: "dry runs" });
      assert.deepEqual(w.component.status().tables["rt-a"]!.lastPlan, [
        "routes.createOrUpdate routeTable=rt-a name=to-partner addressPrefix=10.160.0.0/16 nextHopType=VirtualAppliance nextHopIpAddress=10.0.0.4 (was 10.0.0.5)",
        "routes.createOrUpdate routeTable=rt-a name=vpnham-b-192.168.160.0-24 addressPrefix=192.168.160.0/24 nextHopType=VirtualAppliance nextHopIpAddress=10.0.0.4 (was no route)",
      ]);
      assert.deepEqual(w.arm.writes(), []);
    } finally {
      await w.close();
    }
  });
});

test("azure: config keys load, client_secret_file relative to the config", () => {
  const { config, warnings } = parseConfigWith(
    cloudBridgeYaml(`azure:
  subscription_id: 00000000-0000-0000-0000-000000000001
  resource_group: vpn-rg
  route_tables: [rt-a]
  client_id: app
  tenant_id: t
  client_secret_file: sp.secret`),
    { baseDir: "/etc/vpnham" },
  );
  assert.deepEqual(warnings, []);
  const azure = config.bridges[0]!.hooks.bridge_activate!.cloud!.azure!;
  assert.equal(azure.clientSecretFile, "/etc/vpnham/sp.secret");
  assert.equal(azure.apiVersion, "2023-09-01");
  assert.equal(azure.driftIntervalMs, 60_000);
});
