/**
 * Go's latency histograms, pinned for a probe between two named locations: forward
 * carries src = ours, dst = the peer's; return the reverse (found side by side with
 * the Go vpnham). Loopback only (127.88.31.x).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { startDaemon } from "../../src/daemon/daemon.ts";
import { bridgeConfig, hp, metricSum, quietLogs, startEcho, waitFor } from "../robustness/support.ts";

test("latency_forward is ours → peer, latency_return peer → ours; round trip in seconds", async () => {
  const restoreLogs = quietLogs();
  const echo = await startEcho(hp("127.88.31.2", 3003), "right");
  const config = bridgeConfig(
    {
      name: "labels",
      role: "active",
      statusAddr: "127.88.31.1:8080",
      partnerUrl: "http://127.88.31.3:8080/",
      probeInterval: "20ms",
      tunnels: [{ name: "t0", role: "active", addr: "127.88.31.1:3003", probeAddr: "127.88.31.2:3003" }],
    },
    "127.88.31.1:8000",
  );
  const daemon = await startDaemon(config);
  try {
    await waitFor(async () => (await metricSum(daemon.metrics.probesReturned, { bridge: "labels" })) >= 3, { timeoutMs: 3000, what: "replies" });
    const ours = config.bridges[0]!.probeLocation;
    const series = async (metric: { get(): Promise<{ values: { labels: Record<string, unknown>; metricName?: string }[] }> }) =>
      new Set(
        (await metric.get()).values
          .filter((v) => v.metricName?.endsWith("_count"))
          .map((v) => `${v.labels.probe_location_src} → ${v.labels.probe_location_dst}`),
      );
    assert.deepEqual(await series(daemon.metrics.latencyForward as never), new Set([`${ours} → right`]));
    assert.deepEqual(await series(daemon.metrics.latencyReturn as never), new Set([`right → ${ours}`]));
    const roundTrip = (await daemon.metrics.latencyRoundTrip.get()).values.find((v) => v.metricName?.endsWith("_sum"));
    assert.ok(roundTrip && roundTrip.value > 0 && roundTrip.value < 1, `round trip sum in seconds: ${roundTrip?.value}`);
  } finally {
    await daemon.stop();
    await echo.close();
    restoreLogs();
  }
});
