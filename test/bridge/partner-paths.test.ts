// Heartbeats over more than one path (docs/behaviour.md §Partner health): an in-process pair
// whose standby reaches the active's status port through a TCP forwarder the test can cut, and
// has a `partner_checks` tcp check to another port of the active. Status port blocked, that port
// answering → the partner is still judged up, no takeover. Both paths down → takeover.
// Loopback only (127.88.141.x).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { connect, createServer, type Server, type Socket } from "node:net";
import { parseConfigWith } from "../../src/config/index.ts";
import { startDaemon, type Daemon } from "../../src/daemon/daemon.ts";
import type { BridgeStatus } from "../../src/partner/status-body.ts";
import { hp, metricSum, quietLogs, startEcho, startRelay, waitFor } from "../robustness/support.ts";

const bridge = "paths";
const net = "127.88.141";

function yaml(role: "active" | "standby", me: number, partnerUrl: string, partnerChecks: string): string {
  return `bridges:
  ${bridge}:
    role: ${role}
    bridge_interface: lo
    peer_cidr: 10.141.0.0/16
    status_addr: ${net}.${me}:8080
    partner_url: ${partnerUrl}
    probe_interval: 50ms
    partner_status_timeout: 40ms
    partner_status_threshold_down: 3
    partner_status_threshold_up: 2
    probe_location: paths/${role}
${partnerChecks}    tunnel_interfaces:
      t0: { role: active, addr: "${net}.${me}:3003", probe_addr: "${net}.${10 + me}:3003", threshold_down: 3, threshold_up: 2 }
metrics:
  listen_addr: ${net}.${me}:8000
`;
}

/** A TCP listener that accepts and holds (the partner's "other port", e.g. its sshd). */
async function listen(host: string, port: number, onSocket: (socket: Socket) => void): Promise<{ server: Server; sockets: Set<Socket>; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    onSocket(socket);
  });
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(port, host, () => resolve()));
  let closed: Promise<void> | undefined;
  return {
    server,
    sockets,
    close: () =>
      (closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      })),
  };
}

const echoes: Array<Awaited<ReturnType<typeof startEcho>>> = [];
const relays: Array<Awaited<ReturnType<typeof startRelay>>> = [];
let restoreLogs: () => void;

before(async () => {
  restoreLogs = quietLogs();
  for (const me of [1, 2]) {
    echoes.push(await startEcho(hp(`${net}.${30 + me}`, 3003)));
    relays.push(await startRelay({ near: hp(`${net}.${10 + me}`, 3003), far: hp(`${net}.${20 + me}`, 3003), daemon: hp(`${net}.${me}`, 3003), peer: hp(`${net}.${30 + me}`, 3003) }));
  }
});

after(async () => {
  await Promise.all([...relays, ...echoes].map((x) => x.close()));
  restoreLogs();
});

test("status port blocked but another partner path up → no takeover; every path down → takeover", { timeout: 60_000 }, async () => {
  // The standby's way to the active's status port: a forwarder the test cuts.
  const forwarder = await listen(`${net}.50`, 8080, (client) => {
    const upstream = connect(8080, `${net}.1`);
    upstream.on("error", () => client.destroy());
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  const otherPort = await listen(`${net}.1`, 2222, () => {});
  const checks = `    partner_checks: [active-ssh]\n`;
  const checkSection = `checks:
  active-ssh: { kind: tcp, address: "${net}.1:2222", interval: 100ms, timeout: 80ms, threshold_down: 2, threshold_up: 2 }
`;
  let active: Daemon | undefined;
  let standby: Daemon | undefined;
  const bridgeStatus = (d: Daemon) => d.status()[`bridge:${bridge}`] as BridgeStatus;
  try {
    active = await startDaemon(parseConfigWith(yaml("active", 1, `http://${net}.2:8080/`, "")).config);
    const parsed = parseConfigWith(yaml("standby", 2, `http://${net}.50:8080/`, checks) + checkSection);
    standby = await startDaemon(parsed.config);
    await waitFor(() => bridgeStatus(active!).active && !bridgeStatus(standby!).active && bridgeStatus(standby!).partner_up === true && (standby!.status()["check:active-ssh"] as { up?: boolean } | undefined)?.up === true, {
      timeoutMs: 10_000,
      what: "a settled pair with the partner check up",
    });
    const polls = (outcome: string) => metricSum(standby!.metrics.registry.getSingleMetric("vpnham_partner_polls_total") as never, { bridge, outcome });

    // The status port is blocked: every poll fails, the other path still answers.
    await forwarder.close();
    const failedBefore = await polls("connect");
    await waitFor(async () => (await polls("connect")) >= failedBefore + 12, { timeoutMs: 10_000, what: "a dozen failed polls (3× partner threshold_down + 1)" });
    assert.equal(bridgeStatus(standby).active, false, "the standby took over although its partner was reachable by another path");

    // Now the other path goes too: the partner is judged down, the standby takes over.
    await otherPort.close();
    await waitFor(() => bridgeStatus(standby!).active, { timeoutMs: 10_000, what: "takeover once every path failed" });
  } finally {
    await standby?.stop();
    await active?.stop();
    await forwarder.close();
    await otherPort.close();
  }
});
