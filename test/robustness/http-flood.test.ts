// Pipelined floods (issue 10 item 2; docs/hardening.md "Connections and floods on the HTTP
// ports"): ten connections that each write ~1 MB of pipelined requests at once must not
// stall the event loop the probes, their timers and the partner poll share. The flooding
// clients run in a child process, so the lag measured here is the server's alone. Two
// measures: how late a 10 ms timer fires, and how late a UDP datagram the child sends every
// 10 ms reaches its handler here (on Deno, I/O can starve while timers look fine).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import dgram from "node:dgram";
import { deriveKeys } from "../../src/auth/keys.ts";
import { startStatusServer } from "../../src/partner/server.ts";
import { startMetricsServer } from "../../src/metrics/server.ts";
import { createMetrics } from "../../src/metrics/registry.ts";
import { formatGoTime, ZERO_TIME } from "../../src/partner/status-body.ts";
import type { RunningHttpServer } from "../../src/http/server.ts";
import { isDeno, metricSum } from "./support.ts";
import { exchange, statusCodes } from "../support/raw-http.ts";

const HOST = "127.88.63.1";
const CONNECTIONS = 10;
const FLOOD_BYTES = 1024 * 1024;
/** From spawning the flooding child; it connects and writes within the first few hundred ms. */
const WINDOW_MS = 2500;
/**
 * Late means later than LATE_MS; a few late ticks (MAX_LATE of ~250) are left to the
 * scheduler of a loaded 2-core CI box, where 50-100 ms hiccups show with no flood at all.
 * None may be later than MAX_LAG_MS. The old code stalled for 1-11 s.
 */
const LATE_MS = 50;
const MAX_LATE = 10;
const MAX_LAG_MS = 300;
/** A poll from another host in mid-flood (the partner's, a scrape) is answered within this. */
const MAX_POLL_MS = 300;

/** Absolute ms, comparable across processes on one host. */
const absoluteMs = (): number => performance.timeOrigin + performance.now();

/**
 * Starts the flooding child: ten connections that each write FLOOD_BYTES of `request` once
 * and read the answers, and a datagram to `udpPort` every 10 ms carrying its send time.
 */
function startFlood(port: number, request: string, udpPort: number): { child: ChildProcess; kill(): void } {
  const script = `
    const { connect } = await import("node:net");
    const dgram = await import("node:dgram");
    const ping = dgram.createSocket("udp4");
    ping.on("error", () => {});
    setInterval(() => ping.send(String(performance.timeOrigin + performance.now()), ${udpPort}, "${HOST}"), 10);
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

/** How late each tick of a 10 ms timer chain fired over `windowMs`. */
function timerLags(windowMs: number): Promise<number[]> {
  return new Promise((resolve) => {
    const periodMs = 10;
    const endMs = performance.now() + windowMs;
    const lagsMs: number[] = [];
    const tick = (dueMs: number): void => {
      const nowMs = performance.now();
      lagsMs.push(nowMs - dueMs);
      if (nowMs >= endMs) return resolve(lagsMs);
      setTimeout(() => tick(nowMs + periodMs), periodMs);
    };
    setTimeout(() => tick(performance.now() + periodMs), periodMs);
  });
}

/** How many of `valuesMs` are late, and the worst, rounded. */
function tail(valuesMs: readonly number[]): { late: number; max: number } {
  return { late: valuesMs.filter((ms) => ms > LATE_MS).length, max: Math.round(Math.max(...valuesMs)) };
}

const withinBounds = (t: { late: number; max: number }): boolean => t.late <= MAX_LATE && t.max < MAX_LAG_MS;

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
  /** One-way delays (ms) of the child's datagrams to their handler here. */
  const udpDelaysMs: number[] = [];
  const udp = dgram.createSocket("udp4");
  udp.on("message", (msg) => udpDelaysMs.push(absoluteMs() - Number(msg.toString())));

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
    await new Promise<void>((resolve) => udp.bind(0, HOST, () => resolve()));
  });

  after(async () => {
    await Promise.all(servers.map((server) => server.close()));
    udp.close();
  });

  const cases: [string, string][] = [
    ["status", "GET /status HTTP/1.1\r\nHost: x\r\n\r\n"],
    ["status with a secret", "GET /status HTTP/1.1\r\nHost: x\r\n\r\n"],
    ["metrics", "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"],
  ];
  for (const [name, request] of cases) {
    test(`${name}: ${CONNECTIONS} connections × 1 MB of pipelined requests; at most ${MAX_LATE} timer ticks or datagrams > ${LATE_MS} ms late`, { timeout: 20_000 }, async () => {
      const lags = timerLags(WINDOW_MS);
      udpDelaysMs.length = 0;
      const flood = startFlood(ports[name]!, request, udp.address().port);
      const poll = (async () => {
        await new Promise((resolve) => setTimeout(resolve, WINDOW_MS / 2)); // into the flood, not a wait for a condition
        const startMs = performance.now();
        const answer = await exchange({ host: HOST, port: ports[name]!, localAddress: "127.88.63.2" }, request.replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n"), 3000);
        return { ms: Math.round(performance.now() - startMs), codes: statusCodes(answer.text) };
      })();
      let timer: { late: number; max: number };
      try {
        timer = tail(await lags);
        const polled = await poll;
        assert.equal(polled.codes.length, 1, `${name}: a poll in mid-flood got ${JSON.stringify(polled)}`);
        assert.ok(polled.ms < MAX_POLL_MS, `${name}: a poll in mid-flood took ${polled.ms} ms`);
      } finally {
        flood.kill();
      }
      const datagram = tail(udpDelaysMs);
      const seen = `timer: ${timer.late} ticks late, worst ${timer.max} ms; datagrams: ${udpDelaysMs.length}, ${datagram.late} late, worst ${datagram.max} ms`;
      assert.ok(withinBounds(timer), `${name}: ${seen}`);
      assert.ok(udpDelaysMs.length > WINDOW_MS / 10 / 2, `${name}: datagrams handled during the flood: ${seen}`);
      assert.ok(withinBounds(datagram), `${name}: ${seen}`);
      const served = name === "metrics" ? await countMetrics() : (answered.get(name) ?? 0);
      assert.ok(served > 100, `${name}: the flood was served meanwhile (${served} answers)`);
    });
  }
});
