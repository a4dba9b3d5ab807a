// The hook queue under flapping input (docs/hardening.md, "Hooks under flapping input"):
// runs that have not started coalesce to the latest desired state, the running one is never
// cut short, the queue is bounded, every dropped run is reported. Commands are a fake runner
// that finishes when the test says, except where a real process must show it is not killed.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHookScheduler, type HookSchedulerOptions, type Timers } from "../../src/hooks/scheduler.ts";
import type { CommandResult, HookConfig, HookEvent, HookName, HookRunReport } from "../../src/hooks/types.ts";
import { waitFor } from "./support.ts";

const dir = mkdtempSync(join(tmpdir(), "vpnham-coalesce-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A runner whose commands finish only when released; argv[0] names the run. */
function fakeRunner(exitCodeFor: (name: string) => number = () => 0) {
  const started: string[] = [];
  const pending: Array<() => void> = [];
  const run = (argv: string[]): Promise<CommandResult> => {
    const name = argv[0] ?? "";
    started.push(argv.join(" "));
    return new Promise((resolve) => {
      pending.push(() =>
        resolve({ argv, exitCode: exitCodeFor(name), signal: null, timedOut: false, durationMs: 1, stdout: "", stderr: "", truncated: false }),
      );
    });
  };
  return {
    run,
    started,
    /** Finish the running command (the queue is serial: at most one). */
    async release(): Promise<void> {
      await waitFor(() => pending.length > 0, 2000, "a running command");
      pending.shift()!();
    },
  };
}

/** Timers fired only by the test. */
function fakeTimers(): Timers & { pending: Map<number, { fn: () => void; delayMs: number }>; fireAll(): void } {
  let nextId = 0;
  const pending = new Map<number, { fn: () => void; delayMs: number }>();
  return {
    pending,
    setTimeout(fn, delayMs) {
      pending.set(++nextId, { fn, delayMs });
      return nextId;
    },
    clearTimeout(handle) {
      pending.delete(handle as number);
    },
    fireAll() {
      const due = [...pending.values()];
      pending.clear();
      for (const timer of due) timer.fn();
    },
  };
}

const every: Partial<Record<HookName, HookConfig>> = {
  bridge_activate: { commands: [["bridge_activate"]] },
  bridge_deactivate: { commands: [["bridge_deactivate"]] },
  interface_activate: { commands: [["interface_activate", "${tunnel_interface}"]] },
  interface_deactivate: { commands: [["interface_deactivate", "${tunnel_interface}"]] },
};

function setUp(extra: Partial<HookSchedulerOptions> = {}, hooks = every) {
  const reports: HookRunReport[] = [];
  const dropped: string[] = [];
  const options: HookSchedulerOptions = {
    bridgeName: "br-coalesce",
    hooks,
    timeoutMs: 5000,
    dryRun: false,
    valuesFor: (event: HookEvent) => ({ tunnel_interface: event.tunnel ?? "" }),
    onResult: (report) => reports.push(report),
    onDropped: (event, reason) => dropped.push(`${event.hook}${event.tunnel ? ` ${event.tunnel}` : ""} ${reason}`),
    ...extra,
  };
  return { reports, dropped, scheduler: createHookScheduler(options) };
}

/** Let the pump take the first queued run (it starts after the emitting turn). */
const nextTurn = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

describe("hook queue under flapping input", () => {
  test("flaps behind a running hook cancel out; the running one finishes", async () => {
    const runner = fakeRunner();
    const { reports, dropped, scheduler } = setUp({ run: runner.run });
    scheduler.emit({ hook: "bridge_activate" });
    await nextTurn();
    for (let i = 0; i < 25; i++) {
      scheduler.emit({ hook: "bridge_deactivate" });
      scheduler.emit({ hook: "bridge_activate" });
    }
    await runner.release();
    await scheduler.idle();
    assert.deepEqual(runner.started, ["bridge_activate"], "50 flaps, one run");
    assert.equal(reports.length, 1);
    assert.equal(dropped.length, 50);
    assert.ok(dropped.every((d) => d.endsWith(" coalesced")));
    // A later transition runs as before.
    scheduler.emit({ hook: "bridge_deactivate" });
    await runner.release();
    await scheduler.idle();
    assert.deepEqual(runner.started, ["bridge_activate", "bridge_deactivate"]);
    await scheduler.stop();
  });

  test("queued [up, down, up] of one tunnel with none started: just the last needed one", async () => {
    const runner = fakeRunner();
    const { dropped, scheduler } = setUp({ run: runner.run });
    scheduler.emit({ hook: "bridge_activate" });
    await nextTurn();
    scheduler.emit({ hook: "interface_activate", tunnel: "t0" });
    scheduler.emit({ hook: "interface_deactivate", tunnel: "t0" });
    scheduler.emit({ hook: "interface_activate", tunnel: "t0" });
    for (let i = 0; i < 2; i++) await runner.release();
    await scheduler.idle();
    assert.deepEqual(runner.started, ["bridge_activate", "interface_activate t0"]);
    assert.deepEqual(dropped, ["interface_activate t0 coalesced", "interface_deactivate t0 coalesced"]);
    await scheduler.stop();
  });

  test("failover and back while a hook runs: nothing more; failover again: old down before new up", async () => {
    const runner = fakeRunner();
    const { scheduler } = setUp({ run: runner.run });
    scheduler.emit({ hook: "interface_activate", tunnel: "t0" });
    await nextTurn();
    for (let i = 0; i < 10; i++) {
      scheduler.emit({ hook: "interface_deactivate", tunnel: "t0" });
      scheduler.emit({ hook: "interface_activate", tunnel: "t1" });
      scheduler.emit({ hook: "interface_deactivate", tunnel: "t1" });
      scheduler.emit({ hook: "interface_activate", tunnel: "t0" });
    }
    scheduler.emit({ hook: "interface_deactivate", tunnel: "t0" });
    scheduler.emit({ hook: "interface_activate", tunnel: "t1" });
    for (let i = 0; i < 3; i++) await runner.release();
    await scheduler.idle();
    assert.deepEqual(runner.started, ["interface_activate t0", "interface_deactivate t0", "interface_activate t1"]);
    await scheduler.stop();
  });

  test("the running hook is never killed by coalescing", async () => {
    const file = join(dir, "running.txt");
    const { reports, scheduler } = setUp({}, {
      bridge_activate: { commands: [["sh", "-c", `sleep 0.3; echo finished >> '${file}'`]] },
      bridge_deactivate: { commands: [["true"]] },
    });
    scheduler.emit({ hook: "bridge_activate" });
    await nextTurn();
    scheduler.emit({ hook: "bridge_deactivate" });
    scheduler.emit({ hook: "bridge_activate" });
    await scheduler.idle();
    assert.equal(readFileSync(file, "utf8"), "finished\n");
    assert.equal(reports.length, 1);
    const result = reports[0]!.results[0]!;
    assert.equal(result.exitCode, 0);
    assert.equal(result.timedOut, false);
    assert.notEqual(result.aborted, true);
  });

  test("after a failed run the target's state is unknown: the latest transition runs again", async () => {
    const runner = fakeRunner((name) => (name === "bridge_activate" ? 1 : 0));
    const { reports, scheduler } = setUp({ run: runner.run });
    scheduler.emit({ hook: "bridge_activate" });
    await nextTurn();
    scheduler.emit({ hook: "bridge_deactivate" });
    scheduler.emit({ hook: "bridge_activate" });
    for (let i = 0; i < 2; i++) await runner.release();
    await scheduler.idle();
    assert.deepEqual(runner.started, ["bridge_activate", "bridge_activate"]);
    assert.deepEqual(reports.map((r) => r.ok), [false, false]);
    await scheduler.stop();
  });

  test("the queue is bounded: beyond maxQueuedRuns the oldest run is dropped and reported", async () => {
    const runner = fakeRunner();
    const { dropped, scheduler } = setUp({ run: runner.run, maxQueuedRuns: 2 });
    scheduler.emit({ hook: "bridge_activate" });
    await nextTurn();
    for (const tunnel of ["t0", "t1", "t2"]) scheduler.emit({ hook: "interface_activate", tunnel });
    for (let i = 0; i < 3; i++) await runner.release();
    await scheduler.idle();
    assert.deepEqual(runner.started, ["bridge_activate", "interface_activate t1", "interface_activate t2"]);
    assert.deepEqual(dropped, ["interface_activate t0 overflow"]);
    await scheduler.stop();
  });

  test("a throwing onDropped never breaks the queue", async () => {
    const runner = fakeRunner();
    const { scheduler } = setUp({ run: runner.run, onDropped: () => { throw new Error("handler bug"); } });
    scheduler.emit({ hook: "bridge_activate" });
    scheduler.emit({ hook: "bridge_deactivate" });
    scheduler.emit({ hook: "interface_activate", tunnel: "t0" });
    await runner.release();
    await scheduler.idle();
    assert.deepEqual(runner.started, ["interface_activate t0"]);
    await scheduler.stop();
  });
});

describe("reapply survives a flap that cancelled out", () => {
  const reapply = { initialDelayMs: 1000, maximumDelayMs: 5000, factor: 2 };
  const hooks: Partial<Record<HookName, HookConfig>> = {
    bridge_activate: { commands: [["bridge_activate"]], reapply },
    bridge_deactivate: { commands: [["bridge_deactivate"]] },
  };

  test("after the activate finished: reapply starts again from the initial delay", async () => {
    const runner = fakeRunner();
    const timers = fakeTimers();
    const { reports, scheduler } = setUp({ run: runner.run, timers }, hooks);
    scheduler.emit({ hook: "bridge_activate" });
    await runner.release();
    await scheduler.idle();
    timers.fireAll(); // 1000 ms: first reapply
    await runner.release();
    await scheduler.idle();
    assert.deepEqual([...timers.pending.values()].map((t) => t.delayMs), [2000]);
    scheduler.emit({ hook: "bridge_deactivate" });
    scheduler.emit({ hook: "bridge_activate" });
    assert.deepEqual([...timers.pending.values()].map((t) => t.delayMs), [1000], "re-armed for the new activation");
    await nextTurn();
    assert.deepEqual(runner.started, ["bridge_activate", "bridge_activate"], "no run for the cancelled flap");
    timers.fireAll();
    await runner.release();
    await scheduler.idle();
    assert.deepEqual(reports.map((r) => r.reapply), [false, true, true]);
    await scheduler.stop();
  });

  test("while the activate runs: its end arms reapply", async () => {
    const runner = fakeRunner();
    const timers = fakeTimers();
    const { reports, scheduler } = setUp({ run: runner.run, timers }, hooks);
    scheduler.emit({ hook: "bridge_activate" });
    await nextTurn();
    scheduler.emit({ hook: "bridge_deactivate" });
    scheduler.emit({ hook: "bridge_activate" });
    await runner.release();
    await scheduler.idle();
    assert.deepEqual([...timers.pending.values()].map((t) => t.delayMs), [1000]);
    timers.fireAll();
    await runner.release();
    await scheduler.idle();
    assert.deepEqual(reports.map((r) => r.reapply), [false, true]);
    // A flap that ends inactive stops it.
    scheduler.emit({ hook: "bridge_deactivate" });
    await runner.release();
    await scheduler.idle();
    assert.equal(timers.pending.size, 0);
    await scheduler.stop();
  });
});
