import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { planReload, type ReloadPlan } from "../../src/daemon/component.ts";

type Item = { key: string; settings: unknown };
const items = (entries: Record<string, unknown>): Item[] => Object.entries(entries).map(([key, settings]) => ({ key, settings }));

describe("planReload", () => {
  const cases: Array<[what: string, running: Record<string, unknown>, wanted: Record<string, unknown>, plan: ReloadPlan]> = [
    ["nothing running, nothing wanted", {}, {}, { start: [], stop: [], restart: [], keep: [] }],
    ["first start", {}, { "bridge:a": 1, "bridge:b": 2 }, { start: ["bridge:a", "bridge:b"], stop: [], restart: [], keep: [] }],
    ["everything goes", { "bridge:a": 1, "check:x": 2 }, {}, { start: [], stop: ["bridge:a", "check:x"], restart: [], keep: [] }],
    ["same settings: kept", { "bridge:a": { x: [1, 2] } }, { "bridge:a": { x: [1, 2] } }, { start: [], stop: [], restart: [], keep: ["bridge:a"] }],
    ["changed settings: restarted", { "bridge:a": { x: [1, 2] } }, { "bridge:a": { x: [1, 3] } }, { start: [], stop: [], restart: ["bridge:a"], keep: [] }],
    [
      "a mix, each list in its order",
      { "bridge:c": 3, "bridge:a": 1, "check:x": "old", "bridge:gone": 0 },
      { "bridge:a": 1, "bridge:new": 9, "check:x": "new", "bridge:c": 3 },
      { start: ["bridge:new"], stop: ["bridge:gone"], restart: ["check:x"], keep: ["bridge:a", "bridge:c"] },
    ],
    ["keys are compared whole: same name, other job", { "bridge:a": 1 }, { "check:a": 1 }, { start: ["check:a"], stop: ["bridge:a"], restart: [], keep: [] }],
    ["a key added to the settings is a change", { k: { a: 1 } }, { k: { a: 1, b: undefined } }, { start: [], stop: [], restart: ["k"], keep: [] }],
    ["undefined settings equal", { k: undefined }, { k: undefined }, { start: [], stop: [], restart: [], keep: ["k"] }],
    ["a type change is a change", { k: 1 }, { k: "1" }, { start: [], stop: [], restart: ["k"], keep: [] }],
  ];
  for (const [what, running, wanted, plan] of cases) {
    test(what, () => assert.deepEqual(planReload(items(running), items(wanted)), plan));
  }

  test("settings are compared deeply and strictly (isDeepStrictEqual), not by identity", () => {
    const settings = { name: "a", tunnels: [{ name: "eth1", addr: { host: "10.0.0.1", port: 3003 } }] };
    const copy = structuredClone(settings);
    assert.deepEqual(planReload([{ key: "k", settings }], [{ key: "k", settings: copy }]).keep, ["k"]);
    copy.tunnels[0]!.addr.port = 3004;
    assert.deepEqual(planReload([{ key: "k", settings }], [{ key: "k", settings: copy }]).restart, ["k"]);
  });

  test("a duplicate key is a bug of a job, not a plan", () => {
    assert.throws(() => planReload([], items({ a: 1 }).concat(items({ a: 2 }))), /two wanted components have the key a/);
    assert.throws(() => planReload(items({ a: 1 }).concat(items({ a: 1 })), []), /two running components have the key a/);
  });
});
