import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startDaemon } from "../../src/daemon/daemon.ts";
import { bridgeConfig, bridgeYaml, hp, quietLogs, spawnDaemon, startEcho, tempDir, waitFor } from "./support.ts";

/**
 * The far end of bridge n's tunnel: a stateless loopback responder in this process. (A tunnel
 * probing its own socket never comes up: its own requests are refused, docs/hardening.md
 * "Reflected probes".)
 */
const echoAddr = (n: number) => hp(`127.88.20.${100 + n}`, 13003);
const echoes: Awaited<ReturnType<typeof startEcho>>[] = [];
before(async () => {
  for (const n of [1, 2, 3]) echoes.push(await startEcho(echoAddr(n)));
});
after(async () => Promise.all(echoes.map((e) => e.close())));

/** A bridge whose only tunnel probes its echo: up within a few intervals, no peer needed. */
const echoProbing = (n: number, hooks: Record<string, string[][]> = {}, scriptsTimeout = "5s") => ({
  role: "active" as const,
  statusAddr: `127.88.20.${n}:18080`,
  partnerUrl: "http://127.88.20.250:18080/",
  probeInterval: "50ms",
  partnerTimeout: "20ms",
  scriptsTimeout,
  tunnels: [{ name: "t1", role: "active" as const, addr: `127.88.20.${n}:13003`, probeAddr: echoAddr(n).text }],
  hooks,
});

/** Pids whose command line contains `marker` (our own hook processes). */
function processesWith(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(marker)) pids.push(Number(entry));
    } catch {
      /* gone meanwhile */
    }
  }
  return pids;
}

describe("shutdown while a hook runs", () => {
  const dir = tempDir("vpnham-shutdown-");
  after(() => dir.remove());

  test("SIGTERM lets the running hook finish, then exits", async () => {
    const log = join(dir.path, "hook.log");
    const config = join(dir.path, "finish.yaml");
    writeFileSync(config, bridgeYaml(echoProbing(1, { bridge_activate: [["sh", "-c", `echo start >> ${log}; sleep 1; echo end >> ${log}`]] }), "127.88.20.1:18000"));
    const d = spawnDaemon(config);
    try {
      await waitFor(() => existsSync(log) && readFileSync(log, "utf8").includes("start"), { timeoutMs: 10_000, what: "the hook to start" });
      d.signal("SIGTERM");
      await waitFor(() => d.exited, { timeoutMs: 10_000, what: "the daemon to exit" });
      assert.equal(readFileSync(log, "utf8"), "start\nend\n", "the hook ran to its end");
      assert.ok(d.lines.some((l) => l.includes('"msg":"stopped"')));
    } finally {
      await d.stop();
    }
  });

  test("SIGTERM during a hung hook: exit bounded by scripts_timeout, the whole group killed, nothing orphaned", async () => {
    const marker = `31.${process.pid % 1000}7`; // a sleep duration nobody else uses
    const config = join(dir.path, "hang.yaml");
    writeFileSync(config, bridgeYaml(echoProbing(2, { bridge_activate: [["sh", "-c", `sleep ${marker} & sleep ${marker}`]] }, "1s"), "127.88.20.2:18000"));
    const d = spawnDaemon(config);
    try {
      await waitFor(() => processesWith(`sleep\0${marker}`).length === 2, { timeoutMs: 10_000, what: "the hook and its grandchild to run" });
      const t0 = performance.now();
      d.signal("SIGTERM");
      await waitFor(() => d.exited, { timeoutMs: 10_000, what: "the daemon to exit" });
      assert.ok(performance.now() - t0 < 5000, "bounded by scripts_timeout plus the kill grace");
      await waitFor(() => processesWith(`sleep\0${marker}`).length === 0, { timeoutMs: 5000, what: "no hook process left" });
    } finally {
      await d.stop();
    }
  });
});

describe("wall-clock jumps", () => {
  test("forwards and backwards by an hour: no verdict or role changes, probing goes on", async () => {
    const restoreLogs = quietLogs();
    const realNow = Date.now;
    const daemon = await startDaemon(bridgeConfig(echoProbing(3), "127.88.20.3:18000"));
    try {
      const bridge = daemon.bridges().values().next().value!;
      await waitFor(() => bridge.state.bridgeActive, { timeoutMs: 5000, what: "the bridge up" });
      const transitions = async () => (await daemon.metrics.roleTransitions.get()).values.reduce((n, v) => n + v.value, 0);
      const returned = async () => (await daemon.metrics.probesReturned.get()).values.reduce((n, v) => n + v.value, 0);
      const before = await transitions();
      for (const offsetMs of [3_600_000, -3_600_000]) {
        Date.now = () => realNow() + offsetMs;
        const start = await returned();
        await waitFor(async () => (await returned()) >= start + 10, { timeoutMs: 5000, what: `10 probes returned with the clock off by ${offsetMs} ms` });
      }
      Date.now = realNow;
      assert.equal(await transitions(), before, "no role change");
      assert.equal(bridge.tunnelHealth("t1")!.verdict, "up");
    } finally {
      Date.now = realNow;
      await daemon.stop();
      restoreLogs();
    }
  });
});
