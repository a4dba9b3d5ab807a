/** ExaBGP's API, pure (docs/announce.md §ExaBGP): the Adj-RIB-Out read, the plan, the answer framing, answers in step. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import type { DesiredPrefix } from "../../src/announce/decide.ts";
import {
  ExabgpAnswerScanner,
  exabgpAnswerMismatch,
  exabgpPipeStart,
  nextExabgpPipeState,
  parseExabgpAdjRibOut,
  parseExabgpAnswer,
  planExabgp,
  type ExabgpActual,
  type ExabgpAnswer,
  type ExabgpPipeEvent,
  type ExabgpPipeState,
} from "../../src/announce/exabgp.ts";

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

describe("ExaBGP: the answer stream, chunk by chunk", () => {
  const route = (n: number) => `neighbor 10.0.0.2 ipv4 unicast 192.0.2.${n}/32 next-hop self`;
  const cases: [string, string[], number, ExabgpAnswer[][], boolean][] = [
    ["a line and the end line split across chunks", [`${route(1).slice(0, 20)}`, `${route(1).slice(20)}\ndo`, "ne\n"], Infinity, [[], [], [{ outcome: "done", lines: [route(1)] }]], false],
    ["two answers in one chunk, a third begun", [`${route(1)}\ndone\nerror\n${route(2)}`], Infinity, [[{ outcome: "done", lines: [route(1)] }, { outcome: "error", lines: [] }]], true],
    ["blank lines are left out", ["\n  \ndone\n"], Infinity, [[{ outcome: "done", lines: [] }]], false],
    ["an unfinished line after the end is something under way", ["done\nneigh"], Infinity, [[{ outcome: "done", lines: [] }]], true],
    [
      "past the limit: lines dropped, the end line still found, the next answer whole",
      [`${route(1)}\n${route(2)}\n`, `${route(3)}\ndone\n${route(4)}\ndone\n`],
      2 * route(1).length,
      [[], [{ outcome: "done", lines: [route(1), route(2)], overLimit: true }, { outcome: "done", lines: [route(4)] }]],
      false,
    ],
    ["a line longer than the limit, ending in done, is not an end line", ["x".repeat(30), "done\n", "done\n"], 10, [[], [], [{ outcome: "done", lines: [], overLimit: true }]], false],
  ];
  for (const [name, chunks, limit, expected, midAnswer] of cases) {
    test(name, () => {
      const scanner = new ExabgpAnswerScanner(limit);
      assert.deepEqual(chunks.map((chunk) => scanner.push(chunk)), expected);
      assert.equal(scanner.midAnswer, midAnswer);
    });
  }
});

describe("ExaBGP: an answer's shape (whose answer is it?)", () => {
  const answer = (...lines: string[]): ExabgpAnswer => ({ outcome: "done", lines });
  const cases: [string, string, ExabgpAnswer, RegExp | undefined][] = [
    ["an announce: its end line alone", "announce route 192.0.2.10/32 next-hop self", answer(), undefined],
    ["an announce answered with routes: a read's answer", "announce route 192.0.2.10/32 next-hop self", answer("neighbor 10.0.0.2 ipv4 unicast 203.0.113.0/24 next-hop self"), /1 line\(s\) came with it \(neighbor 10\.0\.0\.2/],
    ["a withdraw answered error: its own", "withdraw route 192.0.2.10/32", { outcome: "error", lines: [] }, undefined],
    ["a read: routes of any family", "show adj-rib out", answer("neighbor 10.0.0.2 ipv4 unicast 192.0.2.10/32 next-hop self", "neighbor 10.0.0.2 ipv4 flow destination-ipv4 192.0.2.99/32"), undefined],
    ["a read: nothing announced", "show adj-rib out", answer(), undefined],
    ["a read answered by `version`", "show adj-rib out", answer("exabgp 4.2.21"), /a line that is not a route came with it \(exabgp 4\.2\.21\)/],
    ["a read answered by `show neighbor summary`", "show adj-rib out", answer("Peer            AS        up/down state       |     #sent     #recvd"), /not a route/],
    ["a command vpnham does not send: not checked", "version", answer("exabgp 4.2.21"), undefined],
  ];
  for (const [name, command, given, problem] of cases) {
    test(name, () => {
      const said = exabgpAnswerMismatch(command, given);
      if (problem) assert.match(said ?? "", problem);
      else assert.equal(said, undefined);
    });
  }
});

describe("ExaBGP: which answer is ours (the pipe client's count)", () => {
  const known = (owed: number): ExabgpPipeState => ({ owed, unsure: false });
  const unsure: ExabgpPipeState = { owed: 0, unsure: true };
  test("at the start: unsure (a killed vpnham may have left an answer with the relay)", () => assert.deepEqual(exabgpPipeStart, unsure));
  const cases: [string, ExabgpPipeEvent, ExabgpPipeState][] = [
    ["settled: nothing older comes any more", { kind: "settled" }, known(0)],
    ["ExaBGP not running: what the relay kept is gone", { kind: "not_running" }, known(0)],
    ["our answer came after the owed ones", { kind: "answered" }, known(0)],
    ["cut short, nothing owed before: its own answer is owed, skipped next time", { kind: "cut_short", owed: 0 }, known(1)],
    ["cut short while owed ones were still coming (lost with a restart?): read away instead of counting on", { kind: "cut_short", owed: 1 }, unsure],
    ["out of step: unsure", { kind: "out_of_step" }, unsure],
  ];
  for (const [name, event, expected] of cases) test(name, () => assert.deepEqual(nextExabgpPipeState(event), expected));
});
