/**
 * BGP-aware failover (docs/collectors.md §BGP-aware failover) through the daemon: a tunnel tied to
 * a BGP peer (a stand-in vtysh printing FRR captures the test switches) fails over when FRR lists
 * the peer as not Established while its probes are still answered — so the BGP state, not a probe
 * timeout, took it down —, comes back when the session is Established again, and a vtysh that
 * fails leaves the probes in charge. Loopback only (127.88.43.x).
 */
import { tiedBridgeYaml } from "./tied-pair.ts";
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseConfig } from "../../src/config/index.ts";
import { startDaemon, type Daemon } from "../../src/daemon/daemon.ts";
import { hp, metricSum, quietLogs, startEcho, waitFor } from "../robustness/support.ts";

const fixture = (name: string) => fileURLToPath(new URL(`../collectors/fixtures/frr/${name}`, import.meta.url));

describe("a tunnel tied to its BGP peer", () => {
  let dir: string;
  let daemon: Daemon;
  let echoes: { close(): Promise<void> }[] = [];
  let restoreLogs: () => void;
  /** What the stand-in vtysh prints next: a capture, or a failure. */
  const answer = (what: string | "fail") =>
    writeFileSync(join(dir, "answer"), what === "fail" ? "fail\n" : `${fixture(what)}\n`);

  const roles = () => daemon.bridges().get("tied")!.state;
  const failedProbes = (tunnel: string) => metricSum(daemon.metrics.probesFailed, { bridge: "tied", tunnel });

  before(async () => {
    restoreLogs = quietLogs();
    dir = mkdtempSync(join(tmpdir(), "vpnham-bgp-tie-"));
    const vtysh = join(dir, "vtysh");
    writeFileSync(vtysh, `#!/bin/sh\nf=$(cat '${join(dir, "answer")}')\nif [ "$f" = fail ]; then echo 'bgpd is not running' >&2; exit 1; fi\ncat "$f"\n`);
    chmodSync(vtysh, 0o755);
    answer("vrf-all-v4v6.json");
    echoes = [await startEcho(hp("127.88.43.2", 3003), "far/a"), await startEcho(hp("127.88.43.18", 3003), "far/b")];
    const yaml = tiedBridgeYaml(43, "bgp: { peer: 10.99.0.2, vrf: default }", `  frr:\n    vtysh_path: ${vtysh}\n    interval: 1s\n    timeout: 900ms\n`);
    const { config } = parseConfig(yaml, "bgp-tie-test");
    assert.deepEqual(config.bridges[0]!.tunnels[0]!.bgp, { peer: "10.99.0.2", vrf: "default" });
    daemon = await startDaemon(config);
    await waitFor(() => roles().bridgeActive && roles().activeTunnel === "t0", { timeoutMs: 5000, what: "t0 active" });
  });
  after(async () => {
    await daemon?.stop();
    for (const e of echoes) await e.close();
    restoreLogs?.();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("the peer not Established (Active) fails over to t1 while t0's probes are still answered", async () => {
    const failedBefore = await failedProbes("t0");
    answer("vrf-all-peer-down.json");
    await waitFor(() => roles().activeTunnel === "t1", { timeoutMs: 5000, what: "failover to t1" });
    // No probe of t0 was lost up to the failover: the BGP state took it down, not a timeout.
    assert.equal(await failedProbes("t0"), failedBefore);
    assert.equal(roles().tunnels.find((t) => t.name === "t0")?.up, false);
    assert.equal(roles().bridgeActive, true);
  });

  test("the session Established again: t0 is up (its probes never stopped) and takes its role back", async () => {
    answer("vrf-all-v4v6.json");
    await waitFor(() => roles().tunnels.find((t) => t.name === "t0")?.up === true, { timeoutMs: 5000, what: "t0 up" });
    await waitFor(() => roles().activeTunnel === "t0", { timeoutMs: 10_000, what: "t0 active again" });
  });

  test("vtysh failing: the state is unknown and the probes alone decide — t0 stays up", async () => {
    answer("fail");
    await waitFor(async () => (await daemon.metrics.registry.getSingleMetric("vpnham_collector_success")?.get())?.values[0]?.value === 0, {
      timeoutMs: 5000,
      what: "collector failure",
    });
    assert.equal(roles().activeTunnel, "t0");
    assert.equal(roles().tunnels.find((t) => t.name === "t0")?.up, true);
  });
});
