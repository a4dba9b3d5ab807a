// HTTP input at a running daemon: its partner status server and its metrics
// server get malformed, oversized, odd, pipelined, slow and idle clients.
// Every answer is a 4xx (or a close), every answer is counted, nothing
// crashes, and the daemon keeps probing and serving meanwhile.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { startDaemon, type Daemon } from "../../src/daemon/daemon.ts";
import { bridgeConfig, hp, isDeno, metricSum, startEcho, waitFor } from "./support.ts";
import { exchange } from "../support/raw-http.ts";

const HOST = "127.88.3.1";
const STATUS_PORT = 8080;
const METRICS_PORT = 8000;
const bridge = "robust-http";

interface RawAnswer {
  /** Status code of the first response, 0 if none. */
  code: number;
  text: string;
  /** The server closed (or reset) the connection. */
  closed: boolean;
}

/** One raw exchange: write `data`, read until the server closes or `timeoutMs`. */
async function raw(port: number, data: string | Buffer, timeoutMs = 1500): Promise<RawAnswer> {
  const { text, closedAfterMs } = await exchange({ host: HOST, port }, data, timeoutMs);
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  return { code: m ? Number(m[1]) : 0, text, closed: closedAfterMs !== null };
}

function countResponses(text: string): Map<number, number> {
  const codes = new Map<number, number>();
  for (const m of text.matchAll(/HTTP\/1\.[01] (\d{3}) /g)) codes.set(Number(m[1]), (codes.get(Number(m[1])) ?? 0) + 1);
  return codes;
}

describe("HTTP input at a running daemon", () => {
  let daemon: Daemon;
  let echo: Awaited<ReturnType<typeof startEcho>>;
  const counted = (server: string, code: number) => metricSum(daemon.metrics.httpRequests, { server, code: String(code) });
  const healthy = async (): Promise<void> => {
    const status = await fetch(`http://${HOST}:${STATUS_PORT}/status`, { signal: AbortSignal.timeout(1000) });
    assert.equal(status.status, 200);
    assert.equal(((await status.json()) as { name: string }).name, bridge);
    const metrics = await fetch(`http://${HOST}:${METRICS_PORT}/metrics`, { signal: AbortSignal.timeout(1000) });
    assert.equal(metrics.status, 200);
    await metrics.text();
    assert.equal(await metricSum(daemon.metrics.tunnelUp, { bridge }), 1, "still probing: tunnel up");
  };

  before(async () => {
    echo = await startEcho(hp("127.88.3.2", 3003));
    daemon = await startDaemon(
      bridgeConfig(
        {
          name: bridge,
          role: "active",
          statusAddr: `${HOST}:${STATUS_PORT}`,
          partnerUrl: `http://${HOST}:1/`,
          tunnels: [{ name: "t0", role: "active", addr: `${HOST}:3003`, probeAddr: "127.88.3.2:3003" }],
        },
        `${HOST}:${METRICS_PORT}`,
      ),
    );
    await waitFor(async () => (await metricSum(daemon.metrics.tunnelUp, { bridge })) === 1, { timeoutMs: 5000, what: "tunnel up" });
  });

  after(async () => {
    await daemon?.stop();
    await echo?.close();
  });

  const binary = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256));
  const malformed: [string, (path: string) => string | Buffer][] = [
    ["garbage request line", () => "GARBAGE\r\n\r\n"],
    ["method only", () => "GET\r\n\r\n"],
    ["unknown HTTP version", (p) => `GET ${p} HTTP/9.9\r\nHost: x\r\n\r\n`],
    ["4 KiB of binary", () => binary],
    ["header line without colon", (p) => `GET ${p} HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n`],
    ["NUL in a header value", (p) => `GET ${p} HTTP/1.1\r\nHost: x\r\nX: a\0b\r\n\r\n`],
    ["negative Content-Length", (p) => `POST ${p} HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n`],
    ["Content-Length with Transfer-Encoding (smuggling)", (p) => `POST ${p} HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`],
    ["100 KB header", (p) => `GET ${p} HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(100_000)}\r\n\r\n`],
    ["3000 headers", (p) => `GET ${p} HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 3000 }, (_, i) => `X-H${i}: v`).join("\r\n")}\r\n\r\n`],
    ["100 KB path", () => `GET /${"p".repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`],
  ];

  for (const [server, port, path] of [["status", STATUS_PORT, "/status"], ["metrics", METRICS_PORT, "/metrics"]] as const) {
    test(`${server} server: malformed and oversized requests get a 4xx (505 for a version) and a close, each counted`, async () => {
      const problems: string[] = [];
      for (const [name, make] of malformed) {
        const before = new Map<number, number>();
        for (const code of [400, 408, 413, 414, 431, 505]) before.set(code, await counted(server, code));
        const answer = await raw(port, make(path));
        if (!((answer.code >= 400 && answer.code < 500) || answer.code === 505)) problems.push(`${name}: answered ${answer.code || "nothing"}`);
        else if ((await counted(server, answer.code)) - (before.get(answer.code) ?? 0) !== 1) problems.push(`${name}: ${answer.code} not counted`);
        if (!answer.closed) problems.push(`${name}: connection left open`);
        await healthy();
      }
      assert.deepEqual(problems, []);
    });
  }

  test("status server: wrong methods get 400 with an empty body (and a status_listener error, as Go), wrong paths 404, all counted", async () => {
    const base = `http://${HOST}:${STATUS_PORT}`;
    const listenerErrors = () => metricSum(daemon.metrics.errors, { scope: "status_listener", bridge });
    const beforeErrors = await listenerErrors();
    const before400 = await counted("status", 400);
    const before404 = await counted("status", 404);
    for (const method of ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]) {
      const res = await fetch(`${base}/status`, { method, signal: AbortSignal.timeout(1000) });
      assert.equal(res.status, 400, method);
      assert.equal(await res.text(), "", `${method}: empty body`);
    }
    for (const path of ["/", "/statusx", "/status/", "//status", "/STATUS", "/status/../metrics", "/%00", "/metrics"]) {
      const answer = await raw(STATUS_PORT, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      assert.equal(answer.code, 404, path);
    }
    assert.equal((await counted("status", 400)) - before400, 6);
    assert.equal((await listenerErrors()) - beforeErrors, 6);
    assert.equal((await counted("status", 404)) - before404, 8);
    const ok = await fetch(`${base}/status?x=1#frag`, { signal: AbortSignal.timeout(1000) });
    assert.equal(ok.status, 200, "a query string is ignored");
    await ok.text();
  });

  test("metrics server: wrong methods get 405 with Allow, wrong paths 404, all counted", async () => {
    const base = `http://${HOST}:${METRICS_PORT}`;
    const before405 = await counted("metrics", 405);
    const before404 = await counted("metrics", 404);
    for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
      const res = await fetch(`${base}/metrics`, { method, body: method === "DELETE" ? null : "x", signal: AbortSignal.timeout(1000) });
      assert.equal(res.status, 405, method);
      assert.match(res.headers.get("allow") ?? "", /GET/);
      await res.text();
    }
    for (const path of ["/status", "/metricsx", "/metrics/", "/.env", "/%2e%2e/etc/passwd"]) {
      const res = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(1000) });
      assert.equal(res.status, 404, path);
      await res.text();
    }
    assert.equal((await counted("metrics", 405)) - before405, 4);
    assert.equal((await counted("metrics", 404)) - before404, 5);
    const head = await fetch(`${base}/metrics`, { method: "HEAD", signal: AbortSignal.timeout(1000) });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), "");
  });

  /** Sends each raw request to both servers; lists answers that are missing or not counted. */
  async function uncounted(requests: (path: string) => [string, string][]): Promise<string[]> {
    const problems: string[] = [];
    for (const [server, port, path] of [["status", STATUS_PORT, "/status"], ["metrics", METRICS_PORT, "/metrics"]] as const) {
      for (const [name, data] of requests(path)) {
        const codes = [400, 404, 405];
        const before = await Promise.all(codes.map((c) => counted(server, c)));
        const answer = await raw(port, data);
        const after = await Promise.all(codes.map((c) => counted(server, c)));
        const i = codes.indexOf(answer.code);
        if (i === -1) problems.push(`${server}, ${name}: answered ${answer.code || "nothing"}`);
        else if (after[i]! - before[i]! !== 1) problems.push(`${server}, ${name}: ${answer.code} not counted`);
      }
    }
    return problems;
  }

  test("an answer cut short by an oversized body is still counted", async () => {
    const problems = await uncounted((path) => [
      ["1 MB body", `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n${"b".repeat(1_000_000)}`],
    ]);
    assert.deepEqual(problems, []);
    await healthy();
  });

  test("a request without Host is answered 400 and counted", async () => {
    assert.deepEqual(await uncounted((path) => [["no Host header", `GET ${path} HTTP/1.1\r\n\r\n`]]), []);
    await healthy();
  });

  test("an oversized request body is not buffered: the server cuts the connection", async () => {
    for (const port of [STATUS_PORT, METRICS_PORT]) {
      const socket = connect({ host: HOST, port });
      const path = port === STATUS_PORT ? "/status" : "/metrics";
      let written = 0;
      const closed = new Promise<void>((resolve) => {
        socket.on("error", () => resolve());
        socket.on("close", () => resolve());
      });
      socket.on("data", () => {});
      await new Promise<void>((resolve) => socket.on("connect", () => resolve()));
      socket.write(`PUT ${path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n`);
      const chunk = `10000\r\n${"z".repeat(0x10000)}\r\n`;
      // An endless chunked body: write until the server hangs up (bounded by 64 MiB).
      let isClosed = false;
      void closed.then(() => (isClosed = true));
      while (!isClosed && written < 64 * 1024 * 1024) {
        if (!socket.write(chunk)) await new Promise<void>((resolve) => { socket.once("drain", resolve); void closed.then(resolve); });
        written += chunk.length;
      }
      await closed;
      socket.destroy();
      assert.ok(written < 64 * 1024 * 1024, `port ${port}: the server read ${written} bytes without hanging up`);
    }
    await healthy();
  });

  test("50 pipelined requests on one connection and 100 concurrent ones (from 10 hosts) are all answered", async () => {
    const pipelined = Array.from({ length: 50 }, (_, i) => `GET /status HTTP/1.1\r\nHost: x\r\n${i === 49 ? "Connection: close\r\n" : ""}\r\n`).join("");
    const answer = await raw(STATUS_PORT, pipelined, 5000);
    assert.equal(countResponses(answer.text).get(200), 50);
    // 10 per host: one host may hold 16 connections per server (http/server.ts).
    const results = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const port = i % 2 ? STATUS_PORT : METRICS_PORT;
        const request = `GET /${i % 2 ? "status" : "metrics"} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`;
        const { text } = await exchange({ host: HOST, port, localAddress: `127.88.3.${10 + (i % 10)}` }, request, 5000);
        return /^HTTP\/1\.1 (\d{3})/.exec(text)?.[1];
      }),
    );
    assert.deepEqual(new Set(results), new Set(["200"]));
  });

  test("slow (slowloris) and idle clients are cut at the strangers' head deadline; others are served meanwhile", { timeout: 60_000 }, async () => {
    // http/server.ts's strangerTimeoutMs (a client never answered 2xx); the daemon does not change it.
    const HEADERS_DEADLINE_MS = 2000;
    const sockets: { socket: Socket; closedAtMs?: number }[] = [];
    const started = performance.now();
    const open = (drip: boolean): void => {
      const socket = connect({ host: HOST, port: sockets.length % 2 ? STATUS_PORT : METRICS_PORT });
      const entry: { socket: Socket; closedAtMs?: number } = { socket };
      sockets.push(entry);
      socket.on("error", () => {});
      socket.on("data", () => {});
      socket.on("close", () => (entry.closedAtMs = performance.now() - started));
      if (!drip) return;
      socket.on("connect", () => {
        socket.write("GET /status HTTP/1.1\r\nHost: x\r\n");
        let n = 0;
        const timer = setInterval(() => {
          if (socket.destroyed) return clearInterval(timer);
          socket.write(`X-${n++}: y\r\n`); // never the blank line that ends the headers
        }, 250);
        socket.on("close", () => clearInterval(timer));
      });
    };
    // 12 per port: under the per-source limit (16), so that none is displaced before its deadline.
    for (let i = 0; i < 24; i++) open(i % 2 === 0);
    try {
      // Meanwhile, legitimate clients are served promptly, again and again.
      let served = 0;
      while (performance.now() - started < HEADERS_DEADLINE_MS - 500) {
        const t0 = performance.now();
        await healthy();
        assert.ok(performance.now() - t0 < 1000, "a legitimate request waited behind the slow ones");
        served++;
        await new Promise((resolve) => setTimeout(resolve, 100)); // pacing the legitimate client, not a wait for a condition
      }
      assert.ok(served >= 5, `served ${served} times`);
      await waitFor(() => sockets.every((s) => s.closedAtMs !== undefined), {
        timeoutMs: HEADERS_DEADLINE_MS + 5000,
        intervalMs: 100,
        what: "slow and idle connections closed by the server",
      });
      const latest = Math.max(...sockets.map((s) => s.closedAtMs!));
      assert.ok(latest <= HEADERS_DEADLINE_MS + 3000, `closed by ${Math.round(latest)} ms`);
      assert.ok(Math.min(...sockets.map((s) => s.closedAtMs!)) >= HEADERS_DEADLINE_MS - 500, "not before the deadline either");
    } finally {
      for (const s of sockets) s.socket.destroy();
    }
    await healthy();
  });
});
