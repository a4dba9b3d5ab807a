import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { IpsecStates, ipsecStateOf, ipsecStatesFor } from "../../src/collectors/ipsec-state.ts";
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
    const states = new IpsecStates();
    const seen: string[] = [];
    const off = states.subscribe(() => seen.push(`a:${states.state({ conn: "x" })}`));
    states.subscribe(() => {
      throw new Error("a buggy listener");
    });
    states.subscribe(() => seen.push(`c:${String(states.loaded({ conn: "x" }))}`));
    states.publish([up("x", "net", 1), { name: "vpnham_ipsec_ike_sa_up", labels: { conn: "x" }, value: 1 }]);
    off();
    states.publish(undefined);
    assert.deepEqual(seen, ["a:up", "c:true", "c:undefined"]);
    const owner = {};
    assert.equal(ipsecStatesFor(owner), ipsecStatesFor(owner));
    assert.notEqual(ipsecStatesFor(owner), ipsecStatesFor({}));
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
