/**
 * The RFC 2136 provider against real servers: BIND (named) and Knot (knotd) on loopback, TSIG
 * zones, every change checked with dig/kdig (docs/dns-failover.md §RFC 2136).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Rfc2136Provider } from "../../src/dns/config.ts";
import { createDnsMetrics } from "../../src/dns/metrics.ts";
import { createNameReconciler } from "../../src/dns/reconciler.ts";
import { createRfc2136Client, DnsRefusedError } from "../../src/dns/rfc2136.ts";
import { DnsTsigError } from "../../src/dns/transport.ts";
import { startReconcileLoop } from "../../src/reconcile/engine.ts";
import { createReconcileMetrics } from "../../src/reconcile/metrics.ts";
import { Registry } from "prom-client";
import { KEY_NAME, missing, startBind, startKnot, TSIG_SECRET, WRONG_SECRET, ZONE, type DnsServer } from "./servers.ts";

const bigName = `big.${ZONE}`;
const records = [
  "vpn IN A 192.0.2.1",
  "vpn IN A 192.0.2.2",
  // 40 addresses: the answer does not fit 512 bytes, so UDP comes back truncated.
  ...Array.from({ length: 40 }, (_, i) => `big IN A 198.51.100.${i + 1}`),
];
const signal = () => AbortSignal.timeout(5000);

function provider(server: DnsServer, secret = TSIG_SECRET): Rfc2136Provider {
  return {
    kind: "rfc2136",
    server: { host: server.host, port: server.port, family: 4, text: `${server.host}:${server.port}` },
    zone: ZONE,
    timeoutMs: 3000,
    tsig: { keyName: KEY_NAME, algorithm: "hmac-sha256", secretBase64: secret },
  };
}

for (const kind of ["bind", "knot"] as const) {
  const why = missing(kind);
  describe(`rfc2136 against ${kind === "bind" ? "BIND (named)" : "Knot (knotd)"}`, { skip: why ?? false, timeout: 50_000 }, () => {
    let server: DnsServer;
    before(
      async () => {
        server = await (kind === "bind" ? startBind : startKnot)(records);
      },
      { timeout: 20_000 },
    );
    after(async () => {
      await server?.stop();
    });

    test("read finds the records; one UPDATE adds and deletes (A and AAAA); dig sees it", async () => {
      const client = createRfc2136Client(provider(server));
      const name = `vpn.${ZONE}`;
      assert.deepEqual((await client.read(name, signal())).map((r) => `${r.type} ${r.address} ${r.ttlS}`).sort(), ["A 192.0.2.1 60", "A 192.0.2.2 60"]);
      await client.update(
        name,
        [
          { action: "add", type: "A", address: "192.0.2.3", ttlS: 30 },
          { action: "add", type: "AAAA", address: "2001:db8::3", ttlS: 30 },
          { action: "delete", type: "A", address: "192.0.2.1", ttlS: 0 },
        ],
        signal(),
      );
      assert.deepEqual(server.lookup(name), ["192.0.2.2", "192.0.2.3"]);
      assert.deepEqual(server.lookup(name, "AAAA"), ["2001:db8::3"]);
      // Over TCP the same (and back).
      const tcp = createRfc2136Client(provider(server), { tcpOnly: true });
      await tcp.update(name, [{ action: "add", type: "A", address: "192.0.2.1", ttlS: 60 }, { action: "delete", type: "AAAA", address: "2001:db8::3", ttlS: 0 }], signal());
      assert.deepEqual(server.lookup(name), ["192.0.2.1", "192.0.2.2", "192.0.2.3"]);
      assert.deepEqual(server.lookup(name, "AAAA"), []);
    });

    test("a truncated UDP answer is asked again over TCP", async () => {
      const read = await createRfc2136Client(provider(server)).read(bigName, signal());
      assert.equal(read.filter((r) => r.type === "A").length, 40);
    });

    test("a wrong key is refused with NOTAUTH (BADSIG), not retried, and nothing changed", async () => {
      const name = `vpn.${ZONE}`;
      const before = server.lookup(name);
      const client = createRfc2136Client(provider(server, WRONG_SECRET));
      await assert.rejects(client.update(name, [{ action: "delete", type: "A", address: "192.0.2.3", ttlS: 0 }], signal()), (error: Error) => {
        assert.ok(error instanceof DnsTsigError, `${error.name}: ${error.message}`);
        assert.match(error.message, /NOTAUTH \(BADSIG\)/);
        return true;
      });
      assert.deepEqual(server.lookup(name), before);
    });

    test("an unsigned update is refused and changes nothing", async () => {
      const name = `vpn.${ZONE}`;
      const before = server.lookup(name);
      const { tsig: _, ...unsigned } = provider(server);
      const client = createRfc2136Client(unsigned);
      await assert.rejects(client.update(name, [{ action: "delete", type: "A", address: "192.0.2.3", ttlS: 0 }], signal()), (error: Error) => {
        assert.ok(error instanceof DnsRefusedError, `${error.name}: ${error.message}`);
        assert.match(error.message, kind === "bind" ? /REFUSED/ : /NOTAUTH/);
        return true;
      });
      assert.deepEqual(server.lookup(name), before);
    });

    test("as a reconcile target: dry run changes nothing and says what it would; then applied, read back, idempotent", async () => {
      const registry = new Registry();
      const metrics = createDnsMetrics(registry);
      const reconcileMetrics = createReconcileMetrics(registry);
      const name = `vpn.${ZONE}`;
      const desired = { name, ttlS: 60, present: ["192.0.2.1", "192.0.2.9"], absent: ["192.0.2.2", "192.0.2.3"] };
      const make = (dryRun: boolean) => {
        const reconciler = createNameReconciler({ name, provider: "p", client: createRfc2136Client(provider(server)), metrics, dryRun, addresses: ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.9"] });
        return startReconcileLoop(reconciler, { dryRun, callTimeoutMs: 3000, metrics: reconcileMetrics, retry: { retries: 0, initialMs: 10, maxMs: 10 } });
      };
      const dry = make(true);
      dry.setDesired(desired);
      await dry.settled();
      await dry.stop();
      assert.equal(dry.status().lastOutcome, "dry_run");
      assert.deepEqual(dry.status().lastPlan, [
        `UPDATE zone ${ZONE}. at ${server.host}:${server.port}: add ${name}. 60 A 192.0.2.9; delete ${name}. A 192.0.2.2; delete ${name}. A 192.0.2.3`,
      ]);
      assert.deepEqual(server.lookup(name), ["192.0.2.1", "192.0.2.2", "192.0.2.3"]);
      const live = make(false);
      live.setDesired(desired);
      await live.settled();
      assert.equal(live.status().lastOutcome, "applied", JSON.stringify(live.status()));
      assert.deepEqual(server.lookup(name), ["192.0.2.1", "192.0.2.9"]);
      live.setDesired({ ...desired });
      await live.settled();
      assert.equal(live.status().lastOutcome, "in_sync");
      // Every address judged dead: the last ones stay (fail open).
      live.setDesired({ name, ttlS: 60, present: [], absent: ["192.0.2.1", "192.0.2.9"] });
      await live.settled();
      await live.stop();
      assert.equal(live.status().lastOutcome, "in_sync");
      assert.deepEqual(server.lookup(name), ["192.0.2.1", "192.0.2.9"]);
      const text = await registry.metrics();
      assert.match(text, /vpnham_dns_changes_total\{provider="p",action="add",outcome="applied"\} 1/);
      assert.match(text, /vpnham_dns_changes_total\{provider="p",action="delete",outcome="applied"\} 2/);
      assert.match(text, /vpnham_dns_changes_total\{provider="p",action="delete",outcome="dry_run"\} 2/);
      assert.match(text, /vpnham_dns_last_address_kept_total\{name="vpn.example.test"\} 1/);
    });
  });
}
