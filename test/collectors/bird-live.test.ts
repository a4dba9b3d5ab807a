// The BIRD collector against two real BIRD 2 daemons in network namespaces (root, bird2
// installed): the session reads up, prefix counts follow static routes added on either side, a
// protocol disabled on the peer reads down (0), disabled here reads admin down (2), and our BIRD
// killed is a failed collection — the peer never vanishes while BIRD can be read.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { startCollectors, type CollectorsRuntime } from "../../src/collectors/index.ts";
import { configureLogger } from "../../src/util/log.ts";
import { findTool, run, skipUnless } from "../ops/support.ts";
import { netnsMissing } from "../support/netns.ts";
import { BirdPair, removeBirdLeftovers } from "./bird-pair.ts";
import { collectUntil, scrapedValue } from "./live.ts";

const missing = netnsMissing([findTool("bird") !== undefined && findTool("birdc") !== undefined, "BIRD 2 not installed (apt-get install bird2)"]);
const promtool = findTool("promtool");
const peer = { vrf: "default", afi_safi: "ipv4_unicast", peer: "10.96.0.1", peer_as: "65001" };

describe("BIRD collector with real BIRD 2", { skip: skipUnless(missing === undefined, missing ?? ""), timeout: 60_000 }, () => {
  let pair: BirdPair;
  let registry: Registry;
  let collectors: CollectorsRuntime;

  const value = (name: string, labels: Record<string, string>) => scrapedValue(registry, name, labels);
  const until = (name: string, expected: number, labels: Record<string, string> = peer, timeoutMs = 15_000) =>
    collectUntil(collectors, registry, name, labels, expected, { timeoutMs, intervalMs: 100 });

  before(async () => {
    configureLogger({ level: "silent" });
    await removeBirdLeftovers();
    pair = new BirdPair();
    await pair.setUp();
    registry = new Registry();
    collectors = startCollectors({ collectors: { bird: { socketPath: pair.socket("a"), intervalMs: 60_000, timeoutMs: 5000 } } }, registry);
  });
  after(async () => {
    await collectors?.stop();
    await pair?.tearDown();
    configureLogger({ level: "info" });
  });

  test("the session reads up, state 1, no prefixes yet; every protocol listed", { timeout: 30_000 }, async () => {
    await until("vpnham_bgp_peer_up", 1);
    assert.equal(await value("vpnham_collector_success", { collector: "bird" }), 1);
    assert.equal(await value("vpnham_bgp_peer_state", peer), 1);
    assert.equal(await value("vpnham_bgp_peer_prefixes_received", peer), 0);
    assert.equal(await value("vpnham_bgp_peer_prefixes_advertised", peer), 0);
    const seconds = await value("vpnham_bgp_peer_established_seconds", peer);
    assert.ok(seconds !== undefined && seconds >= 0 && seconds < 60, `established seconds ${seconds}`);
    assert.equal(await value("vpnham_bird_protocol_up", { protocol: pair.protocolA, proto: "BGP" }), 1);
    assert.equal(await value("vpnham_bird_protocol_up", { protocol: "st4", proto: "Static" }), 1);
  });

  test("a static route on the peer → 1 received; one here → 1 advertised", { timeout: 30_000 }, async () => {
    await pair.addRoute("b", "192.0.2.20/32");
    await until("vpnham_bgp_peer_prefixes_received", 1);
    await pair.addRoute("a", "192.0.2.10/32");
    await until("vpnham_bgp_peer_prefixes_advertised", 1);
    await pair.addRoute("b", "192.0.2.21/32");
    await until("vpnham_bgp_peer_prefixes_received", 2);
  });

  test("the scrape passes promtool check metrics", { skip: skipUnless(promtool !== undefined, "promtool not installed") }, async () => {
    const r = await run([promtool!, "check", "metrics"], { input: await registry.metrics() });
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });

  test("disabled on the peer → down (state 0), still listed; enabled → up again", { timeout: 30_000 }, async () => {
    await pair.setEnabled("b", false);
    await until("vpnham_bgp_peer_state", 0);
    assert.equal(await value("vpnham_bgp_peer_up", peer), 0);
    assert.equal(await value("vpnham_bgp_peer_prefixes_received", peer), 0);
    assert.equal(await value("vpnham_bgp_peer_established_seconds", peer), 0);
    await pair.setEnabled("b", true);
    await until("vpnham_bgp_peer_up", 1);
  });

  test("disabled here → admin down (state 2); enabled → up again", { timeout: 30_000 }, async () => {
    await pair.setEnabled("a", false);
    await until("vpnham_bgp_peer_state", 2);
    assert.equal(await value("vpnham_bgp_peer_up", peer), 0);
    assert.equal(await value("vpnham_bird_protocol_up", { protocol: pair.protocolA }), 0);
    await pair.setEnabled("a", true);
    await until("vpnham_bgp_peer_up", 1);
  });

  test("our BIRD killed → a failed collection, its series dropped", { timeout: 30_000 }, async () => {
    await pair.kill("a");
    const [status] = await collectors.runNow();
    assert.equal(status?.success, false);
    assert.match(status?.lastError ?? "", /ECONNREFUSED|ENOENT|closed/);
    assert.equal(await value("vpnham_bgp_peer_up", peer), undefined, "series dropped while BIRD cannot be read");
  });
});
