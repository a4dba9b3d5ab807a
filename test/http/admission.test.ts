import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { admit, idlest, normalizeAddress, type Admission, type ConnectionView } from "../../src/http/admission.ts";

type View = ConnectionView<string>;

/** A connection named `key`; idle after an answer (not 2xx), from 10.0.0.9, active at `lastActiveMs`. */
const c = (key: string, lastActiveMs: number, more: Partial<View> = {}): View => ({
  key,
  source: "10.0.0.9",
  reserved: false,
  serving: false,
  answered: true,
  proven: false,
  closing: false,
  lastActiveMs,
  ...more,
});

describe("idlest: whom a newcomer displaces", () => {
  const cases: [string, View[], string | undefined][] = [
    ["nobody open", [], undefined],
    ["the one inactive longest", [c("new", 30), c("old", 10), c("mid", 20)], "old"],
    ["never one being served", [c("old", 10, { serving: true }), c("new", 30)], "new"],
    ["all being served: nobody", [c("a", 10, { serving: true }), c("b", 20, { serving: true })], undefined],
    ["a stranger before a known client, however recent", [c("scraper", 10, { proven: true }), c("stranger", 50)], "stranger"],
    ["one lingering after its last answer first of all", [c("stranger", 10), c("done", 90, { closing: true, proven: true })], "done"],
    ["among known clients, the one inactive longest", [c("p2", 20, { proven: true }), c("p1", 10, { proven: true })], "p1"],
  ];
  for (const [what, open, victim] of cases) {
    test(what, () => assert.equal(idlest(open)?.key, victim));
  }
});

describe("admit: a newcomer is let in, displaces someone, or (only if all are served) refused", () => {
  const limits = { maxConnections: 3, maxPerSource: 2 };
  const stranger = { source: "10.0.0.9", reserved: false };
  const other = { source: "10.0.0.7", reserved: false };
  const partner = { source: "10.0.0.3", reserved: true };
  const fromOther = (key: string, at: number, more: Partial<View> = {}): View => c(key, at, { source: "10.0.0.7", ...more });
  const fromPartner = (key: string, at: number, more: Partial<View> = {}): View => c(key, at, { source: "10.0.0.3", reserved: true, ...more });

  const cases: [string, { source: string; reserved: boolean }, View[], Admission<string>][] = [
    ["room: admitted", stranger, [c("a", 1)], { kind: "admit" }],
    ["its address at the limit: its own idlest goes", stranger, [c("a", 1), c("b", 2), fromOther("x", 0)], { kind: "evict", victim: "a", limit: "per_source" }],
    [
      "its address at the limit, all served: refused (others are not touched)",
      stranger,
      [c("a", 1, { serving: true }), c("b", 2, { serving: true }), fromOther("x", 0)],
      { kind: "refuse", limit: "per_source" },
    ],
    ["full: the idlest stranger anywhere goes", other, [c("a", 5), fromOther("x", 1), c("b", 3)], { kind: "evict", victim: "x", limit: "total" }],
    [
      "full: the partner's connections are never displaced, however idle",
      other,
      [fromPartner("p", 0), c("a", 5), fromOther("x", 7), c("b", 3)],
      { kind: "evict", victim: "b", limit: "total" },
    ],
    ["full of strangers: the partner is admitted on top", partner, [c("a", 1), fromOther("x", 2), c("b", 3)], { kind: "admit" }],
    [
      "full of strangers being served: the partner is still admitted",
      partner,
      [c("a", 1, { serving: true }), fromOther("x", 2, { serving: true }), c("b", 3, { serving: true })],
      { kind: "admit" },
    ],
    ["full, all served: refused", other, [c("a", 1, { serving: true }), fromOther("x", 2, { serving: true }), c("b", 3, { serving: true })], { kind: "refuse", limit: "total" }],
    [
      "its address at the limit, the others' first requests maybe on their way: refused (a burst gets 503s, not resets)",
      stranger,
      [c("a", 1, { answered: false }), c("b", 2, { answered: false })],
      { kind: "refuse", limit: "per_source" },
    ],
    ["its address at the limit: one lingering after its answer goes", stranger, [c("a", 1, { answered: false }), c("b", 2, { closing: true })], { kind: "evict", victim: "b", limit: "per_source" }],
    ["full: a stranger not answered yet goes too (many hosts could hold every slot)", other, [c("a", 1, { answered: false }), fromOther("x", 2), c("b", 3)], { kind: "evict", victim: "a", limit: "total" }],
    ["the partner at its per-source limit: its own idlest goes", partner, [fromPartner("p1", 1), fromPartner("p2", 2)], { kind: "evict", victim: "p1", limit: "per_source" }],
    ["partner connections don't count against the total", other, [fromPartner("p1", 1), fromPartner("p2", 2), c("a", 3), c("b", 4)], { kind: "admit" }],
  ];
  for (const [what, newcomer, open, expected] of cases) {
    test(what, () => assert.deepEqual(admit(newcomer, open, limits), expected));
  }
});

test("normalizeAddress: IPv4-mapped IPv6 as IPv4, brackets and case dropped", () => {
  const cases: [string | undefined, string][] = [
    ["10.0.0.3", "10.0.0.3"],
    ["::ffff:10.0.0.3", "10.0.0.3"],
    ["::FFFF:10.0.0.3", "10.0.0.3"],
    ["::ffff:a00:3", "10.0.0.3"],
    ["[::ffff:c0a8:1ff]", "192.168.1.255"],
    ["[fd00::3]", "fd00::3"],
    ["FD00::A", "fd00::a"],
    ["::1", "::1"],
    [undefined, ""],
  ];
  for (const [input, expected] of cases) assert.equal(normalizeAddress(input), expected, String(input));
});
