// FRR peering with BIRD 2, each read by its own collector (root, frr and bird2 installed): the
// session reads up on both sides, prefix counts follow a network added on FRR and a static route
// on BIRD, and a neighbor shutdown on FRR reads admin down (2) there and down (0) on BIRD, the
// peer still listed on both.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { startCollectors, type CollectorsRuntime } from "../../src/collectors/index.ts";
import { configureLogger } from "../../src/util/log.ts";
import { findTool, run, skipUnless } from "../ops/support.ts";
import { netnsMissing } from "../support/netns.ts";
import { BIRD_SIDE, FRR_SIDE, FrrBirdPair, removeFrrBirdLeftovers } from "./frr-bird-pair.ts";
import { frrDir } from "./frr-pair.ts";
import { collectUntil, scrapedValue } from "./live.ts";

const missing = netnsMissing(
  [frrDir !== undefined && findTool("vtysh") !== undefined, "FRR not installed (apt-get install frr)"],
  [findTool("bird") !== undefined && findTool("birdc") !== undefined, "BIRD 2 not installed (apt-get install bird2)"],
);
const promtool = findTool("promtool");
// FRR's view of BIRD, and BIRD's view of FRR.
const birdPeer = { vrf: "default", afi_safi: "ipv4_unicast", peer: BIRD_SIDE.ip, peer_as: String(BIRD_SIDE.as) };
const frrPeer = { vrf: "default", afi_safi: "ipv4_unicast", peer: FRR_SIDE.ip, peer_as: String(FRR_SIDE.as) };

describe("FRR ↔ BIRD 2, both collectors", { skip: skipUnless(missing === undefined, missing ?? ""), timeout: 60_000 }, () => {
  let pair: FrrBirdPair;
  let registry: Registry;
  let collectors: CollectorsRuntime;
  const value = (name: string, labels: Record<string, string>) => scrapedValue(registry, name, labels);
  const until = (name: string, labels: Record<string, string>, expected: number) =>
    collectUntil(collectors, registry, name, labels, expected, { timeoutMs: 20_000, intervalMs: 150 });

  before(async () => {
    configureLogger({ level: "silent" });
    await removeFrrBirdLeftovers();
    pair = new FrrBirdPair();
    await pair.setUp();
    registry = new Registry();
    collectors = startCollectors(
      {
        collectors: {
          frr: { vtyshPath: findTool("vtysh")!, vtySocket: pair.vtySocket, intervalMs: 60_000, timeoutMs: 5000 },
          bird: { socketPath: pair.birdSocket, intervalMs: 60_000, timeoutMs: 5000 },
        },
      },
      registry,
    );
  });
  after(async () => {
    await collectors?.stop();
    await pair?.tearDown();
    configureLogger({ level: "info" });
  });

  test("the session reads up on both sides, state 1, both collectors succeed", { timeout: 30_000 }, async () => {
    await until("vpnham_bgp_peer_up", birdPeer, 1);
    await until("vpnham_bgp_peer_up", frrPeer, 1);
    assert.equal(await value("vpnham_bgp_peer_state", birdPeer), 1);
    assert.equal(await value("vpnham_bgp_peer_state", frrPeer), 1);
    assert.equal(await value("vpnham_collector_success", { collector: "frr" }), 1);
    assert.equal(await value("vpnham_collector_success", { collector: "bird" }), 1);
  });

  test("a network on FRR → BIRD imports 1; a static route on BIRD → FRR receives 1", { timeout: 30_000 }, async () => {
    await pair.configureFrr("address-family ipv4 unicast", "network 192.0.2.10/32", "exit-address-family");
    await until("vpnham_bgp_peer_prefixes_received", frrPeer, 1);
    await pair.addBirdRoute("192.0.2.20/32");
    await until("vpnham_bgp_peer_prefixes_received", birdPeer, 1);
    await until("vpnham_bgp_peer_prefixes_advertised", frrPeer, 1);
  });

  test("the scrape passes promtool check metrics", { skip: skipUnless(promtool !== undefined, "promtool not installed") }, async () => {
    const r = await run([promtool!, "check", "metrics"], { input: await registry.metrics() });
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });

  test("neighbor shutdown on FRR → admin down (2) there, down (0) on BIRD, both still listed; no shutdown → up", { timeout: 40_000 }, async () => {
    await pair.configureFrr(`neighbor ${BIRD_SIDE.ip} shutdown`);
    await until("vpnham_bgp_peer_state", birdPeer, 2);
    await until("vpnham_bgp_peer_state", frrPeer, 0);
    assert.equal(await value("vpnham_bgp_peer_up", birdPeer), 0);
    assert.equal(await value("vpnham_bgp_peer_up", frrPeer), 0);
    assert.equal(await value("vpnham_bgp_peer_prefixes_received", frrPeer), 0);
    await pair.configureFrr(`no neighbor ${BIRD_SIDE.ip} shutdown`);
    await until("vpnham_bgp_peer_up", birdPeer, 1);
    await until("vpnham_bgp_peer_up", frrPeer, 1);
  });
});
