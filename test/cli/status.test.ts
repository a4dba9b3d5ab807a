import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deriveKeys } from "../../src/auth/keys.ts";
import { AUTH_HEADER, responseAuthHeader, verifyRequestAuth } from "../../src/auth/status-auth.ts";
import type { AddressInfo, Socket } from "node:net";
import { formatStatus } from "../../src/cli/status.ts";
import type { BridgeStatus } from "../../src/partner/status-body.ts";
import { describeRun, runVpnham } from "../support/bounded-run.ts";

/**
 * `vpnham status` against a hostile partner (docs/hardening.md, "Terminal and log output"):
 * escape sequences in the body never reach the terminal raw, and an endless or dribbling body
 * ends in bounded time and memory with a clear error.
 */
const hostile = "\x1b]0;owned\x07\x1b[2J\r\nSPLIT BRAIN: forged\x9b\u202e";
const rawControl = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;
const time = "2026-11-21T05:13:57.68286216Z";

const hostileStatus = {
  name: `lft${hostile}`,
  role: "active",
  active: true,
  active_since: time,
  up: true,
  up_since: time,
  interfaces: { [`eth1${hostile}`]: { active: true, active_since: time, up: true, up_since: time } },
  version: `0.1${hostile}`,
  reasons: [`because ${hostile}`],
};

let server: Server;
let base = "";
const sockets = new Set<Socket>();
const secret = "0123456789abcdef-long-enough";
const statusKey = deriveKeys(secret).status;
const dir = mkdtempSync(join(tmpdir(), "vpnham-h-files-status-"));
const routes: Record<string, (res: ServerResponse, req: IncomingMessage) => void> = {
  // As our status server does with `secret` set (src/auth/status-auth.ts).
  "/auth/status": (res, req) => {
    const header = req.headers[AUTH_HEADER];
    if (typeof header !== "string" || !verifyRequestAuth(statusKey, header)) return void res.writeHead(401).end("unauthorized\n");
    const body = JSON.stringify({ ...hostileStatus, name: "authed" });
    res.writeHead(200, { "content-type": "application/json", [AUTH_HEADER]: responseAuthHeader(statusKey, header, body) }).end(body);
  },
  "/hostile/status": (res) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(hostileStatus)),
  "/error/status": (res) => res.writeHead(500).end(`internal ${hostile}`),
  // 1 MiB chunks for ever, no Content-Length: the old client buffered it all.
  "/endless/status": (res) => {
    res.writeHead(200, { "content-type": "application/json" });
    const chunk = Buffer.alloc(1 << 20, "a");
    const more = () => {
      while (!res.destroyed && res.write(chunk));
      if (!res.destroyed) res.once("drain", more);
    };
    more();
  },
  // One byte every 100 ms: small, but never done.
  "/dribble/status": (res) => {
    res.writeHead(200, { "content-type": "application/json" });
    const timer = setInterval(() => (res.destroyed ? clearInterval(timer) : res.write(" ")), 100);
    res.on("close", () => clearInterval(timer));
  },
};

before(async () => {
  server = createServer((req, res) => (routes[req.url ?? ""] ?? ((r: ServerResponse) => r.writeHead(404).end()))(res, req));
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.once("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const status = (...args: string[]) => runVpnham(["status", ...args], { timeoutMs: 20_000, maxRssBytes: 400 * 1024 * 1024 });

describe("vpnham status with a hostile partner", () => {
  test("escape sequences in the body are printed escaped, one table row per tunnel", async () => {
    const r = await status(`${base}/hostile/`);
    assert.equal(r.code, 0, describeRun(r));
    assert.doesNotMatch(r.stdout, rawControl, describeRun(r));
    assert.match(r.stdout, /bridge lft\\x1b\]0;owned\\x07\\x1b\[2J\\r\\nSPLIT BRAIN: forged\\x9b\\u202e \(active\)/);
    assert.match(r.stdout, /because \\x1b/);
    assert.doesNotMatch(r.stdout, /^SPLIT BRAIN/m, "no forged line");
  });

  test("--json output is valid JSON with the controls escaped", async () => {
    const r = await status("--json", `${base}/hostile/`);
    assert.equal(r.code, 0, describeRun(r));
    assert.doesNotMatch(r.stdout, rawControl, describeRun(r));
    assert.equal(JSON.parse(r.stdout).name, hostileStatus.name);
  });

  test("an error body is quoted escaped in the error line", async () => {
    const r = await status(`${base}/error/`);
    assert.equal(r.code, 1, describeRun(r));
    assert.doesNotMatch(r.stderr, rawControl, describeRun(r));
    assert.match(r.stderr, /^error: .*HTTP 500: internal \\x1b/m);
  });

  test("an endless body is cut off at the poller's body cap, quickly and in little memory", async () => {
    const r = await status(`${base}/endless/`);
    assert.equal(r.killed, undefined, describeRun(r));
    assert.equal(r.code, 1, describeRun(r));
    assert.match(r.stderr, /^error: .*\/endless\/status: body exceeds 65536 bytes$/m, describeRun(r));
    assert.ok(r.maxRssBytes < 200 * 1024 * 1024, describeRun(r));
  });

  test("a body that never ends is given up after --timeout", async () => {
    const r = await status("--timeout", "500", `${base}/dribble/`);
    assert.equal(r.killed, undefined, describeRun(r));
    assert.equal(r.code, 1, describeRun(r));
    assert.match(r.stderr, /^error: .*\/dribble\/status: no complete answer within 500 ms$/m, describeRun(r));
  });

  test("with `secret`: the shared secret file authenticates both ways; without it, a clear hint", async () => {
    writeFileSync(join(dir, "good"), `${secret}\n`, { mode: 0o600 });
    writeFileSync(join(dir, "bad"), "another-secret-of-some-length\n", { mode: 0o600 });
    const good = await status("--secret-file", join(dir, "good"), `${base}/auth/`);
    assert.equal(good.code, 0, describeRun(good));
    assert.match(good.stdout, /^bridge authed \(active\)/m);
    const none = await status(`${base}/auth/`);
    assert.match(none.stderr, /^error: .*\/auth\/status: HTTP 401: the bridge wants its secret \(--secret-file\)$/m, describeRun(none));
    const bad = await status("--secret-file", join(dir, "bad"), `${base}/auth/`);
    assert.match(bad.stderr, /^error: .*\/auth\/status: the partner refused our credentials/m, describeRun(bad));
    const device = await status("--secret-file", "/dev/zero", `${base}/auth/`);
    assert.equal(device.killed, undefined, describeRun(device));
    assert.match(device.stderr, /^error: --secret-file \/dev\/zero: cannot read it \(not a regular file: a character device\)$/m, describeRun(device));
  });

  test("--timeout must be a positive number of ms", async () => {
    const r = await status("--timeout", "soon", `${base}/hostile/`);
    assert.equal(r.code, 1, describeRun(r));
    assert.match(r.stderr, /^error: --timeout: soon is not a positive number of milliseconds$/m);
  });
});

test("formatStatus escapes every cell and keeps the columns aligned", () => {
  const lines = formatStatus(hostileStatus as BridgeStatus).split("\n");
  assert.doesNotMatch(lines.join("\n"), rawControl);
  const header = lines[0]!;
  const row = lines.find((l) => l.includes("tunnel eth1"))!;
  assert.equal(row.indexOf("yes"), header.indexOf("active"), "columns line up after escaping");
});
