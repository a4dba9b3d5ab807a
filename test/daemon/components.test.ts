import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Component, ComponentSpec } from "../../src/daemon/component.ts";
import { createComponentSet } from "../../src/daemon/components.ts";

/** Fake components: record every start and stop; settings `{ fail: true }` cannot start. */
function world() {
  const events: string[] = [];
  let built = 0;
  const spec = (key: string, settings: Record<string, unknown> = {}): ComponentSpec => ({
    key,
    settings,
    create: (): Component & { id: number; state: number } => {
      const id = ++built;
      return {
        key,
        settings,
        id,
        state: 0,
        async start() {
          events.push(`start ${key}#${id}`);
          if (settings.fail) throw new Error(`${key} cannot bind`);
        },
        async stop() {
          events.push(`stop ${key}#${id}`);
          if (settings.stopThrows) throw new Error("boom");
        },
        status() {
          return { id, state: this.state };
        },
      };
    },
  });
  return { events, spec };
}

const statusOf = (set: ReturnType<typeof createComponentSet>, key: string) => set.components().get(key)?.status() as { id: number; state: number } | undefined;

describe("the component set (reload shell)", () => {
  test("start starts in order; stop stops all", async () => {
    const { events, spec } = world();
    const set = createComponentSet();
    await set.start([spec("bridge:a"), spec("check:x")]);
    assert.deepEqual([...set.components().keys()], ["bridge:a", "check:x"]);
    await set.stop();
    assert.deepEqual(events, ["start bridge:a#1", "start check:x#2", "stop bridge:a#1", "stop check:x#2"]);
    assert.equal(set.components().size, 0);
  });

  test("a first start that fails stops what started, cleans up the failed one, and throws", async () => {
    const { events, spec } = world();
    const set = createComponentSet();
    await assert.rejects(set.start([spec("a"), spec("b", { fail: true }), spec("c")]), /b cannot bind/);
    assert.deepEqual(events, ["start a#1", "start b#2", "stop b#2", "stop a#1"]);
    assert.equal(set.components().size, 0);
  });

  test("reload keeps unchanged components (same object, same state), restarts changed ones, starts and stops", async () => {
    const { events, spec } = world();
    const set = createComponentSet();
    await set.start([spec("a", { v: 1 }), spec("b", { v: 1 }), spec("gone")]);
    const a = set.components().get("a")!;
    (a as unknown as { state: number }).state = 42;
    events.length = 0;
    const result = await set.apply([spec("a", { v: 1 }), spec("b", { v: 2 }), spec("new")]);
    assert.deepEqual(result, { started: ["new"], stopped: ["gone"], restarted: ["b"], kept: ["a"], failed: [] });
    // Ids count builds: the spec of the kept component was never built.
    assert.deepEqual(events, ["stop gone#3", "stop b#2", "start b#4", "start new#5"]);
    assert.equal(set.components().get("a"), a);
    assert.equal(statusOf(set, "a")!.state, 42);
    assert.deepEqual((set.components().get("b")!.settings as { v: number }).v, 2);
  });

  test("new settings that cannot start: the previous settings start again, the result says so", async () => {
    const { events, spec } = world();
    const set = createComponentSet();
    await set.start([spec("a", { v: 1 }), spec("b", { v: 1 })]);
    events.length = 0;
    const result = await set.apply([spec("a", { v: 1 }), spec("b", { v: 2, fail: true })]);
    assert.deepEqual(result.failed, [{ key: "b", error: "b cannot bind", rolledBack: true }]);
    assert.deepEqual(result.kept, ["a"]);
    assert.deepEqual(result.restarted, []);
    // Old b stops, new b fails and is cleaned up, b is built again from its previous spec.
    assert.deepEqual(events, ["stop b#2", "start b#3", "stop b#3", "start b#4"]);
    assert.deepEqual(set.components().get("b")!.settings, { v: 1 }, "b runs its previous settings");
    // The next reload compares with what runs: asking for v: 1 again keeps it.
    assert.deepEqual((await set.apply([spec("a", { v: 1 }), spec("b", { v: 1 })])).kept, ["a", "b"]);
  });

  test("a new component that cannot start is not running and is not rolled back; the others go on", async () => {
    const { spec } = world();
    const set = createComponentSet();
    await set.start([spec("a")]);
    const result = await set.apply([spec("a"), spec("b", { fail: true }), spec("c")]);
    assert.deepEqual(result, { started: ["c"], stopped: [], restarted: [], kept: ["a"], failed: [{ key: "b", error: "b cannot bind", rolledBack: false }] });
    assert.deepEqual([...set.components().keys()], ["a", "c"]);
  });

  test("when the previous settings cannot start again either, the component is stopped and says so", async () => {
    const { spec } = world();
    const set = createComponentSet();
    let bindable = true;
    const flaky = (v: number): ComponentSpec => {
      const inner = spec("b", { v });
      return {
        ...inner,
        create: () => {
          const c = inner.create();
          return { ...c, key: c.key, settings: c.settings, start: async () => { if (!bindable) throw new Error("taken"); } };
        },
      };
    };
    await set.start([flaky(1)]);
    bindable = false;
    const result = await set.apply([flaky(2)]);
    assert.deepEqual(result.failed, [{ key: "b", error: "taken", rolledBack: false }]);
    assert.equal(set.components().size, 0);
  });

  test("a stop() that throws does not stop the reload", async () => {
    const { spec } = world();
    const set = createComponentSet();
    await set.start([spec("a", { stopThrows: true }), spec("b")]);
    const result = await set.apply([spec("b"), spec("c")]);
    assert.deepEqual(result, { started: ["c"], stopped: ["a"], restarted: [], kept: ["b"], failed: [] });
  });

  test("a create() that throws counts as a failed start", async () => {
    const { spec } = world();
    const set = createComponentSet();
    await set.start([spec("a", { v: 1 })]);
    const broken: ComponentSpec = { key: "a", settings: { v: 2 }, create: () => { throw new Error("bad settings"); } };
    const result = await set.apply([broken]);
    assert.deepEqual(result.failed, [{ key: "a", error: "bad settings", rolledBack: true }]);
    assert.deepEqual(set.components().get("a")!.settings, { v: 1 });
  });
});
