import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { desiredOf, evaluate } from "../../src/announce/decide.ts";
import type { DampState } from "../../src/announce/damping.ts";
import { emptyDrainState, type DrainState } from "../../src/announce/drains.ts";
import type { ServiceHealth } from "../../src/announce/health.ts";
import { announceConfig, twoServices } from "./support.ts";

const config = announceConfig(twoServices);
const health = (web: boolean | undefined, db: boolean | undefined) =>
  new Map<string, ServiceHealth>([
    ["web", { healthy: web, reasons: [] }],
    ["db", { healthy: db, reasons: [] }],
  ]);
const intents = (web: boolean | undefined, db: boolean | undefined, drains: DrainState = emptyDrainState, damp = new Map<string, DampState>()) =>
  evaluate({ config, health: health(web, db), drains, damp, nowMs: 1000 }).decisions.map((d) => `${d.prefix.prefix} ${d.intent}`);

describe("announce decisions", () => {
  test("healthy → announce, unhealthy → withdraw, unknown → hold", () => {
    assert.deepEqual(intents(true, false), ["192.0.2.10/32 announce", "2001:db8::10/128 announce", "198.51.100.0/24 withdraw"]);
    assert.deepEqual(intents(undefined, true), ["192.0.2.10/32 hold", "2001:db8::10/128 hold", "198.51.100.0/24 announce"]);
  });

  test("a service drain withdraws all its prefixes, whatever health says, unknown included", () => {
    const drains: DrainState = { services: { web: { sinceMs: 1, reason: "DC1 maintenance" } }, prefixes: {} };
    assert.deepEqual(intents(true, true, drains), ["192.0.2.10/32 withdraw", "2001:db8::10/128 withdraw", "198.51.100.0/24 announce"]);
    assert.deepEqual(intents(undefined, true, drains), ["192.0.2.10/32 withdraw", "2001:db8::10/128 withdraw", "198.51.100.0/24 announce"]);
  });

  test("a prefix drain withdraws that prefix only", () => {
    const drains: DrainState = { services: {}, prefixes: { "2001:db8::10/128": { sinceMs: 1 } } };
    const result = evaluate({ config, health: health(true, true), drains, damp: new Map(), nowMs: 1 });
    assert.deepEqual(result.decisions.map((d) => d.intent), ["announce", "withdraw", "announce"]);
    assert.deepEqual(result.decisions[1]!.drained, { sinceMs: 1, by: "prefix" });
  });

  test("drains of names no longer configured are ignored", () => {
    const drains: DrainState = { services: { old: { sinceMs: 1 } }, prefixes: { "203.0.113.1/32": { sinceMs: 1 } } };
    assert.deepEqual(intents(true, true, drains), ["192.0.2.10/32 announce", "2001:db8::10/128 announce", "198.51.100.0/24 announce"]);
  });

  test("the backends' goal leaves held prefixes out and carries route-maps", () => {
    const { decisions } = evaluate({ config, health: health(true, undefined), drains: emptyDrainState, damp: new Map(), nowMs: 1 });
    assert.deepEqual(desiredOf(decisions), [
      { prefix: "192.0.2.10/32", family: 4, routeMap: "BGP1", announce: true },
      { prefix: "2001:db8::10/128", family: 6, routeMap: "BGP6", announce: true },
    ]);
  });

  test("damping state is carried per prefix: unknown health after a decision keeps it", () => {
    const first = evaluate({ config, health: health(true, false), drains: emptyDrainState, damp: new Map(), nowMs: 1 });
    const second = evaluate({ config, health: health(undefined, undefined), drains: emptyDrainState, damp: first.damp, nowMs: 2 });
    assert.deepEqual(second.decisions.map((d) => d.intent), ["announce", "announce", "withdraw"]);
  });

  test("a change held back by damping says until when", () => {
    const damped = announceConfig(twoServices.replace("min_interval: 0s", "min_interval: 5s"));
    let damp: ReadonlyMap<string, DampState> = new Map();
    for (const [nowMs, web] of [[0, false], [1000, true], [2000, false]] as const) {
      const r = evaluate({ config: damped, health: health(web, true), drains: emptyDrainState, damp, nowMs });
      damp = r.damp;
      if (nowMs === 2000) assert.deepEqual([r.decisions[0]!.intent, r.decisions[0]!.heldUntilMs], ["announce", 6000]);
    }
  });
});
