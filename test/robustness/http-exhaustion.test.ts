// Connection exhaustion (issue 10 item 1; docs/hardening.md "Connections and floods on the
// HTTP ports"): hundreds of idle connections from one host to the status and metrics ports
// must not lock out the configured partner's poll, a scraper, or a newcomer from elsewhere.
// The partner is told apart by its source address (partner_url's host): the clients bind
// their sockets to other loopback addresses. With and without a secret.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { startDaemon, type Daemon } from "../../src/daemon/daemon.ts";
import { deriveKeys } from "../../src/auth/keys.ts";
import { AUTH_HEADER, requestAuthHeader } from "../../src/auth/status-auth.ts";
import { exchange, statusCodes } from "../support/raw-http.ts";
import { bridgeConfig, hp, metricSum, quietLogs, startEcho, waitFor } from "./support.ts";

const STATUS_PORT = 8080;
const METRICS_PORT = 8000;
const IDLE_CONNECTIONS = 300;

/** `count` connections from the default source (127.0.0.1) that send nothing. */
async function idleConnections(host: string, port: number, count: number): Promise<Socket[]> {
  const sockets = Array.from({ length: count }, () => {
    const socket = connect({ host, port });
    socket.on("error", () => {});
    socket.on("data", () => {});
    return socket;
  });
  await Promise.all(sockets.map((socket) => new Promise((resolve) => (socket.connecting ? socket.once("connect", resolve) : resolve(undefined)))));
  return sockets;
}

for (const secret of [undefined, "a shared secret for the exhaustion test"]) {
  const net = secret === undefined ? 61 : 62;
  const HOST = `127.88.${net}.1`;
  const PARTNER = `127.88.${net}.3`;
  const SCRAPER = `127.88.${net}.4`;
  const STRANGER = `127.88.${net}.5`;
  const bridge = `exhaust-${net}`;
  const key = secret === undefined ? undefined : deriveKeys(secret).status;

  describe(`${IDLE_CONNECTIONS} idle connections to each HTTP port${secret ? " (with a secret)" : ""}`, () => {
    let daemon: Daemon;
    let echo: Awaited<ReturnType<typeof startEcho>>;
    let restoreLogs: () => void;
    const held: Socket[] = [];

    before(async () => {
      restoreLogs = quietLogs();
      echo = await startEcho(hp(`127.88.${net}.2`, 3003));
      daemon = await startDaemon(
        bridgeConfig(
          {
            name: bridge,
            role: "active",
            statusAddr: `${HOST}:${STATUS_PORT}`,
            partnerUrl: `http://${PARTNER}:${STATUS_PORT}/`,
            ...(secret === undefined ? {} : { secret }),
            tunnels: [{ name: "t0", role: "active", addr: `${HOST}:3003`, probeAddr: `127.88.${net}.2:3003` }],
          },
          `${HOST}:${METRICS_PORT}`,
        ),
      );
      held.push(...(await idleConnections(HOST, STATUS_PORT, IDLE_CONNECTIONS)), ...(await idleConnections(HOST, METRICS_PORT, IDLE_CONNECTIONS)));
    });

    after(async () => {
      for (const socket of held) socket.destroy();
      await daemon?.stop();
      await echo?.close();
      restoreLogs?.();
    });

    const statusRequest = (): string =>
      `GET /status HTTP/1.1\r\nHost: x\r\n${key ? `${AUTH_HEADER}: ${requestAuthHeader(key)}\r\n` : ""}Connection: close\r\n\r\n`;

    test("the partner's poll (from partner_url's address) is answered 200 at once", async () => {
      const t0 = performance.now();
      const answer = await exchange({ host: HOST, port: STATUS_PORT, localAddress: PARTNER }, statusRequest(), 2000);
      assert.deepEqual(statusCodes(answer.text), [200], answer.text.slice(0, 200));
      assert.ok(performance.now() - t0 < 1000, `took ${Math.round(performance.now() - t0)} ms`);
    });

    test("a scraper from another host gets /metrics", async () => {
      const answer = await exchange({ host: HOST, port: METRICS_PORT, localAddress: SCRAPER }, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 2000);
      assert.deepEqual(statusCodes(answer.text), [200], answer.text.slice(0, 200));
      assert.match(answer.text, /vpnham_bridge_active/);
    });

    test("a newcomer from elsewhere is served too (an idle stranger makes room), and that is counted", async () => {
      const answer = await exchange({ host: HOST, port: STATUS_PORT, localAddress: STRANGER }, statusRequest(), 2000);
      assert.deepEqual(statusCodes(answer.text), [200], answer.text.slice(0, 200));
      await waitFor(async () => (await metricSum(daemon.metrics.httpConnectionsShed, { server: "status" })) > 0, { timeoutMs: 2000, what: "sheds counted" });
      assert.ok((await metricSum(daemon.metrics.httpConnectionsShed, { server: "metrics" })) > 0);
    });

    test("the idle strangers are closed within a few seconds (short deadline before a first answer)", async () => {
      await waitFor(() => held.every((socket) => socket.destroyed || socket.readyState === "closed" || !socket.readable), {
        timeoutMs: 5000,
        intervalMs: 100,
        what: "idle connections closed by the server",
      });
    });
  });
}
