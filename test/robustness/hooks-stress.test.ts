// Hooks under stress through a running bridge (not the runner alone): a hook
// that hangs and ignores SIGTERM while its grandchildren hang too, one that
// floods stdout and stderr, commands that are missing or not executable. Each
// is killed at scripts_timeout (the whole group), bounded, counted by outcome;
// the next command and the next hook still run; and the roles keep changing
// while a hook hangs: the state machine never waits for a hook, and the runs
// queued behind the hung one coalesce to the latest state (docs/hardening.md).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startDaemon, type Daemon } from "../../src/daemon/daemon.ts";
import type { HookRunReport } from "../../src/hooks/types.ts";
import { bridgeConfig, hp, metricSum, startEcho, startRelay, tempDir, waitFor } from "./support.ts";

const bridge = "robust-hooks";
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("hooks under stress in a running bridge", () => {
  const dir = tempDir("hooks");
  const log = join(dir.path, "hooks.log");
  const noexec = join(dir.path, "not-executable.sh");
  let daemon: Daemon;
  const echoes: Awaited<ReturnType<typeof startEcho>>[] = [];
  const relays: Awaited<ReturnType<typeof startRelay>>[] = [];
  const reports: HookRunReport[] = [];
  const lines = (): string[] => (existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : []);
  const state = () => daemon.bridges().get(bridge)!.state;

  before(async () => {
    writeFileSync(noexec, "#!/bin/sh\necho should-not-run\n");
    chmodSync(noexec, 0o644);
    const tunnels = [
      { name: "t0", role: "active" as const, n: 10 },
      { name: "t1", role: "standby" as const, n: 20 },
    ];
    for (const t of tunnels) {
      echoes.push(await startEcho(hp(`127.88.5.${t.n + 3}`, 3003)));
      relays.push(
        await startRelay({
          near: hp(`127.88.5.${t.n + 1}`, 3003),
          far: hp(`127.88.5.${t.n + 2}`, 3003),
          daemon: hp(`127.88.5.${t.n}`, 3003),
          peer: hp(`127.88.5.${t.n + 3}`, 3003),
        }),
      );
    }
    const d = dir.path;
    relays[1]!.cut(); // t1 comes up only once t0 holds the role, so the hook order is known
    daemon = await startDaemon(
      bridgeConfig(
        {
          name: bridge,
          role: "active",
          statusAddr: "127.88.5.1:8080",
          partnerUrl: "http://127.88.5.1:1/",
          // 50 ms × threshold_down 3: hook output floods stall the loop ~20–30 ms, which
          // must not pass for a lost probe here (the stall test covers that separately).
          probeInterval: "50ms",
          scriptsTimeout: "2s",
          tunnels: tunnels.map((t) => ({
            name: t.name,
            role: t.role,
            addr: `127.88.5.${t.n}:3003`,
            probeAddr: `127.88.5.${t.n + 1}:3003`,
            thresholdDown: 3,
            thresholdUp: 2,
          })),
          hooks: {
            // Ignores SIGTERM, leaves a grandchild and a child hanging: only SIGKILL to the group ends it.
            bridge_activate: [
              ["sh", "-c", `trap '' TERM; echo $$ > ${d}/leader.pid; (sleep 60 & echo $! > ${d}/grandchild.pid; wait) & sleep 60 & echo $! > ${d}/child.pid; wait`],
              ["sh", "-c", `echo "bridge_activate second command" >> ${log}`],
            ],
            bridge_deactivate: [["sh", "-c", `echo bridge_deactivate >> ${log}`]],
            // Floods both pipes (8 MB each), then records that it got to the end.
            interface_activate: [
              ["sh", "-c", `head -c 8000000 /dev/zero | tr '\\0' o; head -c 8000000 /dev/zero | tr '\\0' e 1>&2; echo "interface_activate $VPNHAM_TUNNEL" >> ${log}`],
            ],
            interface_deactivate: [
              ["/nonexistent/vpnham-robust-missing", "arg"],
              [noexec],
              ["sh", "-c", `echo "interface_deactivate $VPNHAM_TUNNEL" >> ${log}`],
            ],
          },
        },
        "127.88.5.1:8000",
      ),
      { onHookReport: (_bridge, report) => void reports.push(report) },
    );
  });

  after(async () => {
    await daemon?.stop();
    await Promise.all([...relays, ...echoes].map((x) => x.close()));
    dir.remove();
  });

  test("roles keep changing while bridge_activate hangs; then the latest state's hooks run, in order, bounded and counted", { timeout: 60_000 }, async () => {
    // The bridge becomes active and bridge_activate starts hanging.
    await waitFor(() => existsSync(join(dir.path, "child.pid")) && existsSync(join(dir.path, "grandchild.pid")), {
      timeoutMs: 5000,
      what: "bridge_activate running",
    });
    const hangStarted = performance.now();
    assert.equal(state().bridgeActive, true);
    assert.equal(state().activeTunnel, "t0");
    relays[1]!.restore();
    await waitFor(() => state().tunnels.every((t) => t.up), { timeoutMs: 2000, intervalMs: 2, what: "t1 up" });

    // While it hangs: fail over to t1 and back to t0, three times. Each verdict takes 2–3 probes
    // at 50 ms; if transitions waited for the hook they could not complete inside its 2 s timeout.
    for (let i = 0; i < 3; i++) {
      relays[0]!.cut();
      await waitFor(() => state().activeTunnel === "t1", { timeoutMs: 2000, intervalMs: 2, what: `failover ${i}` });
      relays[0]!.restore();
      await waitFor(() => state().activeTunnel === "t0", { timeoutMs: 2000, intervalMs: 2, what: `reclaim ${i}` });
    }
    const flapsMs = performance.now() - hangStarted;
    assert.equal(reports.filter((r) => r.event.hook === "bridge_activate").length, 0, "bridge_activate still hanging");
    assert.ok(flapsMs < 2000, `three failovers took ${Math.round(flapsMs)} ms, inside the hook's 2 s timeout`);

    // Then the hooks drain: 2 s timeout + 1 s SIGTERM grace, then the queue, which the flaps
    // have coalesced to the one run still needed (t0 active, as at the start).
    await waitFor(() => reports.some((r) => r.event.hook.startsWith("interface_")), {
      timeoutMs: 20_000,
      what: "the queued hooks ran",
    });
    await daemon.bridges().get(bridge)!.hooksIdle();
    // One more failover, with nothing hanging: its deactivate and activate run.
    relays[0]!.cut();
    await waitFor(() => state().activeTunnel === "t1", { timeoutMs: 2000, intervalMs: 2, what: "last failover" });
    await daemon.bridges().get(bridge)!.hooksIdle();

    const bridgeActivate = reports.find((r) => r.event.hook === "bridge_activate")!;
    const hung = bridgeActivate.results[0]!;
    assert.equal(hung.timedOut, true);
    assert.equal(hung.signal, "SIGKILL", "SIGTERM was ignored, so the group got SIGKILL");
    assert.ok(hung.durationMs >= 2000 && hung.durationMs < 5000, `hung command ran ${Math.round(hung.durationMs)} ms`);
    for (const name of ["leader", "child", "grandchild"]) {
      const pid = Number(readFileSync(join(dir.path, `${name}.pid`), "utf8"));
      await waitFor(() => !alive(pid), { timeoutMs: 2000, what: `${name} ${pid} gone` });
    }
    assert.equal(bridgeActivate.results[1]!.exitCode, 0, "the command after the hung one still ran");

    // Output floods were bounded: kept ≤ 64 KiB per stream, marked truncated, and the command finished.
    const floods = reports.filter((r) => r.event.hook === "interface_activate");
    for (const r of floods) {
      const res = r.results[0]!;
      assert.equal(res.exitCode, 0);
      assert.equal(res.truncated, true);
      assert.ok(res.stdout.length <= 64 * 1024 && res.stderr.length <= 64 * 1024, `${res.stdout.length}/${res.stderr.length}`);
    }

    // Missing and non-executable commands: a clear error each, and the next command ran.
    const deactivations = reports.filter((r) => r.event.hook === "interface_deactivate");
    assert.equal(deactivations.length, 1);
    for (const r of deactivations) {
      assert.equal(r.results[0]!.error, "ENOENT");
      assert.equal(r.results[1]!.error, "EACCES");
      assert.equal(r.results[2]!.exitCode, 0);
      assert.equal(r.ok, false);
    }

    // Hook runs are in transition order: the 12 transitions of the three flaps queued behind the
    // hung hook cancelled out (t0 was active before and after), and a deactivate of the old
    // tunnel comes before the activate of the new one.
    const order = lines().filter((l) => l.startsWith("interface_"));
    assert.deepEqual(order, ["interface_activate t0", "interface_deactivate t0", "interface_activate t1"]);

    // Counted by outcome; every transition either ran or was counted as dropped.
    const runs = (hook: string, outcome: string) => metricSum(daemon.metrics.hookRuns, { bridge, hook, outcome });
    assert.equal(await runs("bridge_activate", "timeout"), 1);
    assert.equal(await runs("interface_activate", "ok"), 2);
    assert.equal(await runs("interface_deactivate", "failed"), 1);
    assert.equal(await metricSum(daemon.metrics.hookRunsDropped, { bridge, reason: "coalesced" }), 12);
    assert.equal(await metricSum(daemon.metrics.hookRunsDropped, { bridge, reason: "overflow" }), 0);
    assert.equal(
      (await metricSum(daemon.metrics.hookRuns, { bridge })) + (await metricSum(daemon.metrics.hookRunsDropped, { bridge })),
      await metricSum(daemon.metrics.roleTransitions, { bridge }),
    );
    assert.equal(await metricSum(daemon.metrics.errors, { bridge, scope: "job_interface_deactivate" }), 1);
  });
});
