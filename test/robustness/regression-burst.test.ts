// regression (Go): the Go vpnham's event queue deadlocks under bursts of
// events. Here a bridge gets 1000 link flaps in a few seconds while a client
// polls /status without pause: every answer comes, quickly; every transition
// reaches the hook queue (it runs, or is coalesced and counted); the bridge
// converges when the links settle.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { startDaemon } from "../../src/daemon/daemon.ts";
import { bridgeConfig, metricSum, quietLogs, tunnelsVia, waitFor } from "./support.ts";

describe("regression (Go): event-queue deadlock under bursts", () => {
  test("1000 link flaps in a few seconds: /status keeps answering, no event is lost, the bridge converges", { timeout: 120_000 }, async () => {
    const restoreLogs = quietLogs();
    const bridge = "robust-burst";
    const links = await tunnelsVia(7, 4);
    const daemon = await startDaemon(
      bridgeConfig(
        {
          name: bridge,
          role: "active",
          statusAddr: "127.88.7.1:8080",
          partnerUrl: "http://127.88.7.1:1/",
          probeInterval: "5ms",
          tunnels: links.specs.map((t) => ({ ...t, thresholdDown: 2, thresholdUp: 2 })),
          hooks: { bridge_activate: [["true"]], bridge_deactivate: [["true"]], interface_activate: [["true"]], interface_deactivate: [["true"]] },
        },
        "127.88.7.1:8000",
      ),
      // The hooks go through the queue but spawn nothing: process spawns would make this a
      // benchmark of fork() (on Deno ~10 ms each), not of the event path.
      { dryRun: true },
    );
    const runtime = daemon.bridges().get(bridge)!;
    const up = (i: number) => runtime.state.tunnels[i]!.up;
    // A client polling /status all along: every answer must come, and quickly.
    let polling = true;
    let answered = 0;
    let worstMs = 0;
    const failures: string[] = [];
    const poller = (async () => {
      while (polling) {
        const t0 = performance.now();
        try {
          const res = await fetch("http://127.88.7.1:8080/status", { signal: AbortSignal.timeout(2000) });
          if (res.status !== 200) failures.push(`HTTP ${res.status}`);
          await res.json();
          answered++;
        } catch (error) {
          failures.push(String(error));
        }
        worstMs = Math.max(worstMs, performance.now() - t0);
      }
    })();
    try {
      await waitFor(() => [0, 1, 2, 3].every(up), { timeoutMs: 5000, what: "all tunnels up" });
      const transitionsBefore = await metricSum(daemon.metrics.roleTransitions, { bridge });
      // Each round flips every link (a pattern, then its complement), then waits for the verdicts.
      let flaps = 0;
      let pattern = [true, false, true, false];
      const started = performance.now();
      for (let round = 0; flaps < 1000; round++) {
        pattern = round % 2 ? pattern.map((x) => !x) : [0, 1, 2, 3].map((i) => ((round * 7 + i * 3) % 5) < 2);
        pattern.forEach((cut, i) => {
          const relay = links.relays[i]!;
          if (relay.isCut !== cut) {
            if (cut) relay.cut();
            else relay.restore();
            flaps++;
          }
        });
        await waitFor(() => pattern.every((cut, i) => up(i) === !cut), { timeoutMs: 3000, intervalMs: 1, what: `round ${round} verdicts` });
      }
      const flapMs = performance.now() - started;
      for (const relay of links.relays) relay.restore();
      await waitFor(() => [0, 1, 2, 3].every(up) && runtime.state.activeTunnel === "t0" && runtime.state.bridgeActive, {
        timeoutMs: 5000,
        what: "converged: all up, t0 active, bridge active",
      });
      const transitions = (await metricSum(daemon.metrics.roleTransitions, { bridge })) - transitionsBefore;
      // Every transition's hook runs or is counted as coalesced (docs/hardening.md), none lost
      // or stuck: the queue drains.
      const accounted = async () =>
        (await metricSum(daemon.metrics.hookRuns, { bridge })) + (await metricSum(daemon.metrics.hookRunsDropped, { bridge }));
      await waitFor(async () => (await accounted()) === (await metricSum(daemon.metrics.roleTransitions, { bridge })), {
        timeoutMs: 60_000,
        intervalMs: 50,
        what: "one hook run or drop per transition",
      });
      const status = (await (await fetch("http://127.88.7.1:8080/status", { signal: AbortSignal.timeout(2000) })).json()) as {
        active: boolean;
        interfaces: Record<string, { active: boolean; up: boolean }>;
      };
      process.stderr.write(`burst: ${flaps} flaps in ${Math.round(flapMs)} ms, ${transitions} transitions, ${answered} /status answers, slowest ${Math.round(worstMs)} ms\n`);
      assert.equal(status.active, runtime.state.bridgeActive, "/status tells the state");
      assert.equal(status.interfaces.t0?.active, runtime.state.activeTunnel === "t0");
      assert.equal(await metricSum(daemon.metrics.hookRuns, { bridge, outcome: "dry_run" }), await metricSum(daemon.metrics.hookRuns, { bridge }));
      assert.ok(transitions >= 300, `${transitions} role transitions from ${flaps} flaps in ${Math.round(flapMs)} ms`);
      assert.deepEqual(failures, []);
      assert.ok(answered >= 20, `${answered} status answers`);
      assert.ok(worstMs < 1000, `slowest /status answer ${Math.round(worstMs)} ms`);
    } finally {
      polling = false;
      await poller;
      await daemon.stop();
      await links.close();
      restoreLogs();
    }
  });
});
