import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/index.ts";
import { startDaemon, type Daemon } from "../../src/daemon/daemon.ts";
import { waitFor } from "../../src/util/wait.ts";
import { hp, startEcho } from "../robustness/udp.ts";
import { configYaml } from "../support/bridge-yaml.ts";

/**
 * The far end of bridge n's tunnel: a stateless loopback responder. (A tunnel probing its own
 * socket never comes up: its own requests are refused, docs/hardening.md "Reflected probes".)
 */
const echoAddr = (n: number) => hp(`127.66.1.${100 + n}`, 13003);
const echoes: Awaited<ReturnType<typeof startEcho>>[] = [];

/** Bridges whose tunnels probe their echo on loopback. */
function yaml(bridges: { name: string; n: number; thresholdDown?: number; statusN?: number }[]): string {
  return configYaml(
    bridges.map(({ name, n, thresholdDown = 3, statusN = n }) => ({
      name,
      role: "active",
      bridgeInterface: "lo",
      statusAddr: `127.66.1.${statusN}:18080`,
      partnerUrl: "http://127.66.1.200:18080/",
      probeInterval: "50ms",
      partnerTimeout: "20ms",
      tunnels: [{ name: "lo", role: "active", addr: `127.66.1.${n}:13003`, probeAddr: echoAddr(n).text, thresholdDown }],
    })),
    "127.66.1.1:18000",
  );
}

let daemon: Daemon;
before(async () => {
  for (const n of [1, 2, 3]) echoes.push(await startEcho(echoAddr(n)));
  daemon = await startDaemon(parseConfig(yaml([{ name: "b1", n: 1 }, { name: "b2", n: 2 }])).config);
  await waitFor(() => [...daemon.bridges().values()].every((b) => b.state.bridgeActive), { timeoutMs: 5000, what: "both bridges up" });
});
after(async () => {
  await daemon?.stop();
  await Promise.all(echoes.map((e) => e.close()));
});

test("reload keeps unchanged bridges with their probe history, restarts changed ones, adds and removes", async () => {
  const b1 = daemon.bridges().get("b1")!;
  const b2 = daemon.bridges().get("b2")!;
  await waitFor(() => b1.tunnelHealth("lo")!.lastSequence > 4n, { timeoutMs: 2000, what: "some probe history" });
  const b1Sequence = b1.tunnelHealth("lo")!.lastSequence;
  const b1Since = b1.status().active_since;

  const result = await daemon.reload(
    parseConfig(yaml([{ name: "b1", n: 1 }, { name: "b2", n: 2, thresholdDown: 4 }, { name: "b3", n: 3 }])).config,
  );
  assert.deepEqual(result, { started: ["b3"], stopped: [], restarted: ["b2"], kept: ["b1"], failed: [] });
  assert.equal(daemon.bridges().get("b1"), b1, "b1 is the same runtime");
  assert.notEqual(daemon.bridges().get("b2"), b2, "b2 was restarted");
  // b1's history goes on: its sequence keeps counting and its role never flapped.
  await waitFor(() => b1.tunnelHealth("lo")!.lastSequence > b1Sequence + 2n, { timeoutMs: 2000, what: "b1 to keep probing" });
  assert.equal(b1.status().active_since, b1Since);
  assert.equal(b1.state.bridgeActive, true);
  await waitFor(() => daemon.bridges().get("b3")!.state.bridgeActive, { timeoutMs: 5000, what: "b3 up" });

  const removed = await daemon.reload(parseConfig(yaml([{ name: "b1", n: 1 }, { name: "b2", n: 2, thresholdDown: 4 }])).config);
  assert.deepEqual(removed, { started: [], stopped: ["b3"], restarted: [], kept: ["b1", "b2"], failed: [] });
  const scrape = await daemon.metrics.registry.metrics();
  assert.ok(!scrape.includes(`bridge="b3"`), "a removed bridge's series are gone");
  assert.ok(scrape.includes(`vpnham_probes_failed_total{bridge="b2",tunnel="lo"} 0`), "a restarted bridge keeps its fresh series");
  assert.match(scrape, /vpnham_bridge_active\{bridge="b1"\} 1/);
});

test("a bridge whose new settings cannot start goes back to its previous ones, and the result says so", async () => {
  const { createServer } = await import("node:net");
  const blocker = createServer();
  await new Promise<void>((res) => blocker.listen(18080, "127.66.1.9", () => res()));
  try {
    const result = await daemon.reload(
      parseConfig(yaml([{ name: "b1", n: 1 }, { name: "b2", n: 2, thresholdDown: 4, statusN: 9 }])).config,
    );
    assert.deepEqual(result.kept, ["b1"]);
    assert.equal(result.failed.length, 1);
    assert.equal(result.failed[0]!.bridge, "b2");
    assert.equal(result.failed[0]!.rolledBack, true);
    assert.match(result.failed[0]!.error, /address already in use/);
    // b2 runs again on its previous settings: its old status address answers.
    const b2 = daemon.bridges().get("b2")!;
    assert.ok(b2, "b2 is running");
    await waitFor(async () => (await fetch("http://127.66.1.2:18080/status").catch(() => null))?.status === 200, {
      timeoutMs: 3000,
      what: "b2's previous status address",
    });
  } finally {
    blocker.close();
  }
});
