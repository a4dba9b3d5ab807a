import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { coalesce, stateSetBy, targetOf, type QueuedRun, type TargetState } from "../../src/hooks/coalesce.ts";
import type { HookName } from "../../src/hooks/types.ts";

/** Short names: "+b"/"-b" bridge (de)activate, "+t0"/"-t0" interface (de)activate, "r+b"/"r+t0" reapply. */
function run(spec: string): QueuedRun {
  const reapply = spec.startsWith("r");
  const body = reapply ? spec.slice(1) : spec;
  const on = body.startsWith("+");
  const what = body.slice(1);
  const hook: HookName = what === "b" ? (on ? "bridge_activate" : "bridge_deactivate") : on ? "interface_activate" : "interface_deactivate";
  const event = what === "b" ? { hook } : { hook, tunnel: what };
  return { event, reapply, target: targetOf(event), epoch: 0 };
}
const spec = (r: QueuedRun): string =>
  `${r.reapply ? "r" : ""}${stateSetBy(r.event.hook) === "active" ? "+" : "-"}${r.event.tunnel ?? "b"}`;
const appliedOf = (states: Record<string, TargetState>): Map<string, TargetState> =>
  new Map(Object.entries(states).map(([what, state]) => [what === "b" ? "bridge" : `tunnel:${what}`, state]));

/** Feeds events one by one, as the scheduler does, with nothing starting in between. */
function feed(events: string[], applied: Record<string, TargetState> = {}, maxQueued = 64) {
  let queue: QueuedRun[] = [];
  const dropped: string[] = [];
  for (const e of events) {
    const result = coalesce(queue, run(e), appliedOf(applied), maxQueued);
    queue = result.queue;
    dropped.push(...result.dropped.map((d) => `${spec(d.run)} ${d.reason}`));
  }
  return { queue: queue.map(spec), dropped };
}

describe("coalesce: the hook queue keeps only the last needed transition per target", () => {
  const table: { name: string; events: string[]; applied?: Record<string, TargetState>; queue: string[]; dropped: string[] }[] = [
    { name: "one transition is queued", events: ["+b"], queue: ["+b"], dropped: [] },
    { name: "an activate then a deactivate that have not started cancel out", events: ["+b", "-b"], queue: [], dropped: ["+b coalesced", "-b coalesced"] },
    { name: "… and the other way round, relative to a running activate", events: ["-b", "+b"], applied: { b: "active" }, queue: [], dropped: ["-b coalesced", "+b coalesced"] },
    {
      name: "[up, down, up] with none started, nothing run yet: just the last up",
      events: ["+t0", "-t0", "+t0"],
      queue: ["+t0"],
      dropped: ["+t0 coalesced", "-t0 coalesced"],
    },
    {
      name: "[up, down, up] while an up of that tunnel runs: nothing more to run",
      events: ["+t0", "-t0", "+t0"],
      applied: { t0: "active" },
      queue: [],
      dropped: ["+t0 coalesced", "-t0 coalesced", "+t0 coalesced"],
    },
    {
      name: "[down, up, down] while an up runs: one down",
      events: ["-t0", "+t0", "-t0"],
      applied: { t0: "active" },
      queue: ["-t0"],
      dropped: ["-t0 coalesced", "+t0 coalesced"],
    },
    {
      name: "after a failed run the state is unknown: the last transition always runs",
      events: ["-b", "+b"],
      applied: { b: "unknown" },
      queue: ["+b"],
      dropped: ["-b coalesced"],
    },
    { name: "a repeated transition runs once", events: ["+b", "+b"], queue: ["+b"], dropped: ["+b coalesced"] },
    { name: "a transition already applied is not run again", events: ["-b"], queue: [], dropped: ["-b coalesced"] },
    {
      name: "failover: the old tunnel's deactivate stays before the new one's activate",
      events: ["-t0", "+t1"],
      applied: { t0: "active" },
      queue: ["-t0", "+t1"],
      dropped: [],
    },
    {
      name: "failover and back before either started: nothing",
      events: ["-t0", "+t1", "-t1", "+t0"],
      applied: { t0: "active" },
      queue: [],
      dropped: ["+t1 coalesced", "-t1 coalesced", "-t0 coalesced", "+t0 coalesced"],
    },
    {
      name: "t0 → t1 → t2: t1 never runs, t0 still goes down before t2 comes up",
      events: ["-t0", "+t1", "-t1", "+t2"],
      applied: { t0: "active" },
      queue: ["-t0", "+t2"],
      dropped: ["+t1 coalesced", "-t1 coalesced"],
    },
    {
      name: "targets are independent; a re-queued transition moves to the place of its latest event",
      events: ["+b", "-t0", "+t1", "-b", "+b"],
      applied: { t0: "active" },
      queue: ["-t0", "+t1", "+b"],
      dropped: ["+b coalesced", "-b coalesced"],
    },
    { name: "a reapply joins the queue", events: ["r+b"], applied: { b: "active" }, queue: ["r+b"], dropped: [] },
    { name: "a second reapply of the same target is dropped", events: ["r+b", "r+b"], applied: { b: "active" }, queue: ["r+b"], dropped: ["r+b coalesced"] },
    { name: "a deactivate drops the queued reapply", events: ["r+b", "-b"], applied: { b: "active" }, queue: ["-b"], dropped: ["r+b coalesced"] },
    {
      name: "an interface_activate drops queued reapply runs of other tunnels, not the bridge's",
      events: ["r+b", "r+t0", "+t1"],
      applied: { b: "active", t0: "active" },
      queue: ["r+b", "+t1"],
      dropped: ["r+t0 coalesced"],
    },
    {
      name: "over the bound, reapply runs go first",
      events: ["+t0", "r+b", "+t1", "+t2"],
      applied: { b: "active" },
      queue: ["+t0", "+t1", "+t2"],
      dropped: ["r+b overflow"],
    },
    {
      name: "over the bound, then the oldest transition",
      events: ["+t0", "+t1", "+t2", "+t3"],
      queue: ["+t1", "+t2", "+t3"],
      dropped: ["+t0 overflow"],
    },
  ];
  for (const row of table) {
    test(row.name, () => {
      const maxQueued = row.name.startsWith("over the bound") ? 3 : 64;
      assert.deepEqual(feed(row.events, row.applied, maxQueued), { queue: row.queue, dropped: row.dropped });
    });
  }

  test("50 flaps of one tunnel with none started leave at most one run, and the queue never grows", () => {
    for (const start of ["active", "inactive", "unknown"] as const) {
      let queue: QueuedRun[] = [];
      let dropped = 0;
      let longest = 0;
      for (let i = 0; i < 50; i++) {
        const result = coalesce(queue, run(i % 2 === 0 ? "-t0" : "+t0"), appliedOf({ t0: start }), 64);
        queue = result.queue;
        dropped += result.dropped.length;
        longest = Math.max(longest, queue.length);
      }
      // The last event is an up: needed unless an up is what ran last.
      assert.deepEqual(queue.map(spec), start === "active" ? [] : ["+t0"], start);
      assert.equal(dropped + queue.length, 50, `${start}: every event is run or counted`);
      assert.equal(longest, 1);
    }
  });

  test("pure: the input queue is not changed", () => {
    const queue = [run("+b"), run("+t0")];
    const before = queue.map(spec);
    coalesce(queue, run("-b"), new Map(), 1);
    assert.deepEqual(queue.map(spec), before);
  });
});
