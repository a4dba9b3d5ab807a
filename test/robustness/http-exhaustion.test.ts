// Connection exhaustion (issue 10 item 1; docs/hardening.md "Connections and floods on the
// HTTP ports"): hundreds of idle connections to the status and metrics ports, from one host
// and from many, must not lock out the configured partner's poll, a scraper, or a newcomer.
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
/** The second wave comes from this many addresses, each under the per-source limit (16). */
const SOURCES = 20;

/** `count` connections that send nothing, from `localAddress` (else the default, 127.0.0.1). */
async function idleConnections(host: string, port: number, count: number, localAddress?: (i: number) => string): Promise<Socket[]> {
  const sockets = Array.from({ length: count }, (_, i) => {
    const socket = connect({ host, port, ...(localAddress ? { localAddress: localAddress(i) } : {}) });
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

  describe(`${IDLE_CONNECTIONS} idle connections from one host and ${IDLE_CONNECTIONS} from ${SOURCES} more to each HTTP port${secret ? " (with a secret)" : ""}`, () => {
    let daemon: Daemon;
    let echo: Awaited<ReturnType<typeof startEcho>>;
    let restoreLogs: () => void;
    const held: Socket[] = [];
    /** A silent connection from the partner's address, opened with the strangers'. */
    let partnerIdle: Socket;

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
      partnerIdle = (await idleConnections(HOST, STATUS_PORT, 1, () => PARTNER))[0]!;
      const many = (i: number): string => `127.88.${net}.${100 + (i % SOURCES)}`;
      for (const port of [STATUS_PORT, METRICS_PORT]) {
        held.push(...(await idleConnections(HOST, port, IDLE_CONNECTIONS)), ...(await idleConnections(HOST, port, IDLE_CONNECTIONS, many)));
      }
    });

    after(async () => {
      for (const socket of held) socket.destroy();
      partnerIdle?.destroy();
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
      for (const server of ["status", "metrics"]) {
        // From 127.0.0.1: 16 admitted, the rest refused; from the others: idle strangers evicted.
        assert.ok((await metricSum(daemon.metrics.httpConnectionsShed, { server, action: "refused", limit: "per_source" })) > 0, `${server}: refusals counted`);
        assert.ok((await metricSum(daemon.metrics.httpConnectionsShed, { server, action: "evicted", limit: "total" })) > 0, `${server}: evictions counted`);
      }
    });

    test("the idle strangers are closed within a few seconds (short deadline before a first answer)", async () => {
      await waitFor(() => held.every((socket) => socket.destroyed), {
        timeoutMs: 5000,
        intervalMs: 100,
        what: "idle connections closed by the server",
      });
      assert.equal(partnerIdle.destroyed, false, "the partner's address (partner_url's host) is no stranger: its connection stays");
    });
  });
}
