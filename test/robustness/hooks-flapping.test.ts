// Hooks under flapping input (issue 10 item 6, docs/hardening.md): while a 10 s
// bridge_activate runs, the active tunnel flaps 50 times (fail over to t1 and
// back), then fails over once more and stays there. With the old unbounded FIFO
// the 200-odd interface hooks (1 s each) queued behind it would run for minutes
// after the links settled; now the queue coalesces to the latest state: the
// final state's hooks run right after the slow one, a bounded number of runs,
// and every transition not run is counted in vpnham_hook_runs_dropped_total.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { startDaemon } from "../../src/daemon/daemon.ts";
import { bridgeConfig, metricSum, quietLogs, tempDir, tunnelsVia, waitFor } from "./support.ts";

const slowHookMs = 10_000;
const tunnelHookMs = 1000;
const flaps = 50;

describe("hooks under flapping input", () => {
  test(`${flaps} flaps during a ${slowHookMs / 1000} s hook: the final state is reached with a bounded number of runs`, { timeout: 40_000 }, async () => {
    const restoreLogs = quietLogs();
    const bridge = "robust-flapping";
    const dir = tempDir("hooks-flapping");
    const log = join(dir.path, "hooks.log");
    const lines = (): string[] => (existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : []);
    const logged = (line: string): boolean => lines().includes(line);
    const slow = (seconds: number) => [["sh", "-c", `echo "$VPNHAM_EVENT $VPNHAM_TUNNEL start" >> ${log}; sleep ${seconds}; echo "$VPNHAM_EVENT $VPNHAM_TUNNEL end" >> ${log}`]];
    const links = await tunnelsVia(61, 2);
    const daemon = await startDaemon(
      bridgeConfig(
        {
          name: bridge,
          role: "active",
          statusAddr: "127.88.61.1:8080",
          partnerUrl: "http://127.88.61.1:1/",
          probeInterval: "5ms",
          scriptsTimeout: "20s",
          tunnels: links.specs.map((t) => ({ ...t, thresholdDown: 2, thresholdUp: 2 })),
          hooks: {
            bridge_activate: slow(slowHookMs / 1000),
            bridge_deactivate: slow(0),
            interface_activate: slow(tunnelHookMs / 1000),
            interface_deactivate: slow(tunnelHookMs / 1000),
          },
        },
        "127.88.61.1:8000",
      ),
    );
    const runtime = daemon.bridges().get(bridge)!;
    const active = () => runtime.state.activeTunnel;
    try {
      await waitFor(() => logged("bridge_activate  start"), { timeoutMs: 5000, what: "the slow bridge_activate running" });
      const slowStarted = performance.now();
      await waitFor(() => runtime.state.tunnels.every((t) => t.up) && active() === "t0", { timeoutMs: 3000, intervalMs: 1, what: "both tunnels up, t0 active" });
      const transitionsBefore = await metricSum(daemon.metrics.roleTransitions, { bridge });

      // A flap: t0 fails, the bridge fails over to t1; t0 comes back, the bridge reclaims it.
      for (let i = 0; i < flaps; i++) {
        links.relays[0]!.cut();
        await waitFor(() => active() === "t1", { timeoutMs: 3000, intervalMs: 1, what: `failover ${i}` });
        links.relays[0]!.restore();
        await waitFor(() => active() === "t0", { timeoutMs: 3000, intervalMs: 1, what: `reclaim ${i}` });
      }
      // Then t0 fails for good: the final state is t1 active.
      links.relays[0]!.cut();
      await waitFor(() => active() === "t1", { timeoutMs: 3000, intervalMs: 1, what: "final failover" });
      const settled = performance.now();
      const flapMs = settled - slowStarted;
      assert.ok(!logged("bridge_activate  end"), `all flaps while the slow hook ran (they took ${Math.round(flapMs)} ms)`);

      // The hooks catch up with reality within the slow hook's rest plus two tunnel hooks.
      await waitFor(() => logged("interface_activate t1 end"), {
        timeoutMs: slowHookMs - flapMs + 2 * tunnelHookMs + 3000,
        intervalMs: 20,
        what: "the final state's hook ran",
      });
      await runtime.hooksIdle();
      const behindMs = performance.now() - settled;
      const transitions = (await metricSum(daemon.metrics.roleTransitions, { bridge })) - transitionsBefore;
      const runs = await metricSum(daemon.metrics.hookRuns, { bridge });
      const coalesced = await metricSum(daemon.metrics.hookRunsDropped, { bridge, reason: "coalesced" });
      process.stderr.write(
        `hooks under flapping: ${flaps} flaps in ${Math.round(flapMs)} ms, ${transitions} transitions, ${runs} hook runs, ` +
          `${coalesced} coalesced; hooks done ${Math.round(behindMs)} ms after the last change\n`,
      );

      // The final state was reached: the last interface hooks are t0 down (if its up ever ran), t1 up.
      const order = lines().filter((l) => l.endsWith(" end")).map((l) => l.slice(0, -" end".length));
      assert.equal(order[0], "bridge_activate ", "the slow hook finished, not killed");
      assert.equal(order.at(-1), "interface_activate t1");
      // At 5 ms × 2 a loaded host may also flap t1 once after the loop (its own real
      // transitions): any short run of tunnel hooks that ends in t1's activate is right.
      const interfaceRuns = order.filter((l) => l.startsWith("interface_"));
      assert.ok(interfaceRuns.length <= 3, interfaceRuns.join(", "));
      // Bounded: the slow hook plus at most three tunnel hooks, out of more than 200 transitions.
      assert.ok(transitions >= 4 * flaps, `${transitions} transitions`);
      assert.ok(runs <= 4, `${runs} hook runs`);
      assert.equal(lines().filter((l) => l.endsWith(" start")).length, runs, "every run started is accounted for");
      // Counted: every transition ran or was dropped as coalesced; nothing overflowed.
      assert.equal(runs + coalesced, await metricSum(daemon.metrics.roleTransitions, { bridge }));
      assert.equal(await metricSum(daemon.metrics.hookRunsDropped, { bridge, reason: "overflow" }), 0);
      assert.ok(behindMs < slowHookMs - flapMs + 2 * tunnelHookMs + 2000, `hooks ${Math.round(behindMs)} ms behind`);
    } finally {
      await daemon.stop();
      await links.close();
      dir.remove();
      restoreLogs();
    }
  });
});
