// Pipelined floods (issue 10 item 2; docs/hardening.md "Connections and floods on the HTTP
// ports"): ten connections that each write ~1 MB of pipelined requests at once must not
// stall the event loop the probes, their timers and the partner poll share. The flooding
// clients run in a child process, so the lag measured here is the server's alone.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { deriveKeys } from "../../src/auth/keys.ts";
import { startStatusServer } from "../../src/partner/server.ts";
import { startMetricsServer } from "../../src/metrics/server.ts";
import { createMetrics } from "../../src/metrics/registry.ts";
import { formatGoTime, ZERO_TIME } from "../../src/partner/status-body.ts";
import type { RunningHttpServer } from "../../src/http/server.ts";
import { isDeno, metricSum } from "./support.ts";

const HOST = "127.88.63.1";
const CONNECTIONS = 10;
const FLOOD_BYTES = 1024 * 1024;
/** From spawning the flooding child; it connects and writes within the first few hundred ms. */
const WINDOW_MS = 2500;
const MAX_LAG_MS = 50;

/** Starts the flooding child: ten connections that each write FLOOD_BYTES of `request` once and read the answers. */
function startFlood(port: number, request: string): { child: ChildProcess; kill(): void } {
  const script = `
    const { connect } = await import("node:net");
    const request = ${JSON.stringify(request)};
    const flood = Buffer.from(request.repeat(Math.ceil(${FLOOD_BYTES} / request.length)), "latin1");
    for (let i = 0; i < ${CONNECTIONS}; i++) {
      const socket = connect({ host: "${HOST}", port: ${port} });
      socket.on("error", () => {});
      socket.on("data", () => {});
      socket.on("connect", () => socket.write(flood));
    }
    setTimeout(() => process.exit(0), 20000);
  `;
  const argv = isDeno ? ["eval", script] : ["-e", script];
  const child = spawn(process.execPath, argv, { stdio: ["ignore", "ignore", "inherit"] });
  child.on("error", () => {});
  const kill = (): void => {
    try {
      if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, "SIGKILL");
    } catch {
      /* gone */
    }
  };
  return { child, kill };
}

/** The largest lateness of a 10 ms timer chain over `windowMs`. */
function maxTimerLag(windowMs: number): Promise<number> {
  return new Promise((resolve) => {
    const periodMs = 10;
    const endMs = performance.now() + windowMs;
    let maxLagMs = 0;
    const tick = (dueMs: number): void => {
      const nowMs = performance.now();
      maxLagMs = Math.max(maxLagMs, nowMs - dueMs);
      if (nowMs >= endMs) return resolve(maxLagMs);
      setTimeout(() => tick(nowMs + periodMs), periodMs);
    };
    setTimeout(() => tick(performance.now() + periodMs), periodMs);
  });
}

const status = {
  name: "flood",
  role: "active" as const,
  active: true,
  active_since: formatGoTime(Date.now()),
  up: true,
  up_since: ZERO_TIME,
  interfaces: { eth1: { active: true, active_since: ZERO_TIME, up: true, up_since: ZERO_TIME } },
};

describe("pipelined floods don't stall the event loop", () => {
  const servers: RunningHttpServer[] = [];
  const answered = new Map<string, number>();
  const count = (name: string) => (): void => void answered.set(name, (answered.get(name) ?? 0) + 1);
  let ports: Record<string, number> = {};
  let countMetrics: () => Promise<number> = async () => 0;

  before(async () => {
    const plain = await startStatusServer({ addr: { host: HOST, port: 0 }, getStatus: () => status, onRequest: count("status") });
    const secret = await startStatusServer({
      addr: { host: HOST, port: 0 },
      getStatus: () => status,
      statusKey: deriveKeys("a secret the flood doesn't know").status,
      onRequest: count("status with a secret"),
    });
    const metrics = createMetrics({ latencyBucketsCount: 10, maxLatencyUs: 1_000_000, version: "test" });
    const metricsServer = await startMetricsServer({ addr: { host: HOST, port: 0 }, metrics });
    countMetrics = () => metricSum(metrics.httpRequests, { server: "metrics" });
    servers.push(plain, secret, metricsServer);
    ports = { status: plain.port, "status with a secret": secret.port, metrics: metricsServer.port };
  });

  after(async () => {
    await Promise.all(servers.map((server) => server.close()));
  });

  const cases: [string, string][] = [
    ["status", "GET /status HTTP/1.1\r\nHost: x\r\n\r\n"],
    ["status with a secret", "GET /status HTTP/1.1\r\nHost: x\r\n\r\n"],
    ["metrics", "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"],
  ];
  for (const [name, request] of cases) {
    test(`${name}: ${CONNECTIONS} connections × 1 MB of pipelined requests; timer lag stays under ${MAX_LAG_MS} ms`, { timeout: 20_000 }, async () => {
      const lag = maxTimerLag(WINDOW_MS);
      const flood = startFlood(ports[name]!, request);
      try {
        const lagMs = await lag;
        assert.ok(lagMs < MAX_LAG_MS, `${name}: a 10 ms timer fired up to ${Math.round(lagMs)} ms late during the flood`);
      } finally {
        flood.kill();
      }
      const served = name === "metrics" ? await countMetrics() : (answered.get(name) ?? 0);
      assert.ok(served > 100, `${name}: the flood was served meanwhile (${served} answers)`);
    });
  }
});
