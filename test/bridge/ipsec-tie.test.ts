/**
 * IPsec-aware failover (docs/collectors.md §IPsec-aware failover) through the daemon: a tunnel
 * tied to a strongSwan CHILD_SA (a scripted charon, captured frames) fails over on charon's
 * child-updown event while its probes are still answered — so the IPsec state, not a probe
 * timeout, took it down —, comes back with the SA, and a charon that cannot be read leaves the
 * probes in charge. Loopback only (127.88.42.x).
 */
import { tiedBridgeYaml } from "./tied-pair.ts";
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/index.ts";
import { startDaemon, type Daemon } from "../../src/daemon/daemon.ts";
import type { ViciSection } from "../../src/vici/message.ts";
import { decodePacket, PACKET } from "../../src/vici/packet.ts";
import { hp, metricSum, quietLogs, startEcho, waitFor } from "../robustness/support.ts";
import { FakeCharon, streamingReply } from "../vici/fake-charon.ts";
import { fixture } from "../vici/support.ts";

const event = (file: string) => (decodePacket(fixture(file)) as { message: ViciSection }).message;

describe("a tunnel tied to its CHILD_SA", () => {
  let charon: FakeCharon;
  let sas: ViciSection[];
  let daemon: Daemon;
  let echoes: { close(): Promise<void> }[] = [];
  let restoreLogs: () => void;

  const roles = () => daemon.bridges().get("tied")!.state;
  const failedProbes = (tunnel: string) => metricSum(daemon.metrics.probesFailed, { bridge: "tied", tunnel });
  const childUpdown = (file: string) => charon.clients.at(-1)!.send({ type: PACKET.EVENT, name: "child-updown", message: event(file) });

  before(async () => {
    restoreLogs = quietLogs();
    charon = new FakeCharon();
    sas = [event("list-sa-event-5.9.8.bin")];
    charon.reply = streamingReply({
      "list-conns": { event: "list-conn", messages: () => [event("list-conn-event.bin")] },
      "list-sas": { event: "list-sa", messages: () => sas },
    });
    await charon.listen();
    echoes = [await startEcho(hp("127.88.42.2", 3003), "far/a"), await startEcho(hp("127.88.42.18", 3003), "far/b")];
    const yaml = tiedBridgeYaml(42, "ipsec: { conn: gw-a, child: net }", `  strongswan:\n    socket_path: ${charon.path}\n    interval: 60s\n    timeout: 1s\n`);
    const { config } = parseConfig(yaml, "ipsec-tie-test");
    assert.deepEqual(config.bridges[0]!.tunnels[0]!.ipsec, { conn: "gw-a", child: "net" });
    daemon = await startDaemon(config);
    await waitFor(() => roles().bridgeActive && roles().activeTunnel === "t0", { timeoutMs: 5000, what: "t0 active" });
  });
  after(async () => {
    await daemon?.stop();
    for (const e of echoes) await e.close();
    await charon?.dispose();
    restoreLogs?.();
  });

  test("child-updown (down) fails over to t1 while t0's probes are still answered", async () => {
    const failedBefore = await failedProbes("t0");
    sas = [];
    childUpdown("child-updown-down.bin");
    await waitFor(() => roles().activeTunnel === "t1", { timeoutMs: 5000, what: "failover to t1" });
    // No probe of t0 was lost up to the failover: the IPsec state took it down, not a timeout.
    assert.equal(await failedProbes("t0"), failedBefore);
    assert.equal(roles().tunnels.find((t) => t.name === "t0")?.up, false);
    assert.equal(roles().bridgeActive, true);
  });

  test("child-updown (up): t0 is up again with its SA (its probes never stopped) and takes its role back", async () => {
    sas = [event("list-sa-event-after-ping.bin")];
    childUpdown("child-updown-up.bin");
    await waitFor(() => roles().tunnels.find((t) => t.name === "t0")?.up === true, { timeoutMs: 5000, what: "t0 up" });
    await waitFor(() => roles().activeTunnel === "t0", { timeoutMs: 10_000, what: "t0 active again" });
  });

  test("charon gone: the state is unknown and the probes alone decide — t0 stays up", async () => {
    await charon.kill();
    await waitFor(async () => (await daemon.metrics.registry.getSingleMetric("vpnham_collector_success")?.get())?.values[0]?.value === 0, {
      timeoutMs: 5000,
      what: "collector failure",
    });
    assert.equal(roles().activeTunnel, "t0");
    assert.equal(roles().tunnels.find((t) => t.name === "t0")?.up, true);
  });
});
