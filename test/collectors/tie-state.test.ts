import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { CollectorStates, bgpStateOf, collectorStatesFor, ipsecStateOf } from "../../src/collectors/tie-state.ts";
import type { Sample } from "../../src/collectors/types.ts";
import { assertProblem, base, load, problemsOf } from "../config/support.ts";

const up = (conn: string, child: string, value: number): Sample => ({ name: "vpnham_ipsec_child_sa_up", labels: { conn, child }, value });

describe("CHILD_SA states for tied tunnels (docs/collectors.md §IPsec-aware failover)", () => {
  test("a tie's state from the collector's samples", () => {
    const samples = [up("dc2-a", "net", 1), up("dc2-b", "net1", 0), up("dc2-b", "net2", 1), up("dc2-c", "net", 0)];
    const table: [{ conn: string; child?: string }, ReturnType<typeof ipsecStateOf>][] = [
      [{ conn: "dc2-a", child: "net" }, "up"],
      [{ conn: "dc2-b", child: "net1" }, "down"],
      [{ conn: "dc2-b" }, "up"], // any child of the connection
      [{ conn: "dc2-c" }, "down"],
      [{ conn: "dc2-a", child: "other" }, "unknown"], // not loaded: a typo must not take the tunnel down
      [{ conn: "nope" }, "unknown"],
    ];
    for (const [tie, expected] of table) assert.equal(ipsecStateOf(samples, tie), expected, JSON.stringify(tie));
    assert.equal(ipsecStateOf(undefined, { conn: "dc2-a" }), "unknown", "charon not read");
  });

  test("publish reaches every subscriber, a throwing one included; unsubscribe; one per daemon", () => {
    const states = new CollectorStates();
    const seen: string[] = [];
    const off = states.subscribe(() => seen.push(`a:${states.ipsec({ conn: "x" })}`));
    states.subscribe(() => {
      throw new Error("a buggy listener");
    });
    states.subscribe(() => seen.push(`c:${String(states.ipsecLoaded({ conn: "x" }))}`));
    states.publish("strongswan", [up("x", "net", 1), { name: "vpnham_ipsec_ike_sa_up", labels: { conn: "x" }, value: 1 }]);
    off();
    states.publish("strongswan", undefined);
    assert.deepEqual(seen, ["a:up", "c:true", "c:undefined"]);
    const owner = {};
    assert.equal(collectorStatesFor(owner), collectorStatesFor(owner));
    assert.notEqual(collectorStatesFor(owner), collectorStatesFor({}));
  });
});

const peerUp = (peer: string, value: number, vrf = "default", afi_safi = "ipv4_unicast"): Sample => ({ name: "vpnham_bgp_peer_up", labels: { vrf, afi_safi, peer, peer_as: "65002" }, value });

describe("BGP peer states for tied tunnels (docs/collectors.md §BGP-aware failover)", () => {
  test("a tie's state from the FRR/BIRD samples", () => {
    const samples = [
      peerUp("10.99.0.2", 1),
      peerUp("fd00:99::2", 1, "default", "ipv6_unicast"),
      peerUp("fd00:99::2", 0, "default", "ipv4_unicast"), // listed under ipv4Unicast too, not activated there
      peerUp("10.99.0.6", 0),
      peerUp("10.99.0.6", 1, "red"),
    ];
    const table: [{ peer: string; vrf?: string }, ReturnType<typeof bgpStateOf>][] = [
      [{ peer: "10.99.0.2" }, "up"],
      [{ peer: "10.99.0.2", vrf: "default" }, "up"],
      [{ peer: "fd00:99::2" }, "up"], // Established under one AFI/SAFI is the session Established
      [{ peer: "10.99.0.6", vrf: "default" }, "down"],
      [{ peer: "10.99.0.6", vrf: "red" }, "up"],
      [{ peer: "10.99.0.2", vrf: "red" }, "unknown"], // not listed: a typo must not take the tunnel down
      [{ peer: "nope" }, "unknown"],
    ];
    for (const [tie, expected] of table) assert.equal(bgpStateOf(samples, tie), expected, JSON.stringify(tie));
    assert.equal(bgpStateOf(undefined, { peer: "10.99.0.2" }), "unknown", "daemon not read");
  });

  test("FRR and BIRD publish side by side; one not read leaves the other's peers; each source keeps only its tie family", () => {
    const states = new CollectorStates();
    const tie = { peer: "10.99.0.2" };
    assert.equal(states.bgp(tie), "unknown");
    assert.equal(states.bgpKnown(tie), undefined);
    states.publish("frr", [peerUp("10.99.0.2", 0), { name: "vpnham_bgp_peer_state", labels: peerUp("10.99.0.2", 0).labels, value: 0 }]);
    assert.equal(states.bgp(tie), "down");
    states.publish("bird", [peerUp("10.99.0.9", 1)]);
    assert.equal(states.bgp(tie), "down");
    assert.equal(states.bgp({ peer: "10.99.0.9" }), "up");
    states.publish("frr", undefined);
    assert.equal(states.bgp(tie), "unknown", "FRR not read: its peer is unknown");
    assert.equal(states.bgpKnown(tie), false);
    states.publish("bird", undefined);
    assert.equal(states.bgpKnown(tie), undefined);
    // strongSwan's samples do not leak into BGP (nor the reverse)
    states.publish("strongswan", [up("10.99.0.2", "net", 0)]);
    assert.equal(states.bgp(tie), "unknown");
    states.publish("frr", [peerUp("10.99.0.2", 0)]);
    assert.equal(states.ipsec({ conn: "10.99.0.2" }), "down");
    assert.equal(states.ipsecLoaded({ conn: "x" }), false);
  });
});

describe("tunnel_interfaces.<if>.ipsec in the config", () => {
  /** `collectors: null` leaves the section out. */
  const withTie = (tie: unknown, collectors: unknown = { strongswan: {} }) => {
    const data = base();
    data.bridges.b.tunnel_interfaces.eth1.ipsec = tie;
    return collectors === null ? data : { ...data, collectors };
  };

  test("conn and child are kept; child is optional", () => {
    const tunnel = (data: Record<string, unknown>) => load(data).config.bridges[0]!.tunnels.find((t) => t.name === "eth1")!;
    assert.deepEqual(tunnel(withTie({ conn: "dc2-a", child: "net" })).ipsec, { conn: "dc2-a", child: "net" });
    assert.deepEqual(tunnel(withTie({ conn: "dc2-a" })).ipsec, { conn: "dc2-a" });
    assert.equal(tunnel(base()).ipsec, undefined);
  });

  test("refused without collectors.strongswan, without conn, with unknown keys", () => {
    assertProblem(problemsOf(withTie({ conn: "dc2-a" }, null)), "bridges.b.tunnel_interfaces.eth1.ipsec", "needs collectors.strongswan");
    assertProblem(problemsOf(withTie({ conn: "dc2-a" }, { frr: {} })), "bridges.b.tunnel_interfaces.eth1.ipsec", "needs collectors.strongswan");
    assertProblem(problemsOf(withTie({ child: "net" })), "bridges.b.tunnel_interfaces.eth1.ipsec.conn", "");
    assertProblem(problemsOf(withTie({ conn: "a", reqid: 1 })), "bridges.b.tunnel_interfaces.eth1.ipsec.reqid", "unknown key");
  });
});

describe("tunnel_interfaces.<if>.bgp in the config", () => {
  /** `collectors: null` leaves the section out. */
  const withTie = (tie: unknown, collectors: unknown = { frr: {} }) => {
    const data = base();
    data.bridges.b.tunnel_interfaces.eth1.bgp = tie;
    return collectors === null ? data : { ...data, collectors };
  };
  const tunnel = (data: Record<string, unknown>) => load(data).config.bridges[0]!.tunnels.find((t) => t.name === "eth1")!;

  test("peer and vrf are kept; vrf is optional; FRR or BIRD will do", () => {
    assert.deepEqual(tunnel(withTie({ peer: "10.99.0.2", vrf: "red" })).bgp, { peer: "10.99.0.2", vrf: "red" });
    assert.deepEqual(tunnel(withTie({ peer: "10.99.0.2" }, { bird: {} })).bgp, { peer: "10.99.0.2" });
    assert.equal(tunnel(base()).bgp, undefined);
  });

  test("refused without collectors.frr or collectors.bird, without peer, with unknown keys", () => {
    assertProblem(problemsOf(withTie({ peer: "10.99.0.2" }, null)), "bridges.b.tunnel_interfaces.eth1.bgp", "needs collectors.frr or collectors.bird");
    assertProblem(problemsOf(withTie({ peer: "10.99.0.2" }, { strongswan: {} })), "bridges.b.tunnel_interfaces.eth1.bgp", "needs collectors.frr or collectors.bird");
    assertProblem(problemsOf(withTie({ vrf: "red" })), "bridges.b.tunnel_interfaces.eth1.bgp.peer", "");
    assertProblem(problemsOf(withTie({ peer: "10.99.0.2", asn: 65002 })), "bridges.b.tunnel_interfaces.eth1.bgp.asn", "unknown key");
  });
});
