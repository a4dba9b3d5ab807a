import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { ViciSection } from "../../src/vici/message.ts";
import { decodePacket } from "../../src/vici/packet.ts";
import { parseConns, parseSas, type IkeSa } from "../../src/collectors/strongswan/parse.ts";
import { accumulate, emptyCounterState, strongswanFamilies, strongswanSamples, type CounterState } from "../../src/collectors/strongswan/samples.ts";
import { groupSamples } from "../../src/collectors/families.ts";
import type { Sample } from "../../src/collectors/types.ts";
import { fixture } from "../vici/support.ts";

const event = (file: string) => (decodePacket(fixture(file)) as { message: ViciSection }).message;
const conns = parseConns([event("list-conn-event.bin")]);

function value(samples: readonly Sample[], name: string, labels: Record<string, string>): number | undefined {
  const found = samples.filter((s) => s.name === `vpnham_ipsec_${name}` && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  assert.ok(found.length <= 1, `one sample for ${name} ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

/** Traffic of one child SA with the given identity; the rest copied from a captured SA. */
function sa(uniqueid: string, spi: string, state: string, bytesIn: number, bytesOut = bytesIn): IkeSa {
  return {
    conn: "gw-a",
    uniqueid: "1",
    state: "ESTABLISHED",
    establishedSeconds: 10,
    remoteHost: "10.98.0.2",
    children: [
      { name: "net", uniqueid, state, instance: `${uniqueid}/${spi}/x`, bytesIn, bytesOut, packetsIn: bytesIn / 84, packetsOut: bytesOut / 84, useInSeconds: 1, useOutSeconds: 2, installSeconds: 5 },
    ],
  };
}

describe("strongSwan samples", () => {
  test("list-conn → expected connections and children", () => {
    assert.deepEqual(conns, [{ conn: "gw-a", children: ["net"], remoteAddrs: ["10.98.0.2"] }]);
  });

  test("list-sa (captured) → records with config-level names", () => {
    const [ike] = parseSas([event("list-sa-event-5.9.8.bin")]);
    assert.equal(ike?.conn, "gw-a");
    assert.equal(ike?.state, "ESTABLISHED");
    assert.equal(ike?.establishedSeconds, 1);
    assert.equal(ike?.remoteHost, "10.98.0.2");
    assert.deepEqual(
      ike?.children.map((c) => [c.name, c.state, c.bytesIn, c.packetsIn, c.bytesOut, c.packetsOut, c.useInSeconds, c.installSeconds]),
      [["net", "INSTALLED", 252, 3, 252, 3, 0, 1]],
    );
  });

  test("an up tunnel: every family, values from the capture, no SPI or uniqueid anywhere", () => {
    const { samples } = strongswanSamples(conns, parseSas([event("list-sa-event-5.9.8.bin")]), emptyCounterState());
    const { problems } = groupSamples(strongswanFamilies, samples);
    assert.deepEqual(problems, []);
    const net = { conn: "gw-a", child: "net" };
    assert.equal(value(samples, "ike_sa_up", { conn: "gw-a" }), 1);
    assert.equal(value(samples, "ike_sa_age_seconds", { conn: "gw-a" }), 1);
    assert.equal(value(samples, "child_sa_up", net), 1);
    assert.equal(value(samples, "child_sa_age_seconds", net), 1);
    assert.equal(value(samples, "child_sa_bytes_total", { ...net, direction: "in" }), 252);
    assert.equal(value(samples, "child_sa_packets_total", { ...net, direction: "out" }), 3);
    assert.equal(value(samples, "child_sa_idle_seconds", { ...net, direction: "in" }), 0);
    assert.equal(value(samples, "ike_sas", { state: "ESTABLISHED" }), 1);
    assert.equal(value(samples, "ike_sas", { state: "CONNECTING" }), 0);
    assert.equal(value(samples, "child_sas", { state: "INSTALLED" }), 1);
    const labelValues = samples.flatMap((s) => Object.values(s.labels));
    for (const secret of ["7fbfbc1b", "7c91f1b3", "net-2", "23ac4b3e60024db8"]) assert.ok(!labelValues.includes(secret), secret);
  });

  test("an expected tunnel with no SA reads 0 — it never vanishes", () => {
    const { samples } = strongswanSamples(conns, [], emptyCounterState());
    const net = { conn: "gw-a", child: "net" };
    assert.equal(value(samples, "ike_sa_up", { conn: "gw-a" }), 0);
    assert.equal(value(samples, "child_sa_up", net), 0);
    assert.equal(value(samples, "child_sa_bytes_total", { ...net, direction: "in" }), 0);
    assert.equal(value(samples, "child_sa_age_seconds", net), undefined, "no age without an SA");
    assert.equal(value(samples, "child_sa_idle_seconds", { ...net, direction: "in" }), undefined);
  });

  test("right after a CHILD rekey: up, counters of both SAs summed, the newest SA's age", () => {
    const sas = parseSas([event("list-sa-event-child-rekeyed.bin")]);
    assert.deepEqual(sas[0]?.children.map((c) => c.state), ["DELETED", "INSTALLED"]);
    const { samples } = strongswanSamples(conns, sas, emptyCounterState());
    const net = { conn: "gw-a", child: "net" };
    assert.equal(value(samples, "child_sa_up", net), 1);
    assert.equal(value(samples, "child_sa_bytes_total", { ...net, direction: "in" }), 420);
    assert.equal(value(samples, "child_sa_bytes_total", { ...net, direction: "out" }), 336 + 84);
    assert.equal(value(samples, "child_sa_age_seconds", net), 0, "the new SA's install-time, not the old one's 2");
    assert.equal(value(samples, "child_sa_idle_seconds", { ...net, direction: "in" }), 0, "the old SA still receives");
    assert.equal(value(samples, "child_sa_idle_seconds", { ...net, direction: "out" }), 0, "the new SA sends");
    assert.equal(value(samples, "child_sas", { state: "DELETED" }), 1);
  });

  test("a connection with SAs but no config (unloaded while up) is exported too", () => {
    const { samples } = strongswanSamples([], parseSas([event("list-sa-event-5.9.8.bin")]), emptyCounterState());
    assert.equal(value(samples, "child_sa_up", { conn: "gw-a", child: "net" }), 1);
  });

  test("traffic counters only go up across rekeys, re-initiations and a charon restart", () => {
    const keep = new Set([JSON.stringify(["gw-a", "net"])]);
    const steps: [string, IkeSa[], number][] = [
      ["first SA", [sa("1", "s1", "INSTALLED", 840)], 840],
      ["more traffic", [sa("1", "s1", "INSTALLED", 1680)], 1680],
      ["rekey: old and new", [{ ...sa("1", "s1", "DELETED", 1764), children: [...sa("1", "s1", "DELETED", 1764).children, ...sa("2", "s2", "INSTALLED", 84).children] }], 1848],
      ["old gone", [sa("2", "s2", "INSTALLED", 168)], 1932],
      ["terminated", [], 1932],
      ["charon restarted, uniqueid 1 again, new SPI", [sa("1", "s9", "INSTALLED", 84)], 2016],
      ["same identity, counters smaller: another SA", [sa("1", "s9", "INSTALLED", 0)], 2016],
    ];
    let state: CounterState = emptyCounterState();
    for (const [what, sas, expected] of steps) {
      const result = accumulate(state, sas, keep);
      state = result.state;
      assert.equal(result.totals.get(JSON.stringify(["gw-a", "net"]))?.bytesIn, expected, what);
    }
  });

  test("history of a child that is neither configured nor up any more is forgotten", () => {
    const first = accumulate(emptyCounterState(), [sa("1", "s1", "INSTALLED", 840)], new Set());
    const second = accumulate(first.state, [], new Set());
    assert.equal(second.totals.size, 0);
    assert.equal(second.state.gone.size, 0);
  });

  test("unexpected state names are counted under UNKNOWN, not as new series", () => {
    const weird: IkeSa = { ...sa("1", "s1", "INSTALLED", 0), state: "weird state\n" };
    const { samples } = strongswanSamples(conns, [weird], emptyCounterState());
    assert.equal(value(samples, "ike_sas", { state: "UNKNOWN" }), 1);
  });
});
