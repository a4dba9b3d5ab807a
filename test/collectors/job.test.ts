/**
 * Collectors run by the daemon as a job: a collectors-only config is an exporter (the VyOS
 * router without a tunnel pair), its series are on /metrics, and a reload that drops the
 * section stops the collector and takes its series away.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfigWith } from "../../src/config/index.ts";
import { startDaemon } from "../../src/daemon/daemon.ts";
import { quietLogs, repoRoot, tempDir, waitFor } from "../robustness/support.ts";

test("a collectors-only config exports FRR's peers on /metrics; dropping the section removes them", async () => {
  const restoreLogs = quietLogs();
  const dir = tempDir("collectors-job");
  const vtysh = join(dir.path, "vtysh");
  writeFileSync(vtysh, `#!/bin/sh\ncat '${join(repoRoot, "test", "collectors", "fixtures", "frr", "vrf-all-v4v6.json")}'\n`);
  chmodSync(vtysh, 0o755);
  const metrics = "metrics:\n  listen_addr: 127.88.34.1:8000\n";
  const withFrr = `collectors:\n  frr:\n    vtysh_path: ${vtysh}\n    interval: 1s\n    timeout: 500ms\n${metrics}`;
  const daemon = await startDaemon(parseConfigWith(withFrr).config);
  const scrape = async () => (await fetch("http://127.88.34.1:8000/metrics")).text();
  try {
    assert.deepEqual([...daemon.components().keys()], ["collectors"]);
    await waitFor(async () => /vpnham_collector_success\{collector="frr"\} 1/.test(await scrape()), { timeoutMs: 5000, what: "frr collected" });
    assert.match(await scrape(), /_bgp_peer_up\{/);
    const checksOnly = `checks:\n  self:\n    kind: tcp\n    address: 127.88.34.1:8000\n${metrics}`;
    const result = await daemon.reload(parseConfigWith(checksOnly).config);
    assert.deepEqual(result.stopped, ["collectors"]);
    assert.doesNotMatch(await scrape(), /collector="frr"|_bgp_peer_up\{/);
  } finally {
    await daemon.stop();
    dir.remove();
    restoreLogs();
  }
});
