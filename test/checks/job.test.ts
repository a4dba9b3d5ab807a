/**
 * Checks run by the daemon as components: exporter-only (no bridges), one component per
 * check, a reload restarts only the changed check, bridge_active follows a real bridge.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { parseConfigWith } from "../../src/config/index.ts";
import { startDaemon } from "../../src/daemon/daemon.ts";
import { metricSum, quietLogs, waitFor } from "../robustness/support.ts";

const yaml = (port: number, interval: string) => `
checks:
  api:
    kind: tcp
    address: 127.88.33.1:${port}
    interval: ${interval}
    timeout: 100ms
  other:
    kind: tcp
    address: 127.88.33.1:1
    interval: 200ms
    timeout: 100ms
metrics:
  listen_addr: 127.88.33.1:8000
`;

test("a checks-only config runs as an exporter; reload restarts only the changed check", async () => {
  const restoreLogs = quietLogs();
  const server = createServer((s) => s.destroy());
  await new Promise<void>((r) => server.listen(0, "127.88.33.1", r));
  const port = (server.address() as { port: number }).port;
  const daemon = await startDaemon(parseConfigWith(yaml(port, "200ms")).config);
  try {
    assert.deepEqual([...daemon.components().keys()], ["check:api", "check:other"]);
    const up = () => metricSum((daemon.metrics.registry.getSingleMetric("vpnham_check_up") as never), { check: "api" });
    await waitFor(async () => (await up()) === 1, { timeoutMs: 5000, what: "check api up" });
    const other = daemon.components().get("check:other");
    const result = await daemon.reload(parseConfigWith(yaml(port, "300ms")).config);
    assert.deepEqual(result.restarted, ["check:api"]);
    assert.deepEqual(result.kept, ["check:other"]);
    assert.equal(daemon.components().get("check:other"), other, "the unchanged check kept running");
    await waitFor(async () => (await up()) === 1, { timeoutMs: 5000, what: "check api up after reload" });
  } finally {
    await daemon.stop();
    server.close();
    restoreLogs();
  }
});
