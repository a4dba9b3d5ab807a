/**
 * The announce job inside a real daemon: its component runs as `announce:<backend>`, its
 * commands reach the daemon shell through the control registry (serve.ts serves them next to
 * status and reload), and without an announce: section they say so.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfigWith } from "../../src/config/index.ts";
import { startDaemon } from "../../src/daemon/daemon.ts";

test("a daemon with announce: runs the component and serves drain/undrain from the job", async () => {
  const dir = mkdtempSync(join(tmpdir(), "hbgp-job-"));
  const { config } = parseConfigWith(
    `checks:\n  web: { kind: tcp, address: "127.0.0.1:1" }\nannounce:\n  frr: { vtysh: [/bin/false] }\n  timeout: 200ms\n  state_file: ${join(dir, "state.json")}\n  services:\n    web: { prefixes: [192.0.2.10/32], checks: [web] }\nmetrics: { listen_addr: "127.84.16.4:18000" }\n`,
    { sourceName: "test.yaml" },
  );
  const daemon = await startDaemon(config, { dryRun: true });
  try {
    assert.deepEqual([...daemon.controlHandlers().keys()], ["drain", "undrain"]);
    assert.ok(daemon.status()["announce:frr"]);
    await assert.rejects(daemon.controlHandlers().get("drain")!({ target: "nope" }), /"nope" is neither a service \(web\)/);
    const result = (await daemon.controlHandlers().get("drain")!({ target: "web" })) as { drained: string };
    assert.equal(result.drained, "web");
    // A reload without the section stops the component: the commands say there is nothing to drain.
    const { announce: _, ...withoutAnnounce } = config;
    await daemon.reload(withoutAnnounce);
    await assert.rejects(daemon.controlHandlers().get("undrain")!({ target: "web" }), /no announce: section is running/);
  } finally {
    await daemon.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
