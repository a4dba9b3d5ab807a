/**
 * In-namespace helper for the e2e suite: `ip netns exec <ns> bun test/e2e/agent.ts`.
 * The root namespace cannot reach namespace addresses, so the test talks to one
 * long-lived agent per namespace over stdin/stdout (JSON lines) instead of
 * spawning a client per request. Exits when stdin closes (the test went away).
 *
 * Requests: {id, op, ...}; answers: {id, ok, ...} or {id, ok:false, error}.
 *   http  {host, port, path, method?, timeoutMs}          → {status, body}
 *   udp   {host, port, payloads: base64[]}                → {sent}
 *   tcp   {host, port, data: base64, timeoutMs}           → {response} (first 200 bytes, latin1)
 */
import dgram from "node:dgram";
import * as http from "node:http";
import net from "node:net";
import { createInterface } from "node:readline";

type Request = { id: number; op: string; [key: string]: unknown };

const str = (v: unknown): string => String(v ?? "");
const num = (v: unknown, fallback: number): number => (typeof v === "number" && Number.isFinite(v) ? v : fallback);

function httpRequest(r: Request): Promise<object> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (answer: object): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => finish({ ok: false, error: "timeout" }), num(r.timeoutMs, 2000));
    const req = http.request(
      { host: str(r.host), port: num(r.port, 0), path: str(r.path) || "/", method: str(r.method) || "GET", agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => finish({ ok: true, status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", (e) => finish({ ok: false, error: e.message }));
      },
    );
    req.on("error", (e) => finish({ ok: false, error: e.message }));
    req.end();
  });
}

function udpSend(r: Request): Promise<object> {
  return new Promise((resolve) => {
    const payloads = (Array.isArray(r.payloads) ? r.payloads : []).map((p) => Buffer.from(str(p), "base64"));
    const socket = dgram.createSocket("udp4");
    let pending = payloads.length;
    let sent = 0;
    const close = (): void => {
      try {
        socket.close();
      } catch {
        /* already closed */
      }
      resolve({ ok: true, sent });
    };
    socket.on("error", () => {});
    if (pending === 0) return close();
    for (const payload of payloads) {
      socket.send(payload, num(r.port, 0), str(r.host), (error) => {
        if (!error) sent++;
        if (--pending === 0) close();
      });
    }
  });
}

function tcpJunk(r: Request): Promise<object> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (answer: object): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => finish({ ok: true, response: Buffer.concat(chunks).toString("latin1").slice(0, 200) }), num(r.timeoutMs, 1000));
    const socket = net.connect({ host: str(r.host), port: num(r.port, 0) }, () => {
      socket.write(Buffer.from(str(r.data), "base64"));
    });
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("end", () => finish({ ok: true, response: Buffer.concat(chunks).toString("latin1").slice(0, 200) }));
    socket.on("close", () => finish({ ok: true, response: Buffer.concat(chunks).toString("latin1").slice(0, 200) }));
    socket.on("error", (e) => finish({ ok: false, error: e.message }));
  });
}

async function handle(line: string): Promise<void> {
  let r: Request;
  try {
    r = JSON.parse(line) as Request;
  } catch {
    return;
  }
  let answer: object;
  try {
    if (r.op === "http") answer = await httpRequest(r);
    else if (r.op === "udp") answer = await udpSend(r);
    else if (r.op === "tcp") answer = await tcpJunk(r);
    else answer = { ok: false, error: `unknown op ${r.op}` };
  } catch (error) {
    answer = { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
  process.stdout.write(JSON.stringify({ id: r.id, ...answer }) + "\n");
}

const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => void handle(line));
lines.on("close", () => process.exit(0));
process.stdout.write(JSON.stringify({ id: 0, ok: true, ready: true }) + "\n");
