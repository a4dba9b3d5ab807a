import { connect } from "node:net";
import { startDaemon } from "../../src/daemon/daemon.ts";
import { bridgeConfig, metricSum } from "./support.ts";
import { configureLogger } from "../../src/util/log.ts";
configureLogger({ level: "error" });
function raw(port: number, data: string | Buffer, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const s = connect({ host: "127.88.3.1", port });
    const t0 = performance.now();
    const done = (why: string) => { clearTimeout(timer); s.destroy(); resolve(`[${why} ${Math.round(performance.now()-t0)}ms] ` + Buffer.concat(chunks).toString("latin1").slice(0, 120).replace(/\r\n/g, "|")); };
    const timer = setTimeout(() => done("timeout"), timeoutMs);
    s.on("data", (c) => chunks.push(c));
    s.on("error", (e) => done("error " + e.message));
    s.on("close", () => done("close"));
    s.on("connect", () => s.write(data));
  });
}
const d = await startDaemon(bridgeConfig({ role: "active", statusAddr: "127.88.3.1:8080", partnerUrl: "http://127.88.3.1:1/", tunnels: [{ name: "t0", role: "active", addr: "127.88.3.1:3003", probeAddr: "127.88.3.2:3003" }] }, "127.88.3.1:8000"));
const cases: [string, string | Buffer][] = [
  ["garbage", "GARBAGE\r\n\r\n"],
  ["GET only", "GET\r\n\r\n"],
  ["http/9.9", "GET /status HTTP/9.9\r\nHost: x\r\n\r\n"],
  ["http/1.0", "GET /status HTTP/1.0\r\n\r\n"],
  ["http/0.9", "GET /status\r\n\r\n"],
  ["binary", Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256))],
  ["bad header", "GET /status HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n"],
  ["nul header", "GET /status HTTP/1.1\r\nHost: x\r\nX: a\0b\r\n\r\n"],
  ["neg CL", "POST /status HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n"],
  ["CL+TE", "POST /status HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"],
  ["bad chunk", "POST /status HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nhello\r\n"],
  ["big header", `GET /status HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(100_000)}\r\n\r\n`],
  ["many headers", `GET /status HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 3000 }, (_, i) => `X-H${i}: v`).join("\r\n")}\r\n\r\n`],
  ["long path", `GET /${"p".repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`],
  ["POST", "POST /status HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"],
  ["HEAD", "HEAD /status HTTP/1.1\r\nHost: x\r\n\r\n"],
  ["OPTIONS *", "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n"],
  ["abs form", "GET http://x/status HTTP/1.1\r\nHost: x\r\n\r\n"],
  ["query", "GET /status?x=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"],
  ["big body", `POST /status HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n${"b".repeat(1_000_000)}`],
  ["no host", "GET /status HTTP/1.1\r\n\r\n"],
];
for (const port of [8080, 8000]) for (const [name, data] of cases) console.log(port, name.padEnd(12), await raw(port, port === 8000 && typeof data === "string" ? data.replace("/status", "/metrics") : data));
const vals = (await d.metrics.httpRequests.get()).values.map((v) => `${v.labels.server}/${v.labels.code}=${v.value}`);
console.log(vals.join(" "));
await d.stop();
