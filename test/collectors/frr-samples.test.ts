import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { afiSafiLabel, bgpStateValue, frrFamilies, frrSamples, parseBgpSummary } from "../../src/collectors/frr/samples.ts";
import { groupSamples } from "../../src/collectors/families.ts";
import type { Sample } from "../../src/collectors/types.ts";

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`./fixtures/frr/${name}`, (import.meta as unknown as { url: string }).url), "utf8"));

function value(samples: readonly Sample[], name: string, labels: Record<string, string>): number | undefined {
  const found = samples.filter((s) => s.name === `vpnham_bgp_peer_${name}` && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  assert.ok(found.length <= 1, `one sample for ${name} ${JSON.stringify(labels)}`);
  return found[0]?.value;
}
const v4 = { vrf: "default", afi_safi: "ipv4_unicast", peer: "10.99.0.2", peer_as: "65002" };
const v6 = { vrf: "default", afi_safi: "ipv6_unicast", peer: "fd00:99::2", peer_as: "65002" };

describe("FRR BGP summary", () => {
  test("both sessions up, every AFI/SAFI a peer is in", () => {
    const samples = frrSamples(parseBgpSummary(fixture("vrf-all-v4v6.json")));
    assert.deepEqual(groupSamples(frrFamilies, samples).problems, []);
    assert.equal(value(samples, "up", v4), 1);
    assert.equal(value(samples, "state", v4), 1);
    assert.equal(value(samples, "prefixes_received", v4), 1);
    assert.equal(value(samples, "prefixes_advertised", v4), 2);
    assert.equal(value(samples, "established_transitions_total", v4), 1);
    assert.ok((value(samples, "established_seconds", v4) ?? 0) > 0);
    assert.equal(value(samples, "up", v6), 1);
    assert.equal(value(samples, "up", { ...v6, afi_safi: "ipv4_unicast" }), 1, "the IPv6 neighbour is in ipv4Unicast too");
  });

  test("admin down reads state 2, up 0", () => {
    const samples = frrSamples(parseBgpSummary(fixture("vrf-all-admin-down.json")));
    assert.equal(value(samples, "state", v4), 2);
    assert.equal(value(samples, "up", v4), 0);
    assert.equal(value(samples, "established_seconds", v4), 0);
  });

  test("peer down: listed with 0, established seconds 0 although FRR's uptime keeps counting", () => {
    const samples = frrSamples(parseBgpSummary(fixture("vrf-all-peer-down.json")));
    assert.equal(value(samples, "up", v4), 0);
    assert.equal(value(samples, "state", v4), 0);
    assert.equal(value(samples, "established_seconds", v4), 0);
    assert.equal(value(samples, "up", v6), 0);
  });

  test("older field names, a VRF, an unnumbered peer, an empty AFI/SAFI", () => {
    const peers = parseBgpSummary(fixture("vrf-all-synthetic-old-fields.json"));
    assert.deepEqual(peers.map((p) => [p.vrf, p.afiSafi, p.peer, p.state, p.stateValue]), [
      ["default", "ipv4_unicast", "10.99.0.2", "Established", 1],
      ["default", "ipv4_unicast", "10.99.0.3", "Idle (Admin)", 2],
      ["red", "ipv4_unicast", "eth3", "Connect", 0],
    ]);
    const samples = frrSamples(peers);
    assert.equal(value(samples, "prefixes_received", { peer: "10.99.0.2" }), 7, "prefixReceivedCount");
    assert.equal(value(samples, "prefixes_advertised", { peer: "10.99.0.2" }), undefined, "absent in old FRR: not invented");
    assert.equal(value(samples, "established_seconds", { peer: "10.99.0.2" }), 3723);
    assert.equal(value(samples, "messages_received_total", { peer: "10.99.0.2" }), 120);
    assert.equal(value(samples, "up", { vrf: "red", peer: "eth3", peer_as: "65010" }), 0);
  });

  test("the single-VRF shape (show bgp summary json) reads the same", () => {
    const samples = frrSamples(parseBgpSummary(fixture("single-summary-after-add.json")));
    assert.equal(value(samples, "up", { vrf: "default", afi_safi: "ipv4_unicast", peer: "10.99.0.1", peer_as: "65001" }), 1);
    assert.equal(value(samples, "prefixes_received", { peer: "10.99.0.1" }), 1);
  });

  test("state values and AFI/SAFI labels", () => {
    assert.deepEqual(
      [["Established", "OK"], ["Idle (Admin)", undefined], ["Idle", "Admin"], ["Active", "OK"], ["Idle (PfxCt)", "OK"], ["Clearing", "OK"]].map(([s, p]) => bgpStateValue(s!, p)),
      [1, 2, 2, 0, 0, 0],
    );
    assert.deepEqual(["ipv4Unicast", "l2VpnEvpn", "ipv6LabeledUnicast", "ipv4Rtc"].map(afiSafiLabel), ["ipv4_unicast", "l2vpn_evpn", "ipv6_labeled_unicast", "ipv4_rtc"]);
  });

  test("hostile JSON: not an object is an error; odd members are skipped, never thrown", () => {
    assert.throws(() => parseBgpSummary([]), /JSON object/);
    assert.throws(() => parseBgpSummary("x"), /JSON object/);
    const odd = JSON.parse('{"default":{"ipv4Unicast":{"peers":{"a":null,"b":[],"__proto__":{"state":"Established","remoteAs":"x"},"c":{"state":5,"pfxRcd":-1,"msgRcvd":"9"}}}},"x":3}');
    const peers = parseBgpSummary(odd);
    assert.deepEqual(peers.map((p) => [p.peer, p.state, p.prefixesReceived, p.messagesReceived]), [
      ["__proto__", "Established", undefined, undefined],
      ["c", "Unknown", undefined, undefined],
    ]);
    assert.equal(({} as Record<string, unknown>)["state"], undefined);
  });
});
