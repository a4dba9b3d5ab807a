/**
 * `vpnham validate`'s summary line (src/cli/validate.ts): bridges and tunnels, and the DNS
 * failover section when there is one, with its mode (docs/dns-failover.md §Safety).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { validSummary } from "../../src/cli/validate.ts";
import { loadConfig } from "../../src/config/index.ts";

const examples = join(import.meta.dirname, "..", "..", "examples");

test("the summary names the DNS failover section: addresses, names, peers that must agree, mode", async () => {
  const { config } = await loadConfig(join(examples, "dns-failover.yaml"));
  assert.match(validSummary(config), /^valid \(\d+ bridge\(s\), \d+ tunnel\(s\), DNS failover: \d+ address\(es\), \d+ name\(s\), \d+ peer\(s\) of which \d+ must agree, (dry run|live)\)$/);
  const cf = (await loadConfig(join(examples, "dns-cloudflare.yaml"))).config;
  assert.match(validSummary(cf), /DNS failover: \d+ address\(es\), \d+ name\(s\)/);
  assert.equal(validSummary({ ...cf, dnsFailover: { ...cf.dnsFailover!, dryRun: false } }).endsWith(", live)"), true);
});

test("without dns_failover the line is as before", async () => {
  const { config } = await loadConfig(join(examples, "seed.yaml"));
  assert.match(validSummary(config), /^valid \(\d+ bridge\(s\), \d+ tunnel\(s\)\)$/);
});
