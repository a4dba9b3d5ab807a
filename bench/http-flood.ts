/**
 * Event-loop lag and UDP reply delay while clients flood the HTTP ports (issue 10 item 2;
 * docs/hardening.md, "Connections and floods on the HTTP ports"). Loopback (127.0.0.1).
 *   bun bench/http-flood.ts            deno run -A bench/http-flood.ts
 * This process runs what a daemon runs on its one event loop: the status server (with and
 * without a secret), the metrics server, a UDP echo standing in for the probe responder,
 * and a 10 ms timer measuring its own lateness (event-loop lag). A child process sends a
 * UDP ping every 10 ms and times the echo (what the far end of a tunnel sees; "no reply"
 * counts pings not answered within 200 ms of the row's end); another,
 * after a quiet first row, opens 10 connections that each write ~1 MB of pipelined
 * requests once and read the answers. Rows: lag and ping round trip (p50 / p99 / max) and the requests
 * answered per second. BENCH_MS sets the window per row (default 3000).
 */
import { spawn } from "node:child_process";
import dgram from "node:dgram";
import { deriveKeys } from "../src/auth/keys.ts";
import { initBridge } from "../src/metrics/bridge-series.ts";
import { createMetrics } from "../src/metrics/registry.ts";
import { startMetricsServer } from "../src/metrics/server.ts";
import { startStatusServer } from "../src/partner/server.ts";
import { formatGoTime, ZERO_TIME } from "../src/partner/status-body.ts";

const WINDOW_MS = Number(process.env.BENCH_MS ?? 3000);
const HOST = "127.0.0.1";
const CONNECTIONS = 10;
const FLOOD_BYTES = 1024 * 1024;
const runtime =
  "Deno" in globalThis ? `deno ${process.versions.deno ?? ""}` : "Bun" in globalThis ? `bun ${process.versions.bun ?? ""}` : `node ${process.version}`;

const metrics = createMetrics({ latencyBucketsCount: 33, maxLatencyUs: 1_000_000, version: "bench" });
initBridge(metrics, "bench-bridge", ["eth1", "eth2"]);
let answered = 0;
const count = (): void => void answered++;
const getStatus = () => ({
  name: "bench-bridge",
  role: "active" as const,
  active: true,
  active_since: formatGoTime(Date.now()),
  up: true,
  up_since: ZERO_TIME,
  interfaces: { eth1: { active: true, active_since: ZERO_TIME, up: true, up_since: ZERO_TIME } },
});
const plain = await startStatusServer({ addr: { host: HOST, port: 0 }, getStatus, onRequest: count });
const secret = await startStatusServer({ addr: { host: HOST, port: 0 }, getStatus, onRequest: count, statusKey: deriveKeys("bench secret").status });
const metricsServer = await startMetricsServer({ addr: { host: HOST, port: 0 }, metrics });
/** Answers of the metrics server so far (it counts them in vpnham_http_requests_total). */
const metricsAnswers = async (): Promise<number> => (await metrics.httpRequests.get()).values.reduce((sum, v) => sum + v.value, 0);

const echo = dgram.createSocket("udp4");
echo.on("message", (msg, rinfo) => echo.send(msg, rinfo.port, rinfo.address));
echo.on("error", () => {}); // a reply to a pinger that has gone
await new Promise<void>((resolve) => echo.bind(0, HOST, () => resolve()));
const echoPort = echo.address().port;

/** Lateness of a 10 ms timer chain over `windowMs`, in ms. */
function timerLag(windowMs: number): Promise<number[]> {
  return new Promise((resolve) => {
    const lags: number[] = [];
    const endMs = performance.now() + windowMs;
    const tick = (dueMs: number): void => {
      const nowMs = performance.now();
      lags.push(nowMs - dueMs);
      if (nowMs >= endMs) return resolve(lags);
      setTimeout(() => tick(nowMs + 10), 10);
    };
    setTimeout(() => tick(performance.now() + 10), 10);
  });
}

/** A child process running `script` (an ES module body); resolves with what it prints. */
function runChild(script: string): Promise<string> {
  const argv = "Deno" in globalThis ? ["eval", script] : ["-e", script];
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, argv, { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    proc.stdout!.on("data", (chunk: Buffer) => (out += chunk.toString()));
    proc.on("error", reject);
    proc.on("close", () => resolve(out));
  });
}

/** A child that pings the echo every 10 ms for `windowMs`; resolves with the round trips (ms) and the count sent. */
async function pinger(windowMs: number): Promise<{ rtts: number[]; sent: number }> {
  const out = await runChild(`
    const dgram = await import("node:dgram");
    const rtts = [];
    const ping = dgram.createSocket("udp4");
    ping.on("error", () => {});
    ping.on("message", (msg) => rtts.push(performance.now() - Number(msg.toString())));
    await new Promise((resolve) => ping.bind(0, "${HOST}", resolve));
    let sent = 0;
    const timer = setInterval(() => { sent++; ping.send(String(performance.now()), ${echoPort}, "${HOST}"); }, 10);
    setTimeout(() => {
      clearInterval(timer);
      setTimeout(() => { console.log(JSON.stringify({ rtts, sent })); process.exit(0); }, 200);
    }, ${windowMs});
  `);
  return JSON.parse(out) as { rtts: number[]; sent: number };
}

/** Another child: ${CONNECTIONS} connections to `port` that each write ~1 MB of `request` once and read the answers, for `windowMs`. */
async function flooder(windowMs: number, port: number, request: string): Promise<void> {
  if (request === "") return;
  await runChild(`
    const { connect } = await import("node:net");
    const request = ${JSON.stringify(request)};
    const flood = Buffer.from(request.repeat(Math.ceil(${FLOOD_BYTES} / request.length)), "latin1");
    const sockets = [];
    for (let i = 0; i < ${CONNECTIONS}; i++) {
      const socket = connect({ host: "${HOST}", port: ${port} });
      sockets.push(socket);
      socket.on("error", () => {});
      socket.on("data", () => {});
      socket.on("connect", () => socket.write(flood));
    }
    setTimeout(() => { for (const socket of sockets) socket.destroy(); process.exit(0); }, ${windowMs});
  `);
}

const percentile = (values: readonly number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;
};
const triple = (values: readonly number[]): string => [0.5, 0.99, 1].map((p) => percentile(values, p).toFixed(1).padStart(6)).join(" /");

console.log(`HTTP flood vs event loop, ${runtime}, ${WINDOW_MS} ms per row; ${CONNECTIONS} connections × ${FLOOD_BYTES / 1048576} MiB of pipelined requests`);
console.log(`${"flood".padEnd(38)} ${"timer lag ms p50 / p99 / max".padEnd(30)} ${"UDP ping ms p50 / p99 / max".padEnd(30)} ${"no reply".padEnd(9)} answers/s`);
const rows: [string, number, string][] = [
  ["none (baseline)", 0, ""],
  ["GET /status (200)", plain.port, "GET /status HTTP/1.1\r\nHost: x\r\n\r\n"],
  ["GET /status with a secret, no MAC (401)", secret.port, "GET /status HTTP/1.1\r\nHost: x\r\n\r\n"],
  ["GET /metrics (200)", metricsServer.port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"],
];
for (const [name, port, request] of rows) {
  answered = 0;
  const metricsBefore = await metricsAnswers();
  const [lags, { rtts, sent }] = await Promise.all([timerLag(WINDOW_MS), pinger(WINDOW_MS), flooder(WINDOW_MS, port, request)]);
  const rate = Math.round((answered + (await metricsAnswers()) - metricsBefore) / (WINDOW_MS / 1000));
  const lost = `${sent - rtts.length}/${sent}`;
  console.log(`${name.padEnd(38)} ${triple(lags).padEnd(30)} ${triple(rtts).padEnd(30)} ${lost.padEnd(9)} ${String(rate).padStart(9)}`);
  await new Promise((resolve) => setTimeout(resolve, 500)); // let the last row's sockets close
}
await Promise.all([plain.close(), secret.close(), metricsServer.close()]);
echo.close();
