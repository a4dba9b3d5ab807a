// The FRR collector against two real FRR instances in network namespaces (root, FRR installed):
// the session reads up, the prefix count follows a `network` added on the peer, a shutdown reads
// admin down (state 2), a killed peer bgpd reads down — and the peer never vanishes.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { startCollectors, type CollectorsRuntime } from "../../src/collectors/index.ts";
import { configureLogger } from "../../src/util/log.ts";
import { waitFor } from "../../src/util/wait.ts";
import { findTool, run, skipUnless } from "../ops/support.ts";
import { netnsMissing } from "../support/netns.ts";
import { FrrPair, frrDir, removeFrrLeftovers } from "./frr-pair.ts";
import { collectUntil, scrapedValue } from "./live.ts";

const missing = netnsMissing([frrDir !== undefined && findTool("vtysh") !== undefined, "FRR not installed (apt-get install frr)"]);
const promtool = findTool("promtool");
const peer = { vrf: "default", afi_safi: "ipv4_unicast", peer: "10.99.0.2", peer_as: "65002" };

describe("FRR collector with real bgpd", { skip: skipUnless(missing === undefined, missing ?? ""), timeout: 60_000 }, () => {
  let pair: FrrPair;
  let registry: Registry;
  let collectors: CollectorsRuntime;

  const value = (name: string, labels: Record<string, string>) => scrapedValue(registry, name, labels);
  const until = (name: string, expected: number, timeoutMs = 15_000) => collectUntil(collectors, registry, name, peer, expected, { timeoutMs, intervalMs: 200 });

  before(async () => {
    configureLogger({ level: "silent" });
    await removeFrrLeftovers();
    pair = new FrrPair();
    await pair.setUp();
    registry = new Registry();
    collectors = startCollectors({ collectors: { frr: { vtyshPath: findTool("vtysh")!, vtySocket: pair.vtySocket("a"), intervalMs: 60_000, timeoutMs: 5000 } } }, registry);
  });
  after(async () => {
    await collectors?.stop();
    await pair?.tearDown();
    configureLogger({ level: "info" });
  });

  test("the session reads up, state 1, no prefixes yet", { timeout: 30_000 }, async () => {
    await until("vpnham_bgp_peer_up", 1);
    assert.equal(await value("vpnham_collector_success", { collector: "frr" }), 1);
    assert.equal(await value("vpnham_bgp_peer_state", peer), 1);
    assert.equal(await value("vpnham_bgp_peer_prefixes_received", peer), 0);
    assert.equal(await value("vpnham_bgp_peer_established_transitions_total", peer), 1);
  });

  test("a network added on the peer → prefixes received 1; one added here → advertised, as FRR counts it", { timeout: 30_000 }, async () => {
    await pair.configure("b", "address-family ipv4 unicast", "network 192.0.2.20/32", "exit-address-family");
    await until("vpnham_bgp_peer_prefixes_received", 1);
    await pair.configure("a", "address-family ipv4 unicast", "network 192.0.2.10/32", "exit-address-family");
    // FRR also counts the peer's own route as sent back to it (no sender-side loop detection by
    // default), so compare with FRR's own number once it has settled.
    await waitFor(
      async () => {
        await collectors.runNow();
        const frr = JSON.parse(await pair.vtysh("a", "show bgp summary json")) as { ipv4Unicast: { peers: Record<string, { pfxSnt: number }> } };
        const sent = frr.ipv4Unicast.peers["10.99.0.2"]?.pfxSnt ?? -1;
        return sent >= 1 && (await value("vpnham_bgp_peer_prefixes_advertised", peer)) === sent;
      },
      { timeoutMs: 15_000, intervalMs: 200, what: "prefixes advertised == FRR's pfxSnt ≥ 1" },
    );
  });

  test("the scrape passes promtool check metrics", { skip: skipUnless(promtool !== undefined, "promtool not installed") }, async () => {
    const r = await run([promtool!, "check", "metrics"], { input: await registry.metrics() });
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });

  test("neighbor shutdown → state 2 (admin down), up 0; no shutdown → up again", { timeout: 30_000 }, async () => {
    await pair.configure("a", "neighbor 10.99.0.2 shutdown");
    await until("vpnham_bgp_peer_state", 2);
    assert.equal(await value("vpnham_bgp_peer_up", peer), 0);
    assert.equal(await value("vpnham_bgp_peer_established_seconds", peer), 0);
    await pair.configure("a", "no neighbor 10.99.0.2 shutdown");
    await until("vpnham_bgp_peer_up", 1);
  });

  test("the peer's bgpd killed → down (state 0), still listed; our bgpd killed → collector failure", { timeout: 30_000 }, async () => {
    await pair.kill("b", "bgpd");
    await until("vpnham_bgp_peer_state", 0);
    assert.equal(await value("vpnham_bgp_peer_up", peer), 0);
    await pair.kill("a", "bgpd");
    const [status] = await collectors.runNow();
    assert.equal(status?.success, false);
    assert.match(status?.lastError ?? "", /bgpd is not running|exited with/);
    assert.equal(await value("vpnham_bgp_peer_up", peer), undefined, "series dropped while FRR cannot be read");
  });
});
