/**
 * The Route 53 provider against the loopback fake (docs/dns-failover.md §Route 53): every request
 * SigV4-verified by the fake; read with paging; the whole RRset UPSERTed in one batch; INSYNC
 * waited for; throttling retried; a dry run that changes nothing; drift repaired; the endpoint
 * and the credentials from the environment; the config keys.
 */
import { after, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Registry } from "prom-client";
import type { Route53Provider } from "../../src/dns/config.ts";
import { createDnsMetrics } from "../../src/dns/metrics.ts";
import { providerSchema } from "../../src/dns/provider-schema.ts";
import { createProviderClient } from "../../src/dns/provider.ts";
import { createNameReconciler } from "../../src/dns/reconciler.ts";
import { createRoute53Client, recordSetChanges, route53Endpoint } from "../../src/dns/route53.ts";
import { createCredentialsProvider } from "../../src/cloud/aws/credentials.ts";
import { createHttpClient } from "../../src/cloud/http.ts";
import { isRetryable } from "../../src/reconcile/action.ts";
import { startReconcileLoop } from "../../src/reconcile/engine.ts";
import { createReconcileMetrics } from "../../src/reconcile/metrics.ts";
import { EXAMPLE_KEY_ID, EXAMPLE_SECRET, FakeRoute53 } from "./route53-fake.ts";

const name = "vpn.example.com";
const signal = () => AbortSignal.timeout(5000);
const goodEnv = { AWS_ACCESS_KEY_ID: EXAMPLE_KEY_ID, AWS_SECRET_ACCESS_KEY: EXAMPLE_SECRET, AWS_EC2_METADATA_DISABLED: "true" };

describe("route53: record-set changes (pure)", () => {
  const actual = [
    { type: "A" as const, address: "192.0.2.1", ttlS: 60 },
    { type: "A" as const, address: "192.0.2.2", ttlS: 60 },
  ];
  const cases: Array<[string, Parameters<typeof recordSetChanges>[0], ReturnType<typeof recordSetChanges>]> = [
    ["an add upserts the whole set", [{ action: "add", type: "A", address: "192.0.2.3", ttlS: 60 }], [{ action: "UPSERT", set: { type: "A", ttlS: 60, values: ["192.0.2.1", "192.0.2.2", "192.0.2.3"] } }]],
    ["a delete upserts what remains, with the set's TTL", [{ action: "delete", type: "A", address: "192.0.2.2", ttlS: 0 }], [{ action: "UPSERT", set: { type: "A", ttlS: 60, values: ["192.0.2.1"] } }]],
    ["a TTL repair upserts the set with the new TTL", [{ action: "add", type: "A", address: "192.0.2.1", ttlS: 30, fromTtlS: 60 }], [{ action: "UPSERT", set: { type: "A", ttlS: 30, values: ["192.0.2.1", "192.0.2.2"] } }]],
    [
      "emptying a set (never planned) deletes it exactly as read",
      [
        { action: "delete", type: "A", address: "192.0.2.1", ttlS: 0 },
        { action: "delete", type: "A", address: "192.0.2.2", ttlS: 0 },
      ],
      [{ action: "DELETE", set: { type: "A", ttlS: 60, values: ["192.0.2.1", "192.0.2.2"] } }],
    ],
    ["a new AAAA set is its own change", [{ action: "add", type: "AAAA", address: "2001:db8::1", ttlS: 60 }], [{ action: "UPSERT", set: { type: "AAAA", ttlS: 60, values: ["2001:db8::1"] } }]],
  ];
  for (const [title, changes, expected] of cases) test(title, () => assert.deepEqual(recordSetChanges(changes, actual), expected));

  test("endpoint: the config key, then AWS_ENDPOINT_URL_ROUTE_53, then AWS_ENDPOINT_URL, then the public one", () => {
    assert.equal(route53Endpoint({ endpoint: "http://r53.internal/", region: "us-east-1" }, { AWS_ENDPOINT_URL: "http://x" }), "http://r53.internal");
    assert.equal(route53Endpoint({ region: "us-east-1" }, { AWS_ENDPOINT_URL_ROUTE_53: "http://a", AWS_ENDPOINT_URL: "http://b" }), "http://a");
    assert.equal(route53Endpoint({ region: "us-east-1" }, { AWS_ENDPOINT_URL: "http://b/" }), "http://b");
    assert.equal(route53Endpoint({ region: "us-east-1" }, {}), "https://route53.amazonaws.com");
  });

  test("config: route53 keys, defaults, and keys of other kinds refused", () => {
    const parsed = providerSchema.parse({ kind: "route53", zone: "example.com", hosted_zone_id: "/hostedzone/Z0123456789ABC" });
    assert.deepEqual(parsed, { kind: "route53", zone: "example.com", timeoutMs: 5000, hostedZoneId: "Z0123456789ABC", region: "us-east-1", insyncTimeoutMs: 120_000 });
    const full = providerSchema.parse({ kind: "route53", zone: "example.com", hosted_zone_id: "Z1", endpoint: "http://127.0.0.1:9/", region: "cn-northwest-1", insync_timeout: "0s" });
    assert.deepEqual(full, { kind: "route53", zone: "example.com", timeoutMs: 5000, hostedZoneId: "Z1", endpoint: "http://127.0.0.1:9", region: "cn-northwest-1", insyncTimeoutMs: 0 });
    const bad = providerSchema.safeParse({ kind: "route53", zone: "example.com", token: "x" });
    assert.equal(bad.success, false);
    const messages = bad.error!.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    assert.ok(messages.some((m) => m.startsWith("hosted_zone_id: missing")), messages.join("\n"));
    assert.ok(messages.some((m) => m.startsWith("token: not used by kind route53")), messages.join("\n"));
    assert.equal(providerSchema.safeParse({ kind: "cloudflare", zone: "example.com", zone_id: "abc", token: "t", insync_timeout: "1s" }).success, false);
  });
});

describe("route53 provider against the fake", () => {
  let fake: FakeRoute53;
  let provider: Route53Provider;
  const http = createHttpClient();
  const credentials = createCredentialsProvider({ env: goodEnv });
  const client = (p: Partial<Route53Provider> = {}) => createRoute53Client({ ...provider, ...p }, { fetch: http.fetch, credentials, env: {}, pollIntervalMs: 10 });
  before(async () => {
    fake = await new FakeRoute53().start();
    provider = { kind: "route53", zone: "example.com", hostedZoneId: fake.hostedZoneId, endpoint: fake.url, region: "us-east-1", timeoutMs: 5000, insyncTimeoutMs: 5000 };
  });
  beforeEach(() => {
    fake.sets = [
      { name: "other.example.com.", type: "A", ttl: 60, values: ["198.51.100.1"] },
      { name: "vpn.example.com.", type: "A", ttl: 60, values: ["192.0.2.1", "192.0.2.2", "192.0.2.3"] },
      { name: "vpn.example.com.", type: "AAAA", ttl: 60, values: ["2001:db8::1"] },
      { name: "vpn.example.com.", type: "TXT", ttl: 60, values: ['"v=1"'] },
      { name: "www.example.com.", type: "A", ttl: 60, values: ["203.0.113.1"] },
    ];
    fake.calls.length = 0;
    fake.batches.length = 0;
    fake.faults.length = 0;
    fake.insyncAfterPolls = 1;
  });
  after(async () => {
    http.close();
    await fake?.stop();
  });

  test("read pages through the name's sets (2 per page here) and keeps its simple A and AAAA records", async () => {
    const records = await client().read(name, signal());
    assert.deepEqual(records.map((r) => `${r.type} ${r.address} ${r.ttlS}`), ["A 192.0.2.1 60", "A 192.0.2.2 60", "A 192.0.2.3 60", "AAAA 2001:db8::1 60"]);
    assert.deepEqual(fake.calls, ["ListResourceRecordSets", "ListResourceRecordSets"]);
    assert.deepEqual(fake.signatureFailures, []);
  });

  test("a wrong secret is refused by the signature check, and final", async () => {
    const wrong = createCredentialsProvider({ env: { ...goodEnv, AWS_SECRET_ACCESS_KEY: "not-the-secret" } });
    const c = createRoute53Client(provider, { fetch: http.fetch, credentials: wrong, env: {} });
    await assert.rejects(c.read(name, signal()), (error: Error) => /SignatureDoesNotMatch/.test(error.message) && !isRetryable(error));
    fake.signatureFailures.length = 0;
  });

  test("a change is one UPSERT of the whole set, then GetChange until INSYNC", async () => {
    fake.insyncAfterPolls = 2;
    const c = client();
    const actual = await c.read(name, signal());
    const steps = c.steps(name, [{ action: "delete", type: "A", address: "192.0.2.2", ttlS: 0 }], actual);
    assert.equal(steps.length, 1);
    assert.equal(steps[0]!.action.describe(), `POST ${fake.url}/2013-04-01/hostedzone/${fake.hostedZoneId}/rrset/ UPSERT vpn.example.com. A 60 192.0.2.1 192.0.2.3`);
    await steps[0]!.action.apply(signal());
    assert.deepEqual(fake.calls.slice(2), ["ChangeResourceRecordSets", "GetChange", "GetChange"]);
    assert.match(fake.batches[0]!, /<Action>UPSERT<\/Action><ResourceRecordSet><Name>vpn\.example\.com\.<\/Name><Type>A<\/Type><TTL>60<\/TTL><ResourceRecords><ResourceRecord><Value>192\.0\.2\.1<\/Value><\/ResourceRecord><ResourceRecord><Value>192\.0\.2\.3<\/Value>/);
    assert.deepEqual(fake.show(name), ["A 192.0.2.1 192.0.2.3 (60)", "AAAA 2001:db8::1 (60)", 'TXT "v=1" (60)']);
  });

  test("a change still PENDING after insync_timeout is a retryable failure (the read-back decides)", async () => {
    fake.insyncAfterPolls = 1000;
    const c = client({ insyncTimeoutMs: 50 });
    const [step] = c.steps(name, [{ action: "add", type: "A", address: "192.0.2.9", ttlS: 60 }], await c.read(name, signal()));
    await assert.rejects(step!.action.apply(signal()), (error: Error) => isRetryable(error) && /still PENDING/.test(error.message));
  });

  test("Throttling and PriorRequestNotComplete are retryable; a DELETE that no longer matches is InvalidChangeBatch, final", async () => {
    const c = client();
    fake.faults.push({ code: "Throttling", status: 400, message: "Rate exceeded", action: "ListResourceRecordSets" });
    await assert.rejects(c.read(name, signal()), (error: Error) => isRetryable(error) && /Throttling: Rate exceeded/.test(error.message));
    fake.faults.push({ code: "PriorRequestNotComplete", status: 400, message: "The request was rejected because Route 53 was still processing a prior request." });
    const actual = await c.read(name, signal()).catch(() => c.read(name, signal()));
    const [step] = c.steps(name, [{ action: "add", type: "A", address: "192.0.2.9", ttlS: 60 }], actual);
    fake.faults.push({ code: "PriorRequestNotComplete", status: 400, action: "ChangeResourceRecordSets" });
    await assert.rejects(step!.action.apply(signal()), (error: Error) => isRetryable(error) && /PriorRequestNotComplete/.test(error.message));
    const stale = [{ type: "A" as const, address: "192.0.2.1", ttlS: 300 }];
    const [del] = c.steps(name, [{ action: "delete", type: "A", address: "192.0.2.1", ttlS: 0 }], stale);
    await assert.rejects(del!.action.apply(signal()), (error: Error) => !isRetryable(error) && /InvalidChangeBatch: Tried to delete/.test(error.message));
  });

  test("as a reconcile target: dry run changes nothing; applied through throttling; read back; the last address kept; drift repaired", async () => {
    const registry = new Registry();
    const metrics = createDnsMetrics(registry);
    const reconcileMetrics = createReconcileMetrics(registry);
    const make = (dryRun: boolean, driftIntervalMs?: number) =>
      startReconcileLoop(createNameReconciler({ name, provider: "r53", client: client(), metrics, dryRun, addresses: ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.9"] }), {
        dryRun,
        callTimeoutMs: 10_000,
        metrics: reconcileMetrics,
        retry: { retries: 5, initialMs: 10, maxMs: 50 },
        ...(driftIntervalMs ? { driftIntervalMs } : {}),
      });
    const desired = { name, ttlS: 60, present: ["192.0.2.1", "192.0.2.9"], absent: ["192.0.2.2", "192.0.2.3"] };
    const dry = make(true);
    dry.setDesired(desired);
    await dry.settled();
    await dry.stop();
    assert.deepEqual(dry.status().lastPlan, [`POST ${fake.url}/2013-04-01/hostedzone/${fake.hostedZoneId}/rrset/ UPSERT vpn.example.com. A 60 192.0.2.1 192.0.2.9`]);
    assert.deepEqual(fake.batches, [], "a dry run sends no change");

    fake.faults.push({ code: "Throttling", status: 400, action: "ListResourceRecordSets" }, { code: "PriorRequestNotComplete", status: 400, action: "ChangeResourceRecordSets" }, { code: "Throttling", status: 400, action: "GetChange" });
    const live = make(false, 100);
    live.setDesired(desired);
    await live.settled();
    assert.equal(live.status().lastOutcome, "applied", JSON.stringify(live.status()));
    assert.deepEqual(fake.show(name), ["A 192.0.2.1 192.0.2.9 (60)", "AAAA 2001:db8::1 (60)", 'TXT "v=1" (60)']);
    assert.equal(fake.faults.length, 0, "every fault was met and retried");

    // Every address dead: the last A records stay (no batch sent).
    const batches = fake.batches.length;
    live.setDesired({ name, ttlS: 60, present: [], absent: ["192.0.2.1", "192.0.2.9"] });
    await live.settled();
    assert.equal(fake.batches.length, batches);

    // Someone edits the set behind our back: the drift run puts it right.
    live.setDesired(desired);
    await live.settled();
    fake.sets.find((s) => s.name === "vpn.example.com." && s.type === "A")!.values = ["192.0.2.1", "192.0.2.2"];
    for (let i = 0; i < 100 && fake.show(name)[0] !== "A 192.0.2.1 192.0.2.9 (60)"; i++) await new Promise((r) => setTimeout(r, 50));
    // The fake holds the change as soon as it is posted; the run still waits for INSYNC and reads
    // back: stopping before it ends would count the repair as failed.
    await live.settled();
    await live.stop();
    assert.equal(fake.show(name)[0], "A 192.0.2.1 192.0.2.9 (60)");
    const text = await registry.metrics();
    assert.match(text, /vpnham_dns_changes_total\{provider="r53",action="delete",outcome="applied"\} 3/);
    assert.match(text, /vpnham_dns_changes_total\{provider="r53",action="add",outcome="dry_run"\} 1/);
    assert.match(text, /vpnham_dns_last_address_kept_total\{name="vpn.example.com"\} 1/);
    assert.deepEqual(fake.signatureFailures, []);
  });

  test("createProviderClient: endpoint from AWS_ENDPOINT_URL, credentials from the environment (the cloud job's chain)", async () => {
    const { endpoint: _, ...noEndpoint } = provider;
    const c = createProviderClient(noEndpoint, { env: { ...goodEnv, AWS_ENDPOINT_URL: fake.url } });
    try {
      assert.equal((await c.read(name, signal())).length, 4);
    } finally {
      c.close?.();
    }
    const none = createProviderClient(noEndpoint, { env: { AWS_ENDPOINT_URL: fake.url, AWS_EC2_METADATA_DISABLED: "true" } });
    await assert.rejects(none.read(name, signal()), /no AWS credentials/);
    none.close?.();
  });
});
