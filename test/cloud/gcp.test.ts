// GCP routes (src/cloud/gcp/): the plan, table-tested; names; the metadata endpoint; and the job
// against the loopback fakes (test/support/fake-gcp.ts): activation inserts our routes and
// deletes the partner's after each Operation is DONE, drift is repaired, rate limits and expired
// tokens are retried, dry-run changes nothing, the configured-standby holds for an active partner.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { destinationsOf } from "../../src/cloud/aws/plan.ts";
import { gceError, parseRoute, type GceRoute } from "../../src/cloud/gcp/compute.ts";
import { gceMetadataEndpoint, gceTokenStale } from "../../src/cloud/gcp/metadata.ts";
import { describeGcpStep, planGcpRoutes, routeName, viewGcpRoutes, type GcpDesired } from "../../src/cloud/gcp/plan.ts";
import { GcpRoutesComponent, type GcpRoutesSettings } from "../../src/cloud/job.ts";
import type { CloudGcp } from "../../src/cloud/schema.ts";
import type { JobContext } from "../../src/daemon/component.ts";
import { createMetrics } from "../../src/metrics/registry.ts";
import { isRetryable } from "../../src/reconcile/action.ts";
import { waitFor } from "../../src/util/wait.ts";
import { FakeCompute, FakeGceMetadata } from "../support/fake-gcp.ts";
import { quietLogs } from "../robustness/support.ts";

const me = "projects/p/zones/z/instances/vpn-a";
const desired: GcpDesired = { prefix: "vpnham-b", priority: 1000, tags: [], instance: me, networks: ["default"], destinations: destinationsOf(["10.1.0.0/16"]) };
const ours = routeName("vpnham-b", "default", me, "10.1.0.0/16");
const route = (name: string, target: string, extra: Partial<GceRoute> = {}): GceRoute => ({
  name,
  network: "default",
  destRange: "10.1.0.0/16",
  priority: 1000,
  tags: [],
  ...(target.startsWith("projects/") ? { nextHopInstance: target } : {}),
  target,
  dead: false,
  ...extra,
});

describe("planGcpRoutes", () => {
  const insert = `routes.insert name=${ours} network=default destRange=10.1.0.0/16 nextHopInstance=${me} priority=1000 tags=[]`;
  const cases: Array<[string, GceRoute[], string[]]> = [
    ["no route → insert ours", [], [insert]],
    ["ours → nothing", [route(ours, me)], []],
    ["the partner's → insert ours, then delete it (never without a route)", [route("vpnham-b-default-1234abcd", "projects/p/zones/z/instances/vpn-b")], [insert, "routes.delete name=vpnham-b-default-1234abcd (was projects/p/zones/z/instances/vpn-b)"]],
    ["ours and another → delete the other", [route(ours, me), route("manual", "projects/p/zones/z/instances/x")], ["routes.delete name=manual (was projects/p/zones/z/instances/x)"]],
    ["ours, stale (another priority) → delete it first, insert", [route(ours, me, { priority: 900 })], [`routes.delete name=${ours} (was ${me})`, insert]],
    ["other networks and destinations are not touched", [route("x", "projects/p/zones/z/instances/x", { network: "other" }), route("y", "gw", { destRange: "10.2.0.0/16" })], [insert]],
  ];
  for (const [name, routes, want] of cases) test(name, () => assert.deepEqual(planGcpRoutes(desired, routes).map(describeGcpStep), want));

  test("view for the split-brain rule: our stale route is ours to fix, not someone to yield to", () => {
    assert.deepEqual(viewGcpRoutes(desired, [route(ours, me, { priority: 1 })]), { ours: 0, missing: 1, others: [] });
    assert.deepEqual(viewGcpRoutes(desired, [route("p", "projects/p/zones/z/instances/vpn-b", { dead: true })]), { ours: 0, missing: 0, others: [{ target: "projects/p/zones/z/instances/vpn-b", blackhole: true }] });
  });

  test("route names: valid, at most 63 characters, different per instance and destination", () => {
    const long = routeName("vpnham-a-very-long-bridge-name-that-goes-on-and-on", "a-network-with-a-long-name", me, "10.1.0.0/16");
    assert.match(long, /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/);
    assert.ok(long.length <= 63);
    assert.notEqual(routeName("p", "n", me, "10.1.0.0/16"), routeName("p", "n", "projects/p/zones/z/instances/vpn-b", "10.1.0.0/16"));
    assert.notEqual(routeName("p", "n", me, "10.1.0.0/16"), routeName("p", "n", me, "10.2.0.0/16"));
    assert.match(routeName("9x", "N_et", me, "::/0"), /^r-9x-n-et-[0-9a-f]{8}$/);
  });
});

describe("GCP pieces", () => {
  test("metadata endpoint: config, GCE_METADATA_HOST, default", () => {
    assert.equal(gceMetadataEndpoint("http://127.0.0.1:9/", { GCE_METADATA_HOST: "x" }), "http://127.0.0.1:9");
    assert.equal(gceMetadataEndpoint(undefined, { GCE_METADATA_HOST: "169.254.169.254:8080" }), "http://169.254.169.254:8080");
    assert.equal(gceMetadataEndpoint(undefined, {}), "http://metadata.google.internal");
  });

  test("tokens are replaced a minute early", () => {
    assert.equal(gceTokenStale(0, 3599, 3_538_000), false);
    assert.equal(gceTokenStale(0, 3599, 3_539_000), true);
  });

  test("API errors keep their reason; rate limits, 5xx and races are retryable", () => {
    const body = (status: number, reason: string) => JSON.stringify({ error: { code: status, message: "m", errors: [{ reason }] } });
    for (const [status, reason, retryable] of [[429, "rateLimitExceeded", true], [403, "rateLimitExceeded", true], [503, "backendError", true], [409, "alreadyExists", true], [404, "notFound", true], [403, "forbidden", false], [400, "invalid", false]] as const) {
      const e = gceError("routes.insert", status, body(status, reason));
      assert.equal(e.reason, reason);
      assert.equal(isRetryable(e), retryable, `${status} ${reason}`);
    }
  });

  test("routes as the API writes them", () => {
    const r = parseRoute({ name: "x", network: "https://www.googleapis.com/compute/v1/projects/p/global/networks/default", destRange: "10.1.0.0/16", priority: 1000, nextHopInstance: `https://www.googleapis.com/compute/v1/${me}`, warnings: [{ code: "NEXT_HOP_INSTANCE_NOT_FOUND" }] });
    assert.deepEqual(r, { name: "x", network: "default", destRange: "10.1.0.0/16", priority: 1000, tags: [], nextHopInstance: me, target: me, dead: true });
  });
});

describe("the GCP route job against the fakes", () => {
  let restoreLogs: () => void;
  before(() => (restoreLogs = quietLogs()));
  after(() => restoreLogs());
  const cidrs = ["10.150.0.0/16", "2001:db8:150::/56"];

  async function world(options: { dryRun?: boolean; role?: "active" | "standby"; gcp?: Partial<CloudGcp> } = {}) {
    const compute = await new FakeCompute().start();
    const metadata = await new FakeGceMetadata(compute, "vpn-a").start();
    const state = { active: false, partnerActive: undefined as boolean | undefined };
    const context: JobContext = { metrics: createMetrics({ latencyBucketsCount: 2, maxLatencyUs: 10, version: "t" }), dryRun: options.dryRun ?? false, bridgeActive: () => state.active, partnerActive: () => state.partnerActive };
    const gcp: CloudGcp = { routePriority: 1000, routeTags: ["vpn-clients"], timeoutMs: 3000, endpoint: compute.url, metadataEndpoint: metadata.url, driftIntervalMs: 0, partnerClaimHoldMaxMs: 60_000, ...options.gcp };
    const settings: GcpRoutesSettings = { bridge: "b", role: options.role ?? "active", peerCidrs: cidrs, interfaces: ["eth0"], gcp };
    const component = new GcpRoutesComponent(settings, context, {
      env: {},
      watchIntervalMs: 10,
      retry: { retries: 6, initialMs: 20, maxMs: 100 },
      pollIntervalMs: 10,
      localAddresses: () => ({ ipv4: ["10.132.0.2"], ipv6: [] }),
    });
    const onlyUs = () => cidrs.every((c) => compute.hopsTo(c).join() === "vpn-a");
    return { compute, metadata, state, component, onlyUs, close: async () => (await component.stop(), await compute.stop(), await metadata.stop()) };
  }

  test("activation: ours inserted, the partner's deleted, every Operation waited on; drift repaired; 429 and expired tokens retried", { timeout: 20_000 }, async () => {
    const w = await world({ gcp: { driftIntervalMs: 200 } });
    try {
      for (const c of cidrs) w.compute.addRoute({ name: `vpnham-b-default-${c.includes(":") ? "v6" : "v4"}-partner`, destRange: c, instance: "vpn-b", tags: ["vpn-clients"] });
      w.compute.addRoute({ name: "default-internet", destRange: "0.0.0.0/0", gateway: "default-internet-gateway", priority: 1000 });
      await w.component.start();
      assert.equal(w.compute.calls.length + w.metadata.requests.length, 0, "nothing before activation");
      w.state.active = true;
      await waitFor(w.onlyUs, { timeoutMs: 10_000, what: "routes at vpn-a only" });
      await w.component.settled();
      const status = w.component.status();
      assert.equal(status.project, "vpn-project");
      assert.equal(status.instance, "projects/vpn-project/zones/europe-west1-b/instances/vpn-a");
      assert.deepEqual(status.networks, ["default"]);
      assert.equal(status.tables.routes!.lastOutcome, "applied");
      assert.deepEqual(w.compute.hopsTo("0.0.0.0/0"), ["default-internet-gateway"], "other routes untouched");
      const ourRoute = [...w.compute.routes.values()].find((r) => r.destRange === cidrs[0]);
      assert.deepEqual(ourRoute?.tags, ["vpn-clients"]);
      assert.ok(w.compute.calls.some((c) => c.path.includes("/operations/")), "operations were polled");
      assert.deepEqual(w.compute.unauthorized, []);

      // A console edit (someone's route for our destination) goes at the next drift run, through a rate limit.
      w.compute.faults.push({ status: 429, reason: "rateLimitExceeded", message: "Rate Limit Exceeded" }, { status: 503, reason: "backendError" });
      w.compute.addRoute({ name: "console-edit", destRange: cidrs[1]!, instance: "someone" });
      await waitFor(() => w.onlyUs() && w.compute.faults.length === 0, { timeoutMs: 10_000, what: "console edit removed" });

      // Tokens that expire (and one revoked) are fetched again.
      const issued = w.metadata.tokensIssued;
      w.compute.tokens.clear();
      w.compute.addRoute({ name: "console-edit-2", destRange: cidrs[0]!, instance: "someone" });
      await waitFor(() => w.onlyUs(), { timeoutMs: 10_000, what: "repaired with a new token" });
      assert.ok(w.metadata.tokensIssued > issued);
    } finally {
      await w.close();
    }
  });

  test("dry run: plan logged in the status, nothing written", { timeout: 20_000 }, async () => {
    const w = await world({ dryRun: true });
    try {
      w.compute.addRoute({ name: "partner", destRange: cidrs[0]!, instance: "vpn-b" });
      await w.component.start();
      w.state.active = true;
      await waitFor(() => w.component.status().tables.routes?.lastOutcome === "dry_run", { timeoutMs: 10_000, what: "dry run" });
      const plan = w.component.status().tables.routes!.lastPlan!;
      assert.equal(plan.length, 3);
      assert.match(plan[0]!, /^routes\.insert name=vpnham-b-default-[0-9a-f]{8} network=default destRange=10\.150\.0\.0\/16 nextHopInstance=projects\/vpn-project\/zones\/europe-west1-b\/instances\/vpn-a priority=1000 tags=\[vpn-clients\]$/);
      assert.equal(plan[1], "routes.delete name=partner (was projects/vpn-project/zones/europe-west1-b/instances/vpn-b)");
      assert.deepEqual(w.compute.writes(), []);
    } finally {
      await w.close();
    }
  });

  test("the configured-standby holds while the partner reports itself active", { timeout: 20_000 }, async () => {
    const w = await world({ role: "standby" });
    try {
      for (const c of cidrs) w.compute.addRoute({ name: `p${c.length}`, destRange: c, instance: "vpn-b" });
      await w.component.start();
      w.state.partnerActive = true;
      w.state.active = true;
      await waitFor(() => /partner reports itself active/.test(w.component.status().tables.routes?.hold ?? ""), { timeoutMs: 5000, what: "hold" });
      assert.deepEqual(w.compute.writes(), []);
      w.state.partnerActive = undefined;
      await w.component.stop();
      await w.component.start();
      w.state.active = true;
      await waitFor(w.onlyUs, { timeoutMs: 10_000, what: "takeover" });
    } finally {
      await w.close();
    }
  });
});
