/** Prefixes from a service's dns_name, pure (docs/announce.md §DNS names): tables of answers and reads. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { effectiveConfig, initialNameState, nameStep, settleLeaving, withdrawLeaving, type Answer, type NameState } from "../../src/announce/dns-names.ts";
import type { PrefixDecision } from "../../src/announce/decide.ts";
import { parseResolver } from "../../src/announce/schema.ts";
import { announceConfig } from "./support.ts";

const ok = (...addresses: string[]): Answer => ({ ok: true, addresses });
const fail = (error: string): Answer => ({ ok: false, error });
const good: NameState = { prefixes: ["192.0.2.10/32", "2001:db8::10/128"], leaving: {}, failures: 0 };

describe("nameStep", () => {
  const cases: { name: string; state: NameState; answer: Answer; prefixes: string[]; added: string[]; removed: string[]; leaving: string[]; kept?: string; failures: number }[] = [
    { name: "first answer adds its host prefixes", state: initialNameState, answer: ok("192.0.2.10", "2001:db8:0::10"), prefixes: ["192.0.2.10/32", "2001:db8::10/128"], added: ["192.0.2.10/32", "2001:db8::10/128"], removed: [], leaving: [], failures: 0 },
    { name: "same answer: no change", state: good, answer: ok("2001:db8::10", "192.0.2.10", "192.0.2.10"), prefixes: good.prefixes as string[], added: [], removed: [], leaving: [], failures: 0 },
    { name: "failure keeps the last good set", state: good, answer: fail("ETIMEOUT"), prefixes: good.prefixes as string[], added: [], removed: [], leaving: [], kept: "ETIMEOUT", failures: 1 },
    { name: "empty answer keeps the last good set", state: { ...good, failures: 2 }, answer: ok(), prefixes: good.prefixes as string[], added: [], removed: [], leaving: [], kept: "empty answer", failures: 3 },
    { name: "answer of nothing usable keeps the last good set", state: good, answer: ok("not-an-ip"), prefixes: good.prefixes as string[], added: [], removed: [], leaving: [], kept: "empty answer", failures: 1 },
    { name: "failure before any answer keeps nothing", state: initialNameState, answer: fail("ENOTFOUND"), prefixes: [], added: [], removed: [], leaving: [], kept: "ENOTFOUND", failures: 1 },
    { name: "an address leaves: removed and leaving", state: good, answer: ok("192.0.2.10"), prefixes: ["192.0.2.10/32"], added: [], removed: ["2001:db8::10/128"], leaving: ["2001:db8::10/128"], failures: 0 },
    { name: "an address replaced", state: good, answer: ok("192.0.2.11", "2001:db8::10"), prefixes: ["192.0.2.11/32", "2001:db8::10/128"], added: ["192.0.2.11/32"], removed: ["192.0.2.10/32"], leaving: ["192.0.2.10/32"], failures: 0 },
    { name: "a leaving address that comes back stops leaving", state: { ...good, prefixes: ["192.0.2.10/32"], leaving: { "2001:db8::10/128": 5 } }, answer: ok("192.0.2.10", "2001:db8::10"), prefixes: good.prefixes as string[], added: ["2001:db8::10/128"], removed: [], leaving: [], failures: 0 },
    { name: "success resets the failure count", state: { ...good, failures: 4, lastError: "x" }, answer: ok("192.0.2.10", "2001:db8::10"), prefixes: good.prefixes as string[], added: [], removed: [], leaving: [], failures: 0 },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const step = nameStep(c.state, c.answer, 100);
      assert.deepEqual(step.state.prefixes, c.prefixes);
      assert.deepEqual(step.added, c.added);
      assert.deepEqual(step.removed, c.removed);
      assert.deepEqual(Object.keys(step.state.leaving).sort(), c.leaving);
      assert.equal(step.kept, c.kept);
      assert.equal(step.state.failures, c.failures);
    });
  }
});

describe("settleLeaving", () => {
  const state: NameState = { prefixes: ["192.0.2.10/32"], leaving: { "192.0.2.11/32": 100 }, failures: 0 };
  const cases: { name: string; read?: { startedMs: number; networks: ReadonlySet<string> }; leaving: string[] }[] = [
    { name: "no read yet: still leaving", leaving: ["192.0.2.11/32"] },
    { name: "read started before the withdraw: still leaving, even if absent", read: { startedMs: 99, networks: new Set() }, leaving: ["192.0.2.11/32"] },
    { name: "later read still has it: still leaving", read: { startedMs: 101, networks: new Set(["192.0.2.11/32"]) }, leaving: ["192.0.2.11/32"] },
    { name: "later read without it: left the allow-list", read: { startedMs: 101, networks: new Set(["192.0.2.10/32"]) }, leaving: [] },
  ];
  for (const c of cases) test(c.name, () => assert.deepEqual(Object.keys(settleLeaving(state, c.read).leaving), c.leaving));
});

describe("effectiveConfig", () => {
  const config = announceConfig(`
announce:
  frr: {}
  services:
    web:
      prefixes: [192.0.2.10/32]
      dns_name: web.example.test
      route_map: RM
    api:
      dns_name: api.example.test
    db:
      prefixes: [198.51.100.0/24]
`);
  test("static plus resolved plus leaving; leaving are withdrawn; conflicts skipped", () => {
    const names = new Map<string, NameState>([
      ["web", { prefixes: ["192.0.2.10/32", "192.0.2.20/32"], leaving: { "192.0.2.21/32": 1 }, failures: 0 }],
      ["api", { prefixes: ["192.0.2.20/32", "198.51.100.7/32", "2001:db8::7/128"], leaving: {}, failures: 0 }],
    ]);
    const effective = effectiveConfig(config, names);
    assert.deepEqual(
      effective.config.services.web!.prefixes.map((p) => [p.prefix, p.routeMap]),
      [["192.0.2.10/32", "RM"], ["192.0.2.20/32", "RM"], ["192.0.2.21/32", "RM"]],
    );
    assert.deepEqual(effective.config.services.api!.prefixes.map((p) => p.prefix), ["198.51.100.7/32", "2001:db8::7/128"]);
    assert.deepEqual(effective.config.services.db!.prefixes.map((p) => p.prefix), ["198.51.100.0/24"]);
    assert.deepEqual([...effective.leaving], ["192.0.2.21/32"]);
    assert.equal(effective.conflicts.length, 1);
    assert.match(effective.conflicts[0]!, /192\.0\.2\.20\/32 .* service web/);
  });
  test("a name never resolved adds nothing", () => {
    assert.deepEqual(effectiveConfig(config, new Map()).config.services.api!.prefixes, []);
  });
  test("withdrawLeaving overrides announce and hold", () => {
    const d = (prefix: string, intent: PrefixDecision["intent"]): PrefixDecision => ({ service: "web", prefix: { prefix, family: 4 }, intent });
    const out = withdrawLeaving([d("192.0.2.10/32", "announce"), d("192.0.2.21/32", "announce"), d("192.0.2.22/32", "hold")], new Set(["192.0.2.21/32", "192.0.2.22/32"]));
    assert.deepEqual(out.map((x) => x.intent), ["announce", "withdraw", "withdraw"]);
  });
});

describe("parseResolver", () => {
  const cases: [string, string | undefined][] = [
    ["127.0.0.1", "127.0.0.1:53"],
    ["127.0.0.1:5353", "127.0.0.1:5353"],
    ["::1", "[::1]:53"],
    ["[::1]:5353", "[::1]:5353"],
    ["127.0.0.1:0", undefined],
    ["127.0.0.1:70000", undefined],
    ["ns1.example.test", undefined],
    ["[::1]", "[::1]:53"],
  ];
  for (const [text, want] of cases) {
    test(text, () => {
      const parsed = parseResolver(text);
      assert.equal(parsed.ok ? parsed.value : undefined, want);
    });
  }
});
