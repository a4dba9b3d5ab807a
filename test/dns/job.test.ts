/**
 * DNS failover's components (docs/dns-failover.md §Components): their keys, and what a reload
 * restarts — only what the changed settings feed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseConfigWith } from "../../src/config/index.ts";
import { planReload, type JobContext } from "../../src/daemon/component.ts";
import { dnsFailoverJob } from "../../src/dns/job.ts";
import { createMetrics } from "../../src/metrics/registry.ts";

const KEY = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTAxMjM0NTY3";
const yaml = (changes: { port?: number; extraName?: boolean; secret?: string; dryRun?: boolean; min?: number } = {}) => `
dns_failover:
  ${changes.dryRun === false ? "dry_run: false" : ""}
  agent: a
  check: { kind: tcp, port: ${changes.port ?? 443} }
  addresses:
    192.0.2.1: { names: [vpn.example.test${changes.extraName ? ", www.example.test" : ""}] }
    192.0.2.2: { names: [vpn.example.test] }
  providers:
    p: { kind: rfc2136, server: "127.0.0.1:53", zone: example.test, tsig_key: k, tsig_secret: "${KEY}" }
  peers: { b: "http://127.0.0.2:9180/" }
  min_peers_agree: ${changes.min ?? 1}
  listen: "127.0.0.1:9180"
  secret: ${changes.secret ?? "a-shared-secret-of-the-agents"}
`;

function specsOf(dryRun = false) {
  const context: JobContext = { metrics: createMetrics({ latencyBucketsCount: 10, maxLatencyUs: 1000, version: "test" }), dryRun, bridgeActive: () => undefined };
  const specs = dnsFailoverJob(context);
  return (text: string) => specs(parseConfigWith(text).config);
}

test("one component per address check, the peers, one per name, and the decision, in start order", () => {
  assert.deepEqual(specsOf()(yaml()).map((s) => s.key), [
    "dns_failover:check:192.0.2.1",
    "dns_failover:check:192.0.2.2",
    "dns_failover:peers",
    "dns_failover:name:vpn.example.test",
    "dns_failover:decision",
  ]);
  assert.deepEqual(specsOf()("checks: { x: { kind: tcp, address: \"127.0.0.1:1\" } }"), [], "no section, no component");
});

test("a reload restarts only what changed", () => {
  const specs = specsOf();
  const running = specs(yaml());
  const plan = (text: string) => {
    const { start, stop, restart } = planReload(running, specs(text));
    return { start, stop, restart };
  };
  assert.deepEqual(plan(yaml()), { start: [], stop: [], restart: [] });
  assert.deepEqual(plan(yaml({ extraName: true })), { start: ["dns_failover:name:www.example.test"], stop: [], restart: ["dns_failover:decision"] });
  assert.deepEqual(plan(yaml({ port: 8443 })), { start: [], stop: [], restart: ["dns_failover:check:192.0.2.1", "dns_failover:check:192.0.2.2"] });
  assert.deepEqual(plan(yaml({ secret: "another-shared-secret-of-the-agents" })), { start: [], stop: [], restart: ["dns_failover:peers"] });
  assert.deepEqual(plan(yaml({ min: 0 })), { start: [], stop: [], restart: ["dns_failover:decision"] });
  assert.deepEqual(plan(yaml({ dryRun: false })), { start: [], stop: [], restart: ["dns_failover:name:vpn.example.test", "dns_failover:decision"] });
});

test("dry run: the section's (true by default) or the daemon's, whichever says so", () => {
  const dryRunOf = (specs: ReturnType<typeof specsOf>, text: string) => (specs(text).find((s) => s.key === "dns_failover:decision")!.settings as { dryRun: boolean }).dryRun;
  assert.equal(dryRunOf(specsOf(false), yaml()), true);
  assert.equal(dryRunOf(specsOf(false), yaml({ dryRun: false })), false);
  assert.equal(dryRunOf(specsOf(true), yaml({ dryRun: false })), true);
});
