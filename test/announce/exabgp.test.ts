/** ExaBGP's API, pure (docs/announce.md §ExaBGP): the Adj-RIB-Out read, the plan, the answer framing. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import type { DesiredPrefix } from "../../src/announce/decide.ts";
import { parseExabgpAdjRibOut, parseExabgpAnswer, planExabgp, type ExabgpActual } from "../../src/announce/exabgp.ts";

const want = (prefix: string, announce: boolean): DesiredPrefix => ({ prefix, family: prefix.includes(":") ? 6 : 4, announce });
const actual = (prefixes: string[], partial: string[] = []): ExabgpActual => ({
  networks: new Map(prefixes.map((p) => [p, { family: p.includes(":") ? 6 : 4 }])),
  partial: new Set(partial),
});

describe("ExaBGP: show adj-rib out", () => {
  test("ExaBGP 4.2.21's answer (captured): static, API and other-next-hop routes, both families", () => {
    const answer = parseExabgpAnswer(readFileSync(new URL("./fixtures/exabgp-adj-rib-out.txt", import.meta.url), "utf8"));
    assert.equal(answer?.outcome, "done");
    assert.deepEqual(parseExabgpAdjRibOut(answer!.lines), actual(["203.0.113.0/24", "192.0.2.10/32", "198.51.100.7/32", "2001:db8::10/128"]));
  });

  const cases: [string, string[], ExabgpActual][] = [
    ["nothing announced", [], actual([])],
    ["a host route without its length, upper-case IPv6", ["neighbor 10.0.0.2 ipv4 unicast 192.0.2.10 next-hop self", "neighbor fd00::2 ipv6 unicast 2001:DB8::10 next-hop self"], actual(["192.0.2.10/32", "2001:db8::10/128"])],
    [
      "other families and stray lines are not routes",
      ["neighbor 10.0.0.2 ipv4 flow destination-ipv4 192.0.2.99/32", "neighbor 10.0.0.2 ipv4 mpls-vpn 192.0.2.1/32 rd 1:1", "exabgp 4.2.21", "neighbor 10.0.0.2 ipv6 unicast 192.0.2.1/32 next-hop self"],
      actual([]),
    ],
    [
      "one neighbor of the family lacks a prefix (added by a reload): partial",
      [
        "neighbor 10.0.0.2 ipv4 unicast 192.0.2.10/32 next-hop self",
        "neighbor 10.0.0.2 ipv4 unicast 203.0.113.0/24 next-hop self",
        "neighbor 10.0.0.6 ipv4 unicast 203.0.113.0/24 next-hop self",
        "neighbor fd00::2 ipv6 unicast 2001:db8::10/128 next-hop self",
      ],
      actual(["192.0.2.10/32", "203.0.113.0/24", "2001:db8::10/128"], ["192.0.2.10/32"]),
    ],
  ];
  for (const [name, lines, expected] of cases) test(name, () => assert.deepEqual(parseExabgpAdjRibOut(lines), expected));
});

describe("ExaBGP: plan", () => {
  const cases: [string, DesiredPrefix[], ExabgpActual, string[]][] = [
    ["in sync", [want("192.0.2.10/32", true), want("2001:db8::10/128", false)], actual(["192.0.2.10/32"]), []],
    [
      "announce what is missing, withdraw what is there",
      [want("192.0.2.10/32", true), want("2001:db8::10/128", false)],
      actual(["2001:db8::10/128"]),
      ["announce route 192.0.2.10/32 next-hop self", "withdraw route 2001:db8::10/128"],
    ],
    ["a neighbor lacks it: announced again (ExaBGP leaves the others as they are)", [want("192.0.2.10/32", true)], actual(["192.0.2.10/32"], ["192.0.2.10/32"]), ["announce route 192.0.2.10/32 next-hop self"]],
    ["withdrawn from all, also when only some have it", [want("192.0.2.10/32", false)], actual(["192.0.2.10/32"], ["192.0.2.10/32"]), ["withdraw route 192.0.2.10/32"]],
    ["routes outside the allow-list are never named", [want("192.0.2.10/32", false)], actual(["203.0.113.0/24", "198.51.100.7/32"]), []],
  ];
  for (const [name, desired, have, commands] of cases) test(name, () => assert.deepEqual(planExabgp(desired, have), commands));
});

describe("ExaBGP: answers", () => {
  const cases: [string, string, ReturnType<typeof parseExabgpAnswer>][] = [
    ["not finished", "neighbor 10.0.0.2 ipv4 unicast 192.0.2.10/32 next-hop self\n", undefined],
    ["the end line still being written", "do", undefined],
    ["done, no lines", "done\n", { outcome: "done", lines: [] }],
    ["lines then done", "exabgp 4.2.21\n\ndone\n", { outcome: "done", lines: ["exabgp 4.2.21"] }],
    ["error", "error\n", { outcome: "error", lines: [] }],
    ["shutdown (ExaBGP stopping)", "shutdown\n", { outcome: "shutdown", lines: [] }],
    ["a route mentioning done is not the end", "neighbor done\n", undefined],
  ];
  for (const [name, text, expected] of cases) test(name, () => assert.deepEqual(parseExabgpAnswer(text), expected));
});
