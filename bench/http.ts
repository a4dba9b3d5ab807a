/**
 * HTTP endpoint benchmark on loopback (127.0.0.1), one process: the partner status server
 * and the metrics server (our own HTTP/1.1 server, src/http/), driven by raw keep-alive
 * clients in the same process, so the figures are for server + client on one JS thread.
 *   bun bench/http.ts            deno run -A bench/http.ts
 * (a) requests/s and latency with 1 and 16 keep-alive connections, each one request at a time;
 * (b) malformed requests/s: new connection, garbage, 400, close;
 * (c) server CPU spent on heads dripped one byte per write (slowloris) by 16 connections
 *     of a child process;
 * (d) JS heap before and after 100 000 more requests, after a forced GC (a leak per request
 *     or per connection shows here long before it shows in RSS). Deno needs
 *     `deno run -A --v8-flags=--expose-gc bench/http.ts` for this row.
 * Memory over time is bench/soak.ts's job.
 */
import { spawn } from "node:child_process";
import { connect } from "node:net";
import { initBridge } from "../src/metrics/bridge-series.ts";
import { createMetrics } from "../src/metrics/registry.ts";
import { startMetricsServer } from "../src/metrics/server.ts";
import { startStatusServer } from "../src/partner/server.ts";
import { formatGoTime, ZERO_TIME } from "../src/partner/status-body.ts";

const DURATION_MS = Number(process.env.BENCH_MS ?? 3000);
const HOST = "127.0.0.1";
const runtime =
  "Deno" in globalThis ? `deno ${process.versions.deno ?? ""}` : "Bun" in globalThis ? `bun ${process.versions.bun ?? ""}` : `node ${process.version}`;

const metrics = createMetrics({ latencyBucketsCount: 33, maxLatencyUs: 1_000_000, version: "bench" });
initBridge(metrics, "bench-bridge", ["eth1", "eth2"]);
for (const tunnel of ["eth1", "eth2"]) {
  for (let i = 0; i < 100; i++) metrics.latencyForward.observe({ bridge: "bench-bridge", tunnel, probe_location_src: "a", probe_location_dst: "b" }, 100 + i * 37);
}
const statusServer = await startStatusServer({
  addr: { host: HOST, port: 0 },
  getStatus: () => ({
    name: "bench-bridge",
    role: "active",
    active: true,
    active_since: formatGoTime(Date.now()),
    up: true,
    up_since: ZERO_TIME,
    interfaces: { eth1: { active: true, active_since: ZERO_TIME, up: true, up_since: ZERO_TIME } },
    partner_up: true,
  }),
});
const metricsServer = await startMetricsServer({ addr: { host: HOST, port: 0 }, metrics });

/** One keep-alive connection sending `request` again as soon as the previous answer is complete, until `untilMs` or `maxRequests`. */
async function keepAliveClient(port: number, request: string, untilMs: number, latenciesMs: number[], maxRequests = Infinity): Promise<number> {
  const socket = connect({ host: HOST, port });
  await new Promise((resolve) => socket.once("connect", resolve));
  let buffered: Buffer = Buffer.alloc(0);
  let done = 0;
  return new Promise((resolve, reject) => {
    let sentAt = performance.now();
    const send = (): void => {
      sentAt = performance.now();
      socket.write(request);
    };
    socket.on("error", reject);
    socket.on("data", (chunk: Buffer) => {
      buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
      for (;;) {
        const headEnd = buffered.indexOf("\r\n\r\n");
        if (headEnd === -1) return;
        const length = Number(/\r\nContent-Length: (\d+)/i.exec(buffered.subarray(0, headEnd).toString("latin1"))?.[1] ?? 0);
        if (buffered.length < headEnd + 4 + length) return;
        buffered = buffered.subarray(headEnd + 4 + length);
        latenciesMs.push(performance.now() - sentAt);
        done++;
        if (performance.now() >= untilMs || done >= maxRequests) {
          socket.destroy();
          resolve(done);
          return;
        }
        send();
      }
    });
    send();
  });
}

async function throughput(name: string, port: number, path: string, connections: number): Promise<void> {
  const request = `GET ${path} HTTP/1.1\r\nHost: bench\r\n\r\n`;
  const latencies: number[] = [];
  await Promise.all(Array.from({ length: connections }, () => keepAliveClient(port, request, performance.now() + 300, []))); // warm-up
  const started = performance.now();
  const counts = await Promise.all(Array.from({ length: connections }, () => keepAliveClient(port, request, started + DURATION_MS, latencies)));
  const elapsedS = (performance.now() - started) / 1000;
  const total = counts.reduce((a, b) => a + b, 0);
  latencies.sort((a, b) => a - b);
  const percentileUs = (p: number): string => ((latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? NaN) * 1000).toFixed(0);
  console.log(
    `${name.padEnd(9)} ${String(connections).padStart(3)} conn  ${Math.round(total / elapsedS)
      .toString()
      .padStart(7)} req/s   latency p50 ${percentileUs(0.5)} µs, p99 ${percentileUs(0.99)} µs`,
  );
}

async function malformedRate(port: number): Promise<void> {
  const until = performance.now() + DURATION_MS;
  let answered = 0;
  const worker = async (): Promise<void> => {
    while (performance.now() < until) {
      await new Promise<void>((resolve) => {
        const socket = connect({ host: HOST, port });
        socket.on("error", () => resolve());
        socket.on("close", () => resolve());
        socket.on("data", (chunk: Buffer) => {
          if (chunk.toString("latin1").startsWith("HTTP/1.1 400")) answered++;
        });
        socket.on("connect", () => socket.write("\x16\x03\x01 not http\r\n\r\n"));
      });
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: 8 }, worker));
  console.log(`malformed   8 conn  ${Math.round(answered / ((performance.now() - started) / 1000)).toString().padStart(7)} connections/s answered 400 and closed`);
}

/** The dripping clients run in a child process, so the CPU figure is the server's alone. */
async function drippedHeads(port: number, connections: number, padBytes: number): Promise<void> {
  const client = `
    const { connect } = await import("node:net");
    const head = Buffer.from("GET /status HTTP/1.1\\r\\nHost: bench\\r\\nX-Pad: " + "p".repeat(${padBytes}) + "\\r\\n\\r\\n", "latin1");
    let answered = 0;
    await Promise.all(Array.from({ length: ${connections} }, () => new Promise((resolve) => {
      const socket = connect({ host: "${HOST}", port: ${port} });
      socket.setNoDelay(true);
      socket.on("error", resolve);
      socket.on("data", (chunk) => { if (chunk.toString("latin1").startsWith("HTTP/1.1 200")) answered++; socket.destroy(); resolve(); });
      let sent = 0;
      const drip = () => { if (socket.destroyed || sent >= head.length) return; socket.write(head.subarray(sent, ++sent)); setImmediate(drip); };
      socket.on("connect", drip);
    })));
    console.log(answered);
  `;
  const argv = "Deno" in globalThis ? [process.execPath, "eval", client] : [process.execPath, "-e", client];
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const answered = await new Promise<string>((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout!.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.on("error", reject);
    child.on("close", () => resolve(out.trim()));
  });
  const cpu = process.cpuUsage(cpuBefore);
  console.log(
    `dripped  ${String(connections).padStart(3)} conn  ${padBytes + 40}-byte heads, 1 byte per write: ${answered} answered in ${Math.round(performance.now() - started)} ms; ` +
      `server CPU ${((cpu.user + cpu.system) / 1000 / connections).toFixed(1)} ms per head`,
  );
}

function forceGc(): boolean {
  const g = globalThis as { gc?: () => void; Bun?: { gc(full: boolean): void } };
  if (g.Bun) g.Bun.gc(true);
  else if (g.gc) g.gc();
  else return false;
  return true;
}

async function heapAfterRequests(port: number): Promise<void> {
  const round = async (): Promise<void> => {
    // Half on 16 keep-alive connections, half on a new connection each (8 at a time).
    await Promise.all(Array.from({ length: 16 }, () => keepAliveClient(port, "GET /status HTTP/1.1\r\nHost: bench\r\n\r\n", performance.now() + 60_000, [], 3125)));
    for (let i = 0; i < 50_000 / 8; i++) {
      await Promise.all(Array.from({ length: 8 }, () => keepAliveClient(port, "GET /status HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n", 0, [], 1)));
    }
  };
  if (!forceGc()) {
    console.log("heap      (skipped: no gc; run deno with --v8-flags=--expose-gc)");
    return;
  }
  await round(); // warm-up: JIT, pools
  forceGc();
  const before = process.memoryUsage().heapUsed;
  await round();
  forceGc();
  const after = process.memoryUsage().heapUsed;
  console.log(
    `heap      100 000 requests (50 000 on new connections): JS heap ${(before / 1048576).toFixed(1)} → ${(after / 1048576).toFixed(1)} MiB ` +
      `(${(((after - before) / 100_000) * 1).toFixed(1)} bytes per request)`,
  );
}

const scrapeBytes = (await (await fetch(`http://${HOST}:${metricsServer.port}/metrics`)).text()).length;
console.log(`HTTP endpoints, ${runtime}, ${DURATION_MS} ms per row; client and server share one process`);
console.log(`(/metrics body: ${scrapeBytes} bytes)`);
await throughput("/status", statusServer.port, "/status", 1);
await throughput("/status", statusServer.port, "/status", 16);
await throughput("/metrics", metricsServer.port, "/metrics", 1);
await throughput("/metrics", metricsServer.port, "/metrics", 16);
await malformedRate(statusServer.port);
await drippedHeads(statusServer.port, 16, 12_000);
await heapAfterRequests(statusServer.port);
await statusServer.close();
await metricsServer.close();
