import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHookScheduler, type HookSchedulerOptions, type Timers } from "../../src/hooks/scheduler.ts";
import type { HookConfig, HookEvent, HookName, HookRunReport } from "../../src/hooks/types.ts";
import { waitFor } from "./support.ts";
import { configureLogger, onLogEntry } from "../../src/util/log.ts";
import type { LogObject } from "consola";

// Capture the log instead of printing it (restored at the end).
const logged: LogObject[] = [];
const unsubscribe = onLogEntry((entry) => void logged.push(entry));
configureLogger({ level: "info" });
after(() => unsubscribe());
const logLines = (): string[] => logged.filter((e) => e.tag === "hooks").map((e) => String(e.args[0]));

const dir = mkdtempSync(join(tmpdir(), "vpnham-hooks-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let fileCount = 0;
const newFile = (): string => join(dir, `out-${++fileCount}.txt`);
const lines = (file: string): string[] => (existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : []);

/** A command appending one line (shell expansion of $VPNHAM_* happens in sh, not in our placeholders). */
const append = (file: string, text: string): string[] => ["sh", "-c", `echo "${text}" >> '${file}'`];

type Harness = { reports: HookRunReport[]; options: HookSchedulerOptions };
function harness(hooks: Partial<Record<HookName, HookConfig>>, extra: Partial<HookSchedulerOptions> = {}): Harness {
  const reports: HookRunReport[] = [];
  const options: HookSchedulerOptions = {
    bridgeName: "br-test",
    hooks,
    timeoutMs: 5000,
    dryRun: false,
    valuesFor: (event: HookEvent) => ({ bridge_interface: "eth0", tunnel_interface: event.tunnel ?? "" }),
    onResult: (report) => reports.push(report),
    ...extra,
  };
  return { reports, options };
}

/** Timers that fire only when the test says so; records every requested delay. */
function fakeTimers(): Timers & { pending: Map<number, { fn: () => void; delayMs: number }>; delays: number[]; fireAll(): void } {
  let nextId = 0;
  const pending = new Map<number, { fn: () => void; delayMs: number }>();
  const delays: number[] = [];
  return {
    pending,
    delays,
    setTimeout(fn, delayMs) {
      pending.set(++nextId, { fn, delayMs });
      delays.push(delayMs);
      return nextId;
    },
    clearTimeout(handle) {
      pending.delete(handle as number);
    },
    fireAll() {
      const due = [...pending.entries()];
      pending.clear();
      for (const [, timer] of due) timer.fn();
    },
  };
}

describe("hook scheduler", () => {
  test("runs hooks one at a time in emit order, commands in order, deactivate before activate", async () => {
    const file = newFile();
    const { reports, options } = harness({
      interface_deactivate: { commands: [append(file, "$VPNHAM_EVENT $VPNHAM_TUNNEL 1"), append(file, "$VPNHAM_EVENT $VPNHAM_TUNNEL 2")] },
      interface_activate: { commands: [["sh", "-c", "sleep 0.2"], append(file, "$VPNHAM_EVENT ${tunnel_interface}")] },
      bridge_activate: { commands: [append(file, "$VPNHAM_EVENT ${bridge_interface}")] },
    });
    const scheduler = createHookScheduler(options);
    scheduler.emit({ hook: "interface_activate", tunnel: "wg0" });
    // Started, so the deactivate cannot cancel it out (test/hooks/scheduler-coalesce.test.ts).
    await new Promise((resolve) => setTimeout(resolve, 0));
    scheduler.emit({ hook: "interface_deactivate", tunnel: "wg0" });
    scheduler.emit({ hook: "interface_activate", tunnel: "wg1" });
    scheduler.emit({ hook: "bridge_activate" });
    await scheduler.idle();
    assert.deepEqual(lines(file), [
      "interface_activate wg0",
      "interface_deactivate wg0 1",
      "interface_deactivate wg0 2",
      "interface_activate wg1",
      "bridge_activate eth0",
    ]);
    assert.deepEqual(reports.map((r) => r.event.hook), ["interface_activate", "interface_deactivate", "interface_activate", "bridge_activate"]);
    assert.ok(reports.every((r) => r.ok && !r.reapply && !r.dryRun));
    const sequences = reports.map((r) => r.sequence);
    assert.deepEqual([...sequences].sort((a, b) => a - b), sequences);
    assert.equal(new Set(sequences).size, sequences.length);
    await scheduler.stop();
  });

  test("emit never waits for a running hook", async () => {
    const file = newFile();
    const { reports, options } = harness({
      bridge_activate: { commands: [["sleep", "2"]] },
      bridge_deactivate: { commands: [append(file, "deactivated")] },
    });
    const scheduler = createHookScheduler(options);
    const startedMs = performance.now();
    scheduler.emit({ hook: "bridge_activate" });
    await waitFor(() => performance.now() - startedMs > 100, 1000); // the sleep is running now
    const emitStartedMs = performance.now();
    scheduler.emit({ hook: "bridge_deactivate" });
    assert.ok(performance.now() - emitStartedMs < 50, "emit returned at once");
    assert.deepEqual(lines(file), []);
    await scheduler.idle();
    assert.ok(performance.now() - startedMs >= 1900);
    assert.deepEqual(lines(file), ["deactivated"]);
    assert.equal(reports.length, 2);
    await scheduler.stop();
  });

  test("a failing command does not stop the rest; the report says not ok", async () => {
    const file = newFile();
    const { reports, options } = harness({
      bridge_activate: {
        commands: [["/nonexistent/vpnham-hook"], ["sh", "-c", "exit 3"], ["sh", "-c", "sleep 10"], append(file, "still ran")],
      },
    }, { timeoutMs: 200 });
    const scheduler = createHookScheduler(options);
    scheduler.emit({ hook: "bridge_activate" });
    await scheduler.idle();
    assert.deepEqual(lines(file), ["still ran"]);
    const [report] = reports;
    assert.ok(report);
    assert.equal(report.ok, false);
    assert.deepEqual(report.results.map((r) => [r.error ?? null, r.exitCode, r.timedOut]), [
      ["ENOENT", null, false],
      [null, 3, false],
      [null, null, true],
      [null, 0, false],
    ]);
    await scheduler.stop();
  });

  test("commands get the event in their environment", async () => {
    const file = newFile();
    const dump = ["sh", "-c", `env | grep '^VPNHAM_' | sort >> '${file}'; echo --- >> '${file}'`];
    const { reports, options } = harness({ interface_activate: { commands: [dump] }, bridge_deactivate: { commands: [dump] } });
    const scheduler = createHookScheduler(options);
    scheduler.emit({ hook: "interface_activate", tunnel: "wg0", reason: "tunnel up" });
    // The bridge was active (no commands), so its deactivate has something to undo.
    scheduler.emit({ hook: "bridge_activate" });
    await scheduler.idle();
    scheduler.emit({ hook: "bridge_deactivate" });
    await scheduler.idle();
    const runs = readFileSync(file, "utf8").split("---\n").filter(Boolean).map((block) =>
      Object.fromEntries(block.split("\n").filter(Boolean).map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)])),
    );
    assert.equal(runs.length, 2);
    const [activate, deactivate] = runs;
    assert.equal(activate?.VPNHAM_EVENT, "interface_activate");
    assert.equal(activate?.VPNHAM_BRIDGE, "br-test");
    assert.equal(activate?.VPNHAM_TUNNEL, "wg0");
    assert.equal(activate?.VPNHAM_REASON, "tunnel up");
    assert.equal(activate?.VPNHAM_REAPPLY, "0");
    assert.equal(activate?.VPNHAM_SEQUENCE, String(reports[0]?.sequence));
    assert.match(activate?.VPNHAM_TIMESTAMP ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    assert.equal(deactivate?.VPNHAM_EVENT, "bridge_deactivate");
    assert.equal(deactivate?.VPNHAM_TUNNEL, undefined);
    assert.equal(deactivate?.VPNHAM_REASON, "");
    assert.ok(Number(deactivate?.VPNHAM_SEQUENCE) > Number(activate?.VPNHAM_SEQUENCE));
  });

  test("logs one line per command with argv, outcome, duration and output", async () => {
    const { options } = harness({ bridge_activate: { commands: [["sh", "-c", "echo hello; exit 4"], ["true"]] } }, { bridgeName: "br-log" });
    const scheduler = createHookScheduler(options);
    scheduler.emit({ hook: "bridge_activate" });
    await scheduler.idle();
    const mine = logged.filter((e) => String(e.args[0]).startsWith("bridge br-log:"));
    assert.equal(mine.length, 2);
    assert.match(String(mine[0]?.args[0]), /^bridge br-log: bridge_activate: \["sh","-c","echo hello; exit 4"\] exit 4 in \d+ ms$/);
    assert.equal(mine[0]?.type, "warn");
    assert.deepEqual(mine[0]?.args[1], { argv: ["sh", "-c", "echo hello; exit 4"], exitCode: 4, signal: null, timedOut: false,
      durationMs: (mine[0]?.args[1] as { durationMs: number }).durationMs, stdout: "hello\n", stderr: "" });
    assert.equal(mine[1]?.type, "info");
  });

  test("dry run runs nothing and reports the run", async () => {
    const file = newFile();
    const { reports, options } = harness({ bridge_activate: { commands: [append(file, "ran ${bridge_interface}")] } }, { dryRun: true });
    const scheduler = createHookScheduler(options);
    scheduler.emit({ hook: "bridge_activate" });
    await scheduler.idle();
    assert.equal(existsSync(file), false);
    assert.equal(reports.length, 1);
    assert.equal(reports[0]?.dryRun, true);
    assert.deepEqual(reports[0]?.results, []);
    assert.equal(reports[0]?.ok, true);
    assert.ok(logLines().some((line) => line.includes(`dry run, would run ["sh","-c","echo \\"ran eth0\\" >> '${file}'"]`)), logLines().join("\n"));
  });

  test("a hook without commands, a throwing onResult or valuesFor never break the queue", async () => {
    const file = newFile();
    let calls = 0;
    const { options } = harness({
      bridge_activate: { commands: [append(file, "${bridge_interface}")] },
      bridge_deactivate: { commands: [] },
    }, {
      onResult: () => {
        calls += 1;
        throw new Error("handler bug");
      },
      valuesFor: () => {
        if (calls === 0) throw new Error("no values");
        return { bridge_interface: "eth0" };
      },
    });
    const scheduler = createHookScheduler(options);
    scheduler.emit({ hook: "bridge_deactivate" });
    scheduler.emit({ hook: "bridge_activate" });
    // Run apart: a repeated activate queued behind the first would be coalesced into it.
    await scheduler.idle();
    scheduler.emit({ hook: "bridge_activate" });
    await scheduler.idle();
    assert.equal(calls, 2);
    assert.deepEqual(lines(file), ["eth0"]);
  });

  test("stop lets the running hook finish, drops the queue, ignores later emits", async () => {
    const file = newFile();
    const timers = fakeTimers();
    const { reports, options } = harness({
      bridge_activate: {
        commands: [["sh", "-c", `echo started >> '${file}'; sleep 0.3; echo activate >> '${file}'`], append(file, "second command")],
        reapply: { initialDelayMs: 1000, maximumDelayMs: 1000, factor: 2 },
      },
      bridge_deactivate: { commands: [append(file, "deactivate")] },
    }, { timers });
    const scheduler = createHookScheduler(options);
    scheduler.emit({ hook: "bridge_activate" });
    await waitFor(() => lines(file).length > 0, 5000, "the activate to start");
    scheduler.emit({ hook: "bridge_deactivate" });
    await scheduler.stop();
    scheduler.emit({ hook: "bridge_deactivate" });
    await scheduler.idle();
    assert.deepEqual(lines(file), ["started", "activate", "second command"]);
    assert.equal(reports.length, 1);
    assert.equal(timers.pending.size, 0);
  });
});

describe("reapply", () => {
  const reapply = { initialDelayMs: 1000, maximumDelayMs: 5000, factor: 2 };

  test("bridge_activate re-runs with growing delays until bridge_deactivate", async () => {
    const timers = fakeTimers();
    const file = newFile();
    const { reports, options } = harness({
      bridge_activate: { commands: [append(file, "$VPNHAM_EVENT $VPNHAM_REAPPLY")], reapply },
      bridge_deactivate: { commands: [append(file, "$VPNHAM_EVENT $VPNHAM_REAPPLY")] },
    }, { timers });
    const scheduler = createHookScheduler(options);
    scheduler.emit({ hook: "bridge_activate" });
    await scheduler.idle();
    for (let i = 0; i < 5; i++) {
      assert.equal(timers.pending.size, 1);
      timers.fireAll();
      await scheduler.idle();
    }
    assert.deepEqual(timers.delays, [1000, 2000, 4000, 5000, 5000, 5000]);
    scheduler.emit({ hook: "bridge_deactivate" });
    assert.equal(timers.pending.size, 0, "deactivate cancels the pending reapply");
    await scheduler.idle();
    assert.equal(timers.pending.size, 0);
    assert.deepEqual(reports.map((r) => r.reapply), [false, true, true, true, true, true, false]);
    assert.deepEqual(lines(file), [
      "bridge_activate 0",
      ...Array(5).fill("bridge_activate 1"),
      "bridge_deactivate 0",
    ]);
    // A new activation starts again from the initial delay.
    scheduler.emit({ hook: "bridge_activate" });
    await scheduler.idle();
    assert.equal([...timers.pending.values()][0]?.delayMs, 1000);
    await scheduler.stop();
    assert.equal(timers.pending.size, 0, "stop cancels reapply");
  });

  test("a reapply already queued when deactivate comes is dropped", async () => {
    const timers = fakeTimers();
    const { reports, options } = harness({
      bridge_activate: { commands: [["true"]], reapply },
      bridge_deactivate: { commands: [["true"]] },
    }, { timers });
    const scheduler = createHookScheduler(options);
    scheduler.emit({ hook: "bridge_activate" });
    await scheduler.idle();
    timers.fireAll(); // enqueues the reapply…
    scheduler.emit({ hook: "bridge_deactivate" }); // …which is stale before it starts
    await scheduler.idle();
    assert.deepEqual(reports.map((r) => [r.event.hook, r.reapply]), [["bridge_activate", false], ["bridge_deactivate", false]]);
    assert.equal(timers.pending.size, 0);
  });

  test("interface_activate re-runs per tunnel until that tunnel is deactivated or replaced", async () => {
    const timers = fakeTimers();
    const { reports, options } = harness({
      interface_activate: { commands: [["true"]], reapply },
      interface_deactivate: { commands: [["true"]] },
      bridge_deactivate: { commands: [["true"]] },
    }, { timers });
    const scheduler = createHookScheduler(options);
    scheduler.emit({ hook: "interface_activate", tunnel: "wg0" });
    await scheduler.idle();
    assert.equal(timers.pending.size, 1);
    // Tunnels are independent of the bridge being active.
    scheduler.emit({ hook: "bridge_deactivate" });
    await scheduler.idle();
    assert.equal(timers.pending.size, 1);
    timers.fireAll();
    await scheduler.idle();
    assert.deepEqual(reports.at(-1)?.event, { hook: "interface_activate", tunnel: "wg0" });
    assert.equal(reports.at(-1)?.reapply, true);
    scheduler.emit({ hook: "interface_deactivate", tunnel: "wg0" });
    assert.equal(timers.pending.size, 0);
    scheduler.emit({ hook: "interface_activate", tunnel: "wg1" });
    await scheduler.idle();
    assert.equal(timers.pending.size, 1);
    // Another tunnel becoming active ends wg1's reapply even if its deactivate never came.
    scheduler.emit({ hook: "interface_activate", tunnel: "wg2" });
    await scheduler.idle();
    assert.equal(timers.pending.size, 1);
    timers.fireAll();
    await scheduler.idle();
    assert.deepEqual(reports.at(-1)?.event, { hook: "interface_activate", tunnel: "wg2" });
    assert.equal(reports.at(-1)?.reapply, true);
    await scheduler.stop();
  });

  test("with real timers, reapply runs again and again", async () => {
    const { reports, options } = harness({
      bridge_activate: { commands: [["true"]], reapply: { initialDelayMs: 20, maximumDelayMs: 40, factor: 2 } },
    });
    const scheduler = createHookScheduler(options);
    scheduler.emit({ hook: "bridge_activate" });
    await waitFor(() => reports.length >= 4, 5000, "three reapply runs");
    await scheduler.stop();
    const count = reports.length;
    assert.deepEqual(reports.slice(0, 4).map((r) => r.reapply), [false, true, true, true]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(reports.length, count, "no run after stop");
  });
});
