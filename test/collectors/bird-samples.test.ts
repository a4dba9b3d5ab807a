import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { birdCollection } from "../../src/collectors/bird/collector.ts";
import { birdReply, isFinalLine, parseBirdProtocols, parseBirdTime, parseServerTime, secondsSince, type BirdReply } from "../../src/collectors/bird/parse.ts";
import { birdBgpStateValue, birdFamilies, birdSamples, channelAfiSafi, localClock } from "../../src/collectors/bird/samples.ts";
import { frrFamilies } from "../../src/collectors/frr/samples.ts";
import { groupSamples } from "../../src/collectors/families.ts";
import type { Sample } from "../../src/collectors/types.ts";

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/bird/${name}`, (import.meta as unknown as { url: string }).url), "utf8");

/** A socket transcript → its replies (greeting first), as the client splits them. */
function replies(transcript: string): BirdReply[] {
  const out: BirdReply[] = [];
  let lines: string[] = [];
  for (const line of transcript.split("\n")) {
    if (line === "" && lines.length === 0) continue;
    lines.push(line);
    if (isFinalLine(line)) {
      out.push(birdReply(lines));
      lines = [];
    }
  }
  return out;
}

function value(samples: readonly Sample[], name: string, labels: Record<string, string>): number | undefined {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  assert.ok(found.length <= 1, `one sample for ${name} ${JSON.stringify(labels)}`);
  return found[0]?.value;
}
const peerB = { vrf: "default", afi_safi: "ipv4_unicast", peer: "10.96.0.1", peer_as: "65001" };
const frrPeer = { vrf: "default", afi_safi: "ipv4_unicast", peer: "10.97.0.1", peer_as: "65001" };
const P = "vpnham_bgp_peer_";
/** Our clock at BIRD's "Current server time" of the captures does not matter when BIRD's is read. */
const anyClock = localClock(0);

describe("BIRD control-socket replies", () => {
  test("codes and continuation spaces are removed as birdc does; the last line's code is the reply's", () => {
    const [greeting, restrict, status, protocols] = replies(fixture("socket-established.txt"));
    assert.deepEqual(greeting, { code: 1, lines: ["BIRD 2.0.12 ready."] });
    assert.deepEqual(restrict, { code: 16, lines: ["Access restricted"] });
    assert.equal(status!.code, 13);
    assert.equal(status!.lines[3], "Current server time is 2026-12-02 14:29:12.325");
    assert.equal(protocols!.code, 0);
    assert.ok(protocols!.lines.includes("  Channel ipv4"));
    assert.ok(protocols!.lines.includes("    Routes:         1 imported, 1 exported, 1 preferred"));
    assert.deepEqual(birdReply(["9001 syntax error, unexpected CF_SYM_UNDEFINED"]), { code: 9001, lines: ["syntax error, unexpected CF_SYM_UNDEFINED"] });
    assert.deepEqual(["0000", "0000 ", "1002-x", " x", "12345 x", "abcd x"].map(isFinalLine), [true, true, false, false, false, false]);
  });
});

describe("BIRD show protocols all", () => {
  test("Established, time-of-day Since: up, state 1, prefixes, seconds since from BIRD's own clock", () => {
    const samples = birdCollection(replies(fixture("socket-established.txt")).slice(1), 0);
    assert.deepEqual(groupSamples(birdFamilies, samples).problems, []);
    assert.equal(value(samples, `${P}up`, peerB), 1);
    assert.equal(value(samples, `${P}state`, peerB), 1);
    assert.equal(value(samples, `${P}prefixes_received`, peerB), 1);
    assert.equal(value(samples, `${P}prefixes_advertised`, peerB), 1);
    // 14:29:12.325 (server time) − 14:28:17.235 (Since)
    assert.ok(Math.abs(value(samples, `${P}established_seconds`, peerB)! - 55.09) < 1e-6);
    assert.equal(value(samples, `${P}messages_received_total`, peerB), undefined, "BIRD does not say: not invented");
    assert.equal(value(samples, "vpnham_bird_protocol_up", { protocol: "peer_a", proto: "BGP" }), 1);
    assert.equal(value(samples, "vpnham_bird_protocol_up", { protocol: "st4", proto: "Static" }), 1);
    assert.equal(value(samples, "vpnham_bird_protocol_up", { protocol: "device1", proto: "Device" }), 1);
  });

  test("two channels, iso long Since, filtered routes: one peer per AFI/SAFI, imported excludes filtered", () => {
    const samples = birdCollection(replies(fixture("socket-two-channels-iso.txt")).slice(1), 0);
    assert.equal(value(samples, `${P}prefixes_received`, peerB), 1);
    assert.equal(value(samples, `${P}prefixes_advertised`, peerB), 1);
    const v6 = { ...peerB, afi_safi: "ipv6_unicast" };
    assert.equal(value(samples, `${P}up`, v6), 1);
    assert.equal(value(samples, `${P}prefixes_received`, v6), 1);
    assert.equal(value(samples, `${P}prefixes_advertised`, v6), 0);
    assert.ok(Math.abs(value(samples, `${P}established_seconds`, v6)! - 2.847) < 1e-6);
  });

  test("disabled (birdc disable): state 2, up 0, no prefixes, established 0", () => {
    const samples = birdCollection(replies(fixture("socket-disabled-iso.txt")).slice(1), 0);
    assert.equal(value(samples, `${P}state`, peerB), 2);
    assert.equal(value(samples, `${P}up`, peerB), 0);
    assert.equal(value(samples, `${P}prefixes_received`, peerB), 0);
    assert.equal(value(samples, `${P}established_seconds`, peerB), 0);
    assert.equal(value(samples, `${P}up`, { ...peerB, afi_safi: "ipv6_unicast" }), 0, "every channel stays listed");
    assert.equal(value(samples, "vpnham_bird_protocol_up", { protocol: "peer_a" }), 0);
  });

  test("birdc's printed output (against FRR) reads the same: up, and the peer's admin shutdown reads down (0)", () => {
    const up = parseBirdProtocols(fixture("birdc-show-protocols-all.txt").split("\n"));
    assert.deepEqual(up.map((p) => [p.name, p.proto, p.state, p.since, p.bgpState, p.neighborAddress, p.neighborAs]), [["peer_a", "BGP", "up", "04:38:58.315", "Established", "10.97.0.1", "65001"]]);
    // Our clock, BIRD's clock absent: 04:38:59.315 local wall time → 1 s.
    const samples = birdSamples(up, undefined, { epoch: 0, naive: 4 * 3600 + 38 * 60 + 59.315 });
    assert.equal(value(samples, `${P}up`, frrPeer), 1);
    assert.equal(value(samples, `${P}prefixes_received`, frrPeer), 1);
    assert.equal(value(samples, `${P}prefixes_advertised`, frrPeer), 0);
    assert.ok(Math.abs(value(samples, `${P}established_seconds`, frrPeer)! - 1) < 1e-6);

    const down = birdSamples(parseBirdProtocols(fixture("birdc-show-protocols-all-down.txt").split("\n")), undefined, anyClock);
    assert.equal(value(down, `${P}state`, frrPeer), 0, "the peer's shutdown is not ours: down, not admin down");
    assert.equal(value(down, `${P}up`, frrPeer), 0);
    assert.equal(value(down, `${P}established_seconds`, frrPeer), 0);
  });

  test("without details (show protocols): the BGP protocol is still a peer, named by its protocol", () => {
    const protocols = parseBirdProtocols(fixture("birdc-show-protocols.txt").split("\n"));
    assert.deepEqual(protocols.map((p) => [p.name, p.proto, p.state, p.info]), [
      ["device1", "Device", "up", ""],
      ["kernel1", "Kernel", "up", ""],
      ["peer_a", "BGP", "up", "Established"],
    ]);
    const samples = birdSamples(protocols, undefined, anyClock);
    assert.equal(value(samples, `${P}up`, { peer: "peer_a", peer_as: "" }), 1);
  });

  test("the BGP families are the FRR collector's, name for name (one dashboard, one alert)", () => {
    for (const def of frrFamilies) assert.deepEqual(birdFamilies.find((d) => d.name === def.name), def);
  });

  test("state values, channel names", () => {
    const cases: [string, string | undefined, string, 0 | 1 | 2][] = [
      ["up", "Established", "Established", 1],
      ["start", "Active", "Active  Received: Administrative shutdown", 0],
      ["start", "Idle", "Idle", 0],
      ["down", "Down", "", 2],
      ["flush", undefined, "", 0],
      ["up", undefined, "Established", 1],
      ["up", "OpenConfirm", "OpenConfirm", 0],
    ];
    for (const [state, bgpState, info, expected] of cases) assert.equal(birdBgpStateValue({ state, bgpState, info }), expected, `${state}/${bgpState}`);
    assert.deepEqual(["ipv4", "ipv6", "ipv4-mc", "vpn6-mpls", "flow4", "l2vpn-evpn"].map(channelAfiSafi), ["ipv4_unicast", "ipv6_unicast", "ipv4_multicast", "ipv6_vpn", "ipv4_flowspec", "l2vpn_evpn"]);
  });

  test("a VRF line labels the peer; odd lines are skipped, never thrown", () => {
    const text = [
      "Name       Proto      Table      State  Since         Info",
      "blue_peer  BGP        ---        up     12:00:00.000  Established",
      "  VRF:            blue",
      "  BGP state:          Established",
      "    Neighbor address: fe80::1%eth1",
      "    Neighbor AS:      4200000001",
      "  Channel ipv6",
      "    Routes:         12 imported, 3 exported, 12 preferred",
      "",
      "garbage",
      "    __proto__: x",
      "x y",
    ];
    const [p, ...rest] = parseBirdProtocols(text);
    assert.equal(rest.length, 0);
    const samples = birdSamples([p!], { kind: "time-of-day", seconds: 13 * 3600 }, anyClock);
    const labels = { vrf: "blue", afi_safi: "ipv6_unicast", peer: "fe80::1%eth1", peer_as: "4200000001" };
    assert.equal(value(samples, `${P}prefixes_received`, labels), 12);
    assert.equal(value(samples, `${P}established_seconds`, labels), 3600, "BIRD's clock as a time of day (timeformat base iso short)");
  });

  test("refusals are failed collections", () => {
    const ok = replies(fixture("socket-established.txt")).slice(1);
    assert.throws(() => birdCollection([{ code: 8007, lines: ["Access denied"] }, ok[1]!, ok[2]!]), /read-only/);
    assert.throws(() => birdCollection([ok[0]!, ok[1]!, { code: 9001, lines: ["syntax error"] }]), /show protocols all: syntax error/);
    assert.throws(() => birdCollection([ok[0]!]), /show status: no answer/);
  });
});

describe("BIRD times", () => {
  test("formats", () => {
    assert.deepEqual(parseBirdTime("14:28:17.235"), { kind: "time-of-day", seconds: 14 * 3600 + 28 * 60 + 17.235 });
    assert.deepEqual(parseBirdTime("14:28:17"), { kind: "time-of-day", seconds: 14 * 3600 + 28 * 60 + 17 });
    assert.deepEqual(parseBirdTime("1970-01-02 00:00:01"), { kind: "naive", seconds: 86401 });
    assert.deepEqual(parseBirdTime("2026-12-01"), { kind: "date" });
    assert.deepEqual(parseBirdTime("1796221685"), { kind: "epoch", seconds: 1796221685 });
    assert.equal(parseBirdTime("yesterday"), undefined);
    assert.deepEqual(parseServerTime(["Router ID is 1.2.3.4", "Current server time is 2026-12-02 14:29:12.325"]), parseBirdTime("2026-12-02 14:29:12.325"));
  });

  test("seconds since: across midnight, a date alone is unknown, epoch against our clock", () => {
    const now = parseBirdTime("2026-12-02 00:00:10");
    assert.equal(secondsSince("23:59:50", now, anyClock), 20, "a time of day after now's is yesterday's");
    assert.equal(secondsSince("00:00:05", now, anyClock), 5);
    assert.equal(secondsSince("2026-12-01", now, anyClock), undefined);
    assert.equal(secondsSince("1000000000", undefined, { epoch: 1000000042, naive: 0 }), 42);
    assert.equal(secondsSince("2026-12-02 00:00:11", now, anyClock), 0, "never negative");
    assert.equal(secondsSince("00:00:10.5", now, anyClock), 0, "a little ahead (clock steps) is now, not yesterday");
  });
});
