import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { groupSamples } from "../../src/collectors/families.ts";
import { parsePairs, parseTrafficLine, parseTrafficStatus, type TrafficLine } from "../../src/collectors/libreswan/parse.ts";
import { emptyLibreswanState, libreswanFamilies, libreswanSamples, type LibreswanState } from "../../src/collectors/libreswan/samples.ts";
import { strongswanFamilies } from "../../src/collectors/strongswan/samples.ts";
import type { Sample } from "../../src/collectors/types.ts";

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/libreswan/${name}`, (import.meta as unknown as { url: string }).url), "utf8");

function value(samples: readonly Sample[], name: string, labels: Record<string, string>): number | undefined {
  const found = samples.filter((s) => s.name === `vpnham_ipsec_child_sa_${name}` && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  assert.ok(found.length <= 1, `one sample for ${name} ${JSON.stringify(labels)}`);
  return found[0]?.value;
}
const NOW = 1762003800;

describe("libreswan trafficstatus lines", () => {
  const cases: [string, string, Partial<TrafficLine>][] = [
    [
      "3.x with the 006 prefix",
      `006 #12: "dc1-to-dc2", type=ESP, add_time=1762000000, inBytes=81234, outBytes=90210, id='@gw2.example.net'`,
      { serial: "12", name: "dc1-to-dc2", base: "dc1-to-dc2", type: "ESP", addTime: 1762000000, inBytes: 81234, outBytes: 90210, id: "@gw2.example.net", instance: undefined, peerAddress: undefined },
    ],
    ["add_time=0: not used yet, no age", `006 #15: "dc1-to-dc3", type=ESP, add_time=0, inBytes=0, outBytes=120, id='@gw3.example.net'`, { addTime: undefined, outBytes: 120 }],
    [
      "4.x alias and an id with a comma",
      `006 #4: "dc1-to-dc2/1x1", type=ESP, add_time=1762000100, inBytes=5040, outBytes=6612, maxBytes=2^63B, id='CN=gw2.example.net, O=Example Corp'`,
      { name: "dc1-to-dc2/1x1", base: "dc1-to-dc2", id: "CN=gw2.example.net, O=Example Corp", inBytes: 5040 },
    ],
    [
      "a road-warrior instance with its address and a lease after the id",
      `006 #9: "remote-users"[3] 203.0.113.45, type=ESP, add_time=1762000400, inBytes=1048576, outBytes=524288, maxBytes=2^63B, id='CN=alice, O=Example Corp', lease=10.77.0.3/32`,
      { name: "remote-users", instance: "3", peerAddress: "203.0.113.45", id: "CN=alice, O=Example Corp", outBytes: 524288 },
    ],
    ["5.x without a prefix", `#6: "dc1-to-dc2", type=ESP, add_time=1762003700, inBytes=64, outBytes=128, maxBytes=2^63B, id='@gw2.example.net'`, { serial: "6", inBytes: 64 }],
    ["an id quote inside the value is kept to the closing quote before a comma", `#7: "x", type=ESP, inBytes=1, outBytes=2, id='O=it's, CN=y'`, { id: "O=it's, CN=y", addTime: undefined }],
    ["AH", `#8: "ah-conn", type=AH, add_time=5, inBytes=10, outBytes=20, id='@p'`, { type: "AH", addTime: 5 }],
    ["counters that are not numbers read 0", `#9: "y", type=ESP, inBytes=-3, outBytes=1e9, id='@p'`, { inBytes: 0, outBytes: 0 }],
    ["trailing CR and spaces", `006 #10: "z", type=ESP, add_time=1, inBytes=1, outBytes=1, id='@p'  \r`, { name: "z", id: "@p" }],
  ];
  for (const [what, line, expected] of cases) {
    test(what, () => {
      const parsed = parseTrafficLine(line);
      assert.ok(parsed, "parsed");
      for (const [k, v] of Object.entries(expected)) assert.deepEqual((parsed as unknown as Record<string, unknown>)[k], v, k);
    });
  }

  test("lines that are no SA are skipped", () => {
    for (const line of ["", "000  ", "006 ", "000 Total IPsec connections: loaded 2, active 1", `#x: "a", type=ESP`, `#1 "a", type=ESP`, `#1: a, type=ESP`, `#1: "", type=ESP`]) {
      assert.equal(parseTrafficLine(line), undefined, JSON.stringify(line));
    }
    assert.deepEqual(parsePairs("a=1, b='x, y', c=3,d=, e"), new Map([["a", "1"], ["b", "x, y"], ["c", "3"], ["d", ""]]));
  });
});

describe("libreswan samples", () => {
  test("3.x: every line up, bytes per direction, age from add_time; a configured connection with no line reads 0", () => {
    const lines = parseTrafficStatus(fixture("trafficstatus-v3.txt"));
    const { samples } = libreswanSamples(lines, ["dc1-to-dc2", "dc1-to-dc4"], emptyLibreswanState(), NOW);
    assert.deepEqual(groupSamples(libreswanFamilies, samples).problems, []);
    const dc2 = { conn: "dc1-to-dc2", child: "dc1-to-dc2" };
    assert.equal(value(samples, "up", dc2), 1);
    assert.equal(value(samples, "bytes_total", { ...dc2, direction: "in" }), 81234);
    assert.equal(value(samples, "bytes_total", { ...dc2, direction: "out" }), 90210);
    assert.equal(value(samples, "age_seconds", dc2), 3800);
    assert.equal(value(samples, "up", { conn: "dc1-to-dc3" }), 1, "up although not in connections: it has an SA");
    assert.equal(value(samples, "age_seconds", { conn: "dc1-to-dc3" }), undefined, "add_time=0: unknown, not invented");
    assert.equal(value(samples, "up", { conn: "dc1-to-dc4", child: "dc1-to-dc4" }), 0);
    assert.equal(value(samples, "bytes_total", { conn: "dc1-to-dc4", direction: "in" }), 0);
    assert.deepEqual([...new Set(samples.map((s) => s.labels["conn"]))], ["dc1-to-dc2", "dc1-to-dc4", "dc1-to-dc3"], "configured first");
  });

  test("4.x: an alias reads under its connection; the road-warrior template sums its instances in one series", () => {
    const extra = `006 #11: "remote-users"[4] 203.0.113.46, type=ESP, add_time=1762000500, inBytes=10, outBytes=20, maxBytes=2^63B, id='CN=bob, O=Example Corp'\n`;
    const lines = parseTrafficStatus(fixture("trafficstatus-v4.txt") + extra);
    const { samples } = libreswanSamples(lines, ["dc1-to-dc2"], emptyLibreswanState(), NOW);
    const alias = { conn: "dc1-to-dc2", child: "dc1-to-dc2/1x1" };
    assert.equal(value(samples, "up", alias), 1);
    assert.equal(value(samples, "up", { conn: "dc1-to-dc2", child: "dc1-to-dc2" }), undefined, "the alias stands for the connection");
    const rw = { conn: "remote-users", child: "remote-users" };
    assert.equal(value(samples, "up", rw), 1);
    assert.equal(value(samples, "bytes_total", { ...rw, direction: "in" }), 1048576 + 10);
    assert.equal(value(samples, "age_seconds", rw), NOW - 1762000500, "the newest SA's age");
  });

  test("5.x rekey: both SAs summed, the newest's age; the old SA gone keeps its bytes; a restart of pluto too", () => {
    const both = parseTrafficStatus(fixture("trafficstatus-v5.txt"));
    const dc2 = { conn: "dc1-to-dc2", child: "dc1-to-dc2" };
    let state: LibreswanState = emptyLibreswanState();
    const step = (lines: ReturnType<typeof parseTrafficStatus>) => {
      const r = libreswanSamples(lines, ["dc1-to-dc2"], state, NOW);
      state = r.state;
      return r.samples;
    };
    let samples = step(both);
    assert.equal(value(samples, "bytes_total", { ...dc2, direction: "in" }), 5040 + 64);
    assert.equal(value(samples, "age_seconds", dc2), 100);
    // The old SA (#4) expires; #6 carries on.
    samples = step([{ ...both[1]!, inBytes: 1000, outBytes: 2000 }]);
    assert.equal(value(samples, "bytes_total", { ...dc2, direction: "in" }), 5040 + 1000);
    assert.equal(value(samples, "bytes_total", { ...dc2, direction: "out" }), 6612 + 2000);
    // Tunnel down: no line. Up 0, totals kept.
    samples = step([]);
    assert.equal(value(samples, "up", dc2), 0);
    assert.equal(value(samples, "bytes_total", { ...dc2, direction: "in" }), 6040);
    // pluto restarted: serials start again, #6 reused with smaller counters — a new SA.
    samples = step([{ ...both[1]!, inBytes: 7, outBytes: 8 }]);
    assert.equal(value(samples, "up", dc2), 1);
    assert.equal(value(samples, "bytes_total", { ...dc2, direction: "in" }), 6047);
  });

  test("an alias seen once stays listed (0) while its connection is configured; an alias named in connections always", () => {
    const v4 = parseTrafficStatus(fixture("trafficstatus-v4.txt"));
    let r = libreswanSamples(v4, ["dc1-to-dc2", "dc9/2x1"], emptyLibreswanState(), NOW);
    assert.equal(value(r.samples, "up", { conn: "dc9", child: "dc9/2x1" }), 0);
    r = libreswanSamples([], ["dc1-to-dc2", "dc9/2x1"], r.state, NOW);
    assert.equal(value(r.samples, "up", { conn: "dc1-to-dc2", child: "dc1-to-dc2/1x1" }), 0, "never vanishes");
    assert.equal(value(r.samples, "bytes_total", { child: "dc1-to-dc2/1x1", direction: "out" }), 6612);
    assert.equal(value(r.samples, "up", { conn: "dc1-to-dc2", child: "dc1-to-dc2" }), undefined);
    assert.equal(value(r.samples, "up", { conn: "remote-users" }), undefined, "not configured and gone: forgotten");
  });

  test("the families are the strongSwan collector's, name for name", () => {
    for (const def of libreswanFamilies) assert.deepEqual(strongswanFamilies.find((d) => d.name === def.name), def);
    assert.deepEqual(libreswanFamilies.map((d) => d.name), ["vpnham_ipsec_child_sa_up", "vpnham_ipsec_child_sa_age_seconds", "vpnham_ipsec_child_sa_bytes_total"]);
  });
});
