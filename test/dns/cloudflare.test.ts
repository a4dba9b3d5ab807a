/**
 * The Cloudflare provider against the loopback fake (docs/dns-failover.md §Cloudflare): paging,
 * the token on every call, 81058 as success, 429 retried by the engine, a bad token final; and a
 * whole reconcile (dry run, apply, read back, the last address kept).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { createCloudflareClient, CloudflareError } from "../../src/dns/cloudflare.ts";
import type { CloudflareProvider } from "../../src/dns/config.ts";
import { createDnsMetrics } from "../../src/dns/metrics.ts";
import { createNameReconciler } from "../../src/dns/reconciler.ts";
import { startReconcileLoop } from "../../src/reconcile/engine.ts";
import { isRetryable } from "../../src/reconcile/action.ts";
import { createReconcileMetrics } from "../../src/reconcile/metrics.ts";
import { startCloudflareFake, type CloudflareFake } from "./cloudflare-fake.ts";

const ZONE_ID = "023e105f4ecef8ad9ca31a8372d0c353";
const TOKEN = "a-cloudflare-api-token";
const name = "vpn.example.com";
const signal = () => AbortSignal.timeout(5000);
const a = (content: string, ttl = 60) => ({ type: "A", name, content, ttl, proxied: false });

describe("cloudflare provider against the fake", () => {
  let fake: CloudflareFake;
  let provider: CloudflareProvider;
  before(async () => {
    fake = await startCloudflareFake({ zoneId: ZONE_ID, token: TOKEN, records: [a("192.0.2.1"), a("192.0.2.2"), a("192.0.2.3"), { ...a("2001:db8::1"), type: "AAAA" }, { ...a("198.51.100.1"), name: "other.example.com" }] });
    provider = { kind: "cloudflare", zone: "example.com", zoneId: ZONE_ID, apiBase: fake.base, proxied: false, timeoutMs: 5000, token: TOKEN };
  });
  after(async () => {
    await fake?.close();
  });
  const addresses = async () => (await createCloudflareClient(provider).read(name, signal())).map((r) => `${r.type} ${r.address}`).sort();

  test("read follows the pages (2 per page here) and keeps only the name's A and AAAA records, with their ids", async () => {
    const records = await createCloudflareClient(provider).read(name, signal());
    assert.deepEqual(records.map((r) => `${r.type} ${r.address} ${r.ttlS}`).sort(), ["A 192.0.2.1 60", "A 192.0.2.2 60", "A 192.0.2.3 60", "AAAA 2001:db8::1 60"]);
    assert.ok(records.every((r) => r.id?.startsWith("rec")));
    assert.ok(fake.log.filter((l) => l.startsWith("GET")).length >= 3, "two pages of A, one of AAAA");
  });

  test("a wrong token is refused (403, code 10000) and final", async () => {
    const client = createCloudflareClient({ ...provider, token: "wrong" });
    await assert.rejects(client.read(name, signal()), (error: Error) => {
      assert.ok(error instanceof CloudflareError);
      assert.match(error.message, /HTTP 403: 10000 Authentication error/);
      assert.equal(isRetryable(error), false);
      return true;
    });
  });

  test("429 is retryable; 81058 (already there) on create counts as done", async () => {
    fake.throttle(1);
    await assert.rejects(createCloudflareClient(provider).read(name, signal()), (error: Error) => isRetryable(error) && /HTTP 429/.test(error.message));
    const client = createCloudflareClient(provider);
    const [step] = client.steps(name, [{ action: "add", type: "A", address: "192.0.2.1", ttlS: 60 }], []);
    await step!.action.apply(signal());
    assert.deepEqual((await addresses()).filter((x) => x === "A 192.0.2.1"), ["A 192.0.2.1"]);
  });

  test("as a reconcile target: dry run says the exact calls and changes nothing; then applied, throttled on the way, read back", async () => {
    const registry = new Registry();
    const metrics = createDnsMetrics(registry);
    const reconcileMetrics = createReconcileMetrics(registry);
    const make = (dryRun: boolean) =>
      startReconcileLoop(createNameReconciler({ name, provider: "cf", client: createCloudflareClient(provider), metrics, dryRun, addresses: ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.9"] }), {
        dryRun,
        callTimeoutMs: 5000,
        metrics: reconcileMetrics,
        retry: { retries: 3, initialMs: 10, maxMs: 50 },
      });
    const desired = { name, ttlS: 60, present: ["192.0.2.1", "192.0.2.9"], absent: ["192.0.2.2", "192.0.2.3"] };
    const dry = make(true);
    dry.setDesired(desired);
    await dry.settled();
    await dry.stop();
    const plan = dry.status().lastPlan;
    assert.equal(plan.length, 3);
    assert.equal(plan[0], `POST ${fake.base}/zones/${ZONE_ID}/dns_records {"type":"A","name":"${name}","content":"192.0.2.9","ttl":60,"proxied":false}`);
    assert.match(plan[1]!, new RegExp(`^DELETE ${fake.base}/zones/${ZONE_ID}/dns_records/rec\\d+ \\(${name} A 192.0.2.2\\)$`));
    assert.ok(!plan.join(" ").includes(TOKEN), "the token is never shown");
    assert.deepEqual(await addresses(), ["A 192.0.2.1", "A 192.0.2.2", "A 192.0.2.3", "AAAA 2001:db8::1"]);

    fake.throttle(2);
    const live = make(false);
    live.setDesired(desired);
    await live.settled();
    assert.equal(live.status().lastOutcome, "applied", JSON.stringify(live.status()));
    assert.deepEqual(await addresses(), ["A 192.0.2.1", "A 192.0.2.9", "AAAA 2001:db8::1"]);
    // Every address dead: the last A records stay.
    live.setDesired({ name, ttlS: 60, present: [], absent: ["192.0.2.1", "192.0.2.9"] });
    await live.settled();
    // A TTL changed behind our back is repaired with a PATCH.
    const record = [...fake.records.values()].find((r) => r.content === "192.0.2.1")!;
    record.ttl = 300;
    live.setDesired({ name, ttlS: 60, present: ["192.0.2.1"], absent: [] });
    await live.settled();
    await live.stop();
    assert.equal(record.ttl, 60);
    assert.deepEqual(await addresses(), ["A 192.0.2.1", "A 192.0.2.9", "AAAA 2001:db8::1"]);
    const text = await registry.metrics();
    assert.match(text, /vpnham_dns_changes_total\{provider="cf",action="delete",outcome="applied"\} 2/);
    assert.match(text, /vpnham_dns_last_address_kept_total\{name="vpn.example.com"\} 1/);
  });
});
