import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  bridgeUp,
  initialRoles,
  reconcile,
  step,
  type Role,
  type RolesEffect,
  type RolesEvent,
  type RolesState,
} from "../../src/roles/roles.ts";

const names = ["eth1", "eth2", "eth3"];

/**
 * Every state (consistent or not: level-triggered rules must repair any) for
 * n tunnels; each tunnel is up, down with a verdict, or not yet judged.
 */
function* allStates(n: number): Generator<RolesState> {
  const tunnels = names.slice(0, n);
  for (const role of ["active", "standby"] as Role[])
    for (let configured = 0; configured < n; configured++)
      for (let code = 0; code < 3 ** n; code++)
        for (const partnerUp of [false, true])
          for (const partnerKnown of [false, true])
            for (const activeTunnel of [null, ...tunnels])
              for (const bridgeActive of [false, true]) {
                const base = initialRoles({ role, tunnels, configuredActiveTunnel: tunnels[configured]! });
                yield {
                  ...base,
                  partnerUp,
                  partnerKnown,
                  activeTunnel,
                  bridgeActive,
                  tunnels: base.tunnels.map((t, i) => {
                    const digit = Math.floor(code / 3 ** i) % 3; // 0 unknown, 1 down, 2 up
                    return { ...t, up: digit === 2, known: digit !== 0, upSinceMs: digit === 2 ? 0 : null };
                  }),
                };
              }
}

function allEvents(state: RolesState, nowMs: number): RolesEvent[] {
  const events: RolesEvent[] = [{ type: "tick", nowMs }];
  for (const up of [false, true]) {
    events.push({ type: "partner", up, nowMs });
    for (const t of state.tunnels) events.push({ type: "tunnel", name: t.name, up, nowMs });
  }
  // Verdicts of two or more tunnels at once, every combination (3^n − 1 − 2n of them).
  const n = state.tunnels.length;
  for (let code = 0; code < 3 ** n; code++) {
    const verdicts = new Map<string, boolean>();
    state.tunnels.forEach((t, i) => {
      const digit = Math.floor(code / 3 ** i) % 3; // 0 no verdict, 1 down, 2 up
      if (digit !== 0) verdicts.set(t.name, digit === 2);
    });
    if (verdicts.size >= 2) events.push({ type: "tunnels", verdicts, nowMs });
  }
  return events;
}

function assertInvariants(before: RolesState, event: RolesEvent, after: RolesState, effects: RolesEffect[]): void {
  const ctx = JSON.stringify({ before, event, after, effects });
  const up = bridgeUp(after);
  // ≤ 1 active tunnel, and only an up one.
  if (after.activeTunnel !== null) {
    assert.ok(after.tunnels.find((t) => t.name === after.activeTunnel)?.up, `active tunnel must be up: ${ctx}`);
  }
  // A tunnel is active whenever any is up, except while the configured-active one awaits its
  // first verdict (no backup takes the role at start).
  const configuredAfter = after.tunnels.find((t) => t.name === after.configuredActiveTunnel)!;
  if (after.activeTunnel !== null) assert.ok(up, `an active tunnel means the bridge is up: ${ctx}`);
  if (up && after.activeTunnel === null) assert.ok(!configuredAfter.known, `only the start-up wait leaves none active: ${ctx}`);
  // Events make their tunnel known.
  if (event.type === "tunnel") assert.ok(after.tunnels.find((t) => t.name === event.name)!.known);
  if (event.type === "tunnels") {
    for (const [name, up] of event.verdicts) {
      const t = after.tunnels.find((x) => x.name === name)!;
      assert.ok(t.known && t.up === up, `verdict applied: ${ctx}`);
    }
  }
  // Tunnels without a verdict in the event keep their very object (the shell relies on it).
  const judged = event.type === "tunnel" ? [event.name] : event.type === "tunnels" ? [...event.verdicts.keys()] : [];
  after.tunnels.forEach((t, i) => {
    if (!judged.includes(t.name)) assert.equal(t, before.tunnels[i], `untouched tunnel kept: ${ctx}`);
  });
  // Never active while down; role rules.
  if (after.bridgeActive) assert.ok(up, `never active while down: ${ctx}`);
  const expected = after.role === "active" ? up : up && after.partnerKnown && !after.partnerUp;
  if (event.type === "partner") assert.equal(after.partnerKnown, true);
  assert.equal(after.bridgeActive, expected, `bridge role rule: ${ctx}`);
  // The configured-active tunnel reclaims (no preempt delay here).
  const configured = after.tunnels.find((t) => t.name === after.configuredActiveTunnel)!;
  if (configured.up) assert.equal(after.activeTunnel, configured.name, `configured-active reclaims: ${ctx}`);
  // Sticky: an up active tunnel keeps its role unless the configured one is up.
  const previous = after.tunnels.find((t) => t.name === before.activeTunnel);
  if (previous?.up && !configured.up) assert.equal(after.activeTunnel, previous.name, `sticky: ${ctx}`);
  // Failover goes to the first up tunnel in configuration order (once the configured one is judged).
  if (!configured.up && !previous?.up && up && configured.known) {
    assert.equal(after.activeTunnel, after.tunnels.find((t) => t.up)!.name, `first up in order: ${ctx}`);
  }
  // Effects say exactly what changed, in order: deactivate, bridge, activate.
  const kinds = effects.filter((e) => e.type !== "recheck").map((e) => e.type);
  const expectedKinds: string[] = [];
  if (before.activeTunnel !== after.activeTunnel && before.activeTunnel !== null) expectedKinds.push("interface_deactivate");
  if (before.bridgeActive !== after.bridgeActive) expectedKinds.push(after.bridgeActive ? "bridge_activate" : "bridge_deactivate");
  if (before.activeTunnel !== after.activeTunnel && after.activeTunnel !== null) expectedKinds.push("interface_activate");
  assert.deepEqual(kinds, expectedKinds, `effects: ${ctx}`);
  for (const e of effects) {
    if (e.type === "interface_deactivate") assert.equal(e.tunnel, before.activeTunnel);
    if (e.type === "interface_activate") assert.equal(e.tunnel, after.activeTunnel);
  }
  // Settled: re-evaluating changes nothing.
  const again = reconcile(after, 0);
  assert.equal(again.state, after, `idempotent: ${ctx}`);
  assert.deepEqual(again.effects, [], `idempotent effects: ${ctx}`);
}

describe("roles: exhaustive over every state and event", () => {
  for (const n of [1, 2, 3]) {
    test(`${n} tunnel(s)`, () => {
      let checked = 0;
      for (const before of allStates(n)) {
        for (const event of allEvents(before, 0)) {
          const { state: after, effects } = step(before, event);
          assertInvariants(before, event, after, effects);
          checked++;
        }
      }
      // 2 roles × n configured × 3^n tunnel states × 2 partnerUp × 2 partnerKnown × (n+1) × 2, each with
      // 2n+3 single events and 3^n − 1 − 2n batches.
      assert.equal(checked, 2 * n * 3 ** n * 2 * 2 * (n + 1) * 2 * (3 ** n + 2));
    });
  }
});

describe("roles: scenarios", () => {
  const start = () => initialRoles({ role: "active", tunnels: ["eth1", "eth2"], configuredActiveTunnel: "eth1" });
  const run = (state: RolesState, events: RolesEvent[]) => {
    const all: RolesEffect[] = [];
    for (const e of events) {
      const r = step(state, e);
      state = r.state;
      all.push(...r.effects);
    }
    return { state, effects: all };
  };

  test("nothing is active before any verdict", () => {
    const s = start();
    assert.equal(s.activeTunnel, null);
    assert.equal(s.bridgeActive, false);
  });

  test("cold start: bridge then tunnel activate", () => {
    const { state, effects } = run(start(), [{ type: "tunnel", name: "eth1", up: true, nowMs: 1 }]);
    assert.equal(state.activeTunnel, "eth1");
    assert.deepEqual(effects, [
      { type: "bridge_activate", reason: "bridge_up" },
      { type: "interface_activate", tunnel: "eth1", reason: "no_active_tunnel" },
    ]);
  });

  test("failover and reclaim, deactivate before activate", () => {
    const { state, effects } = run(start(), [
      { type: "tunnel", name: "eth1", up: true, nowMs: 1 },
      { type: "tunnel", name: "eth2", up: true, nowMs: 2 },
      { type: "tunnel", name: "eth1", up: false, nowMs: 3 },
      { type: "tunnel", name: "eth1", up: true, nowMs: 4 },
    ]);
    assert.equal(state.activeTunnel, "eth1");
    assert.deepEqual(effects.slice(2), [
      { type: "interface_deactivate", tunnel: "eth1", reason: "active_tunnel_down" },
      { type: "interface_activate", tunnel: "eth2", reason: "active_tunnel_down" },
      { type: "interface_deactivate", tunnel: "eth2", reason: "configured_active_up" },
      { type: "interface_activate", tunnel: "eth1", reason: "configured_active_up" },
    ]);
  });

  test("standby steps down when its partner comes up and takes over when it goes", () => {
    let s = initialRoles({ role: "standby", tunnels: ["eth1"], configuredActiveTunnel: "eth1" });
    let r = step(s, { type: "tunnel", name: "eth1", up: true, nowMs: 0 });
    assert.equal(r.state.bridgeActive, false, "standby waits for a verdict on its partner");
    r = step(r.state, { type: "partner", up: false, nowMs: 0 });
    assert.equal(r.state.bridgeActive, true, "standby with a dead partner takes over");
    r = step(r.state, { type: "partner", up: true, nowMs: 1 });
    assert.equal(r.state.bridgeActive, false);
    assert.deepEqual(r.effects, [{ type: "bridge_deactivate", reason: "partner_up" }]);
    r = step(r.state, { type: "partner", up: false, nowMs: 2 });
    assert.deepEqual(r.effects, [{ type: "bridge_activate", reason: "partner_down" }]);
    s = r.state;
    r = step(s, { type: "tunnel", name: "eth1", up: false, nowMs: 3 });
    assert.deepEqual(r.effects, [
      { type: "interface_deactivate", tunnel: "eth1", reason: "active_tunnel_down" },
      { type: "bridge_deactivate", reason: "bridge_down" },
    ]);
  });

  test("cold start of a pair: the standby never activates when its partner is seen up first", () => {
    let s = initialRoles({ role: "standby", tunnels: ["eth1"], configuredActiveTunnel: "eth1" });
    const r1 = step(s, { type: "tunnel", name: "eth1", up: true, nowMs: 0 });
    const r2 = step(r1.state, { type: "partner", up: true, nowMs: 1 });
    s = r2.state;
    assert.deepEqual([...r1.effects, ...r2.effects].map((e) => e.type), ["interface_activate"]);
    assert.equal(s.bridgeActive, false);
  });

  test("cold start: a backup that comes up first waits for the configured tunnel's first verdict", () => {
    const start = initialRoles({ role: "active", tunnels: ["eth1", "eth2"], configuredActiveTunnel: "eth1" });
    const r1 = step(start, { type: "tunnel", name: "eth2", up: true, nowMs: 0 });
    assert.equal(r1.state.activeTunnel, null);
    assert.deepEqual(r1.effects, [{ type: "bridge_activate", reason: "bridge_up" }]);
    // The configured tunnel comes up: it takes the role, no churn through eth2.
    const r2 = step(r1.state, { type: "tunnel", name: "eth1", up: true, nowMs: 1 });
    assert.deepEqual(r2.effects, [{ type: "interface_activate", tunnel: "eth1", reason: "no_active_tunnel" }]);
    // Or its first verdict is "down": then the backup takes over.
    const r3 = step(r1.state, { type: "tunnel", name: "eth1", up: false, nowMs: 1 });
    assert.deepEqual(r3.effects, [{ type: "interface_activate", tunnel: "eth2", reason: "no_active_tunnel" }]);
  });

  test("preempt delay: reclaim waits until the configured tunnel has been up long enough", () => {
    let s = initialRoles({ role: "active", tunnels: ["eth1", "eth2"], configuredActiveTunnel: "eth1", preemptDelayMs: 1000 });
    s = run(s, [
      { type: "tunnel", name: "eth1", up: false, nowMs: 0 },
      { type: "tunnel", name: "eth2", up: true, nowMs: 0 },
    ]).state;
    assert.equal(s.activeTunnel, "eth2");
    let r = step(s, { type: "tunnel", name: "eth1", up: true, nowMs: 100 });
    assert.equal(r.state.activeTunnel, "eth2");
    assert.deepEqual(r.effects, [{ type: "recheck", atMs: 1100 }]);
    r = step(r.state, { type: "tick", nowMs: 1099 });
    assert.equal(r.state.activeTunnel, "eth2");
    r = step(r.state, { type: "tick", nowMs: 1100 });
    assert.equal(r.state.activeTunnel, "eth1");
    // The configured tunnel flapping restarts the delay.
    s = run(s, [
      { type: "tunnel", name: "eth1", up: true, nowMs: 0 },
      { type: "tunnel", name: "eth1", up: false, nowMs: 500 },
      { type: "tunnel", name: "eth1", up: true, nowMs: 900 },
      { type: "tick", nowMs: 1100 },
    ]).state;
    assert.equal(s.activeTunnel, "eth2");
    // But with nothing else up, it takes the role at once.
    s = step(s, { type: "tunnel", name: "eth2", up: false, nowMs: 1200 }).state;
    assert.equal(s.activeTunnel, "eth1");
  });
});

describe("roles: verdicts of several tunnels at once", () => {
  const names = ["eth1", "eth2", "eth3"];
  const start = () => initialRoles({ role: "active", tunnels: names, configuredActiveTunnel: "eth1" });

  test("cold start: every tunnel's first verdict in one event gives one activation of the configured one", () => {
    const r = step(start(), { type: "tunnels", verdicts: new Map([["eth3", true], ["eth1", true], ["eth2", true]]), nowMs: 5 });
    assert.equal(r.state.activeTunnel, "eth1");
    assert.deepEqual(r.effects, [
      { type: "bridge_activate", reason: "bridge_up" },
      { type: "interface_activate", tunnel: "eth1", reason: "no_active_tunnel" },
    ]);
    assert.deepEqual(r.state.tunnels.map((t) => t.upSinceMs), [5, 5, 5]);
  });

  test("the active tunnel and the next in order fail together: failover goes to the first still up, once", () => {
    let s = step(start(), { type: "tunnels", verdicts: new Map(names.map((n) => [n, true])), nowMs: 1 }).state;
    const r = step(s, { type: "tunnels", verdicts: new Map([["eth1", false], ["eth2", false]]), nowMs: 2 });
    assert.equal(r.state.activeTunnel, "eth3");
    assert.deepEqual(r.effects, [
      { type: "interface_deactivate", tunnel: "eth1", reason: "active_tunnel_down" },
      { type: "interface_activate", tunnel: "eth3", reason: "active_tunnel_down" },
    ]);
    s = r.state;
    // The same verdicts again change nothing, and keep the state.
    const again = step(s, { type: "tunnels", verdicts: new Map([["eth1", false], ["eth2", false]]), nowMs: 3 });
    assert.equal(again.state, s);
    assert.deepEqual(again.effects, []);
  });

  test("a batch ends where the same verdicts one by one end when they do not compete for the role", () => {
    const verdicts = new Map([["eth2", true], ["eth1", false], ["eth3", true]]);
    const batch = step(start(), { type: "tunnels", verdicts, nowMs: 7 }).state;
    let one = start();
    for (const [name, up] of verdicts) one = step(one, { type: "tunnel", name, up, nowMs: 7 }).state;
    assert.deepEqual(batch, one);
  });
});

describe("roles: random walks with preempt delay keep the invariants", () => {
  test("10 000 steps", () => {
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    let s = initialRoles({ role: "standby", tunnels: ["a", "b", "c"], configuredActiveTunnel: "b", preemptDelayMs: 50 });
    let nowMs = 0;
    for (let i = 0; i < 10_000; i++) {
      nowMs += rand(40);
      const events = allEvents(s, nowMs);
      const event = events[rand(events.length)]!;
      const before = s;
      const r = step(s, event);
      s = r.state;
      const up = bridgeUp(s);
      const b = s.tunnels.find((t) => t.name === "b")!;
      assert.equal(s.activeTunnel !== null, up && (b.known || before.activeTunnel !== null));
      if (s.activeTunnel !== null) assert.ok(s.tunnels.find((t) => t.name === s.activeTunnel)!.up);
      assert.equal(s.bridgeActive, up && s.partnerKnown && !s.partnerUp);
      const configured = s.tunnels.find((t) => t.name === "b")!;
      if (configured.up && configured.upSinceMs! + 50 <= nowMs) assert.equal(s.activeTunnel, "b");
      if (before.activeTunnel !== s.activeTunnel && s.activeTunnel !== null) {
        assert.ok(r.effects.some((e) => e.type === "interface_activate" && e.tunnel === s.activeTunnel));
      }
    }
  });
});
