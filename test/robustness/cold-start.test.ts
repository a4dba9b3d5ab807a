/**
 * A pair started together must not flap (issue 10 item 7): the standby comes up while its
 * partner is not listening yet, and at 20 ms × 3 it used to judge the partner down within
 * 80 ms and activate for a moment (bfdd: 0 of 10 starts). Loopback only (127.88.30.x).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { startDaemon } from "../../src/daemon/daemon.ts";
import { bridgeConfig, hp, quietLogs, startEcho } from "./support.ts";

const bridge = "cold";
const side = (role: "active" | "standby", me: number, partner: number) =>
  bridgeConfig(
    {
      name: bridge,
      role,
      statusAddr: `127.88.30.${me}:8080`,
      partnerUrl: `http://127.88.30.${partner}:8080/`,
      probeInterval: "20ms",
      partnerTimeout: "15ms",
      partnerDown: 3,
      tunnels: [{ name: "t0", role: "active", addr: `127.88.30.${me}:3003`, probeAddr: `127.88.30.${me + 10}:3003` }],
    },
    `127.88.30.${me}:8000`,
  );

test("a standby started 300 ms before its active partner (20 ms × 3) never activates", async () => {
  const restoreLogs = quietLogs();
  const echoes = await Promise.all([startEcho(hp("127.88.30.11", 3003)), startEcho(hp("127.88.30.12", 3003))]);
  const standby = await startDaemon(side("standby", 2, 1));
  let active: Awaited<ReturnType<typeof startDaemon>> | undefined;
  let standbyActivated = false;
  const watch = setInterval(() => {
    if (standby.bridges().get(bridge)!.state.bridgeActive) standbyActivated = true;
  }, 2);
  try {
    await sleep(300);
    active = await startDaemon(side("active", 1, 2));
    await sleep(1500);
    assert.equal(active.bridges().get(bridge)!.state.bridgeActive, true, "the active host holds the bridge");
    assert.equal(standbyActivated, false, "the standby never activated");
  } finally {
    clearInterval(watch);
    await active?.stop();
    await standby.stop();
    await Promise.all(echoes.map((e) => e.close()));
    restoreLogs();
  }
});
