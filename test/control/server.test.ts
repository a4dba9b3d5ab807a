/**
 * The control socket under attack (docs/hardening.md): bad requests, endless lines, a flood
 * of clients, idle clients, a hung handler, stale and foreign files at the path. Each gets a
 * clear answer and is counted; none blocks the others.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { createConnection, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { controlRequest } from "../../src/control/client.ts";
import { startControlServer, type ControlOutcome, type ControlServer } from "../../src/control/server.ts";

const dir = mkdtempSync(join(tmpdir(), "vpnham-control-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Send raw bytes, collect what comes back until the server closes or `ms` pass. */
function raw(path: string, data: string, ms = 1000): Promise<string> {
  return new Promise((resolve) => {
    const socket = createConnection(path);
    let got = "";
    const done = () => {
      socket.destroy();
      resolve(got);
    };
    socket.setEncoding("utf8");
    socket.on("data", (c: string) => (got += c));
    socket.on("error", done);
    socket.on("close", done);
    socket.once("connect", () => socket.write(data));
    setTimeout(done, ms);
  });
}

describe("control server", () => {
  let server: ControlServer;
  const counted: [string, ControlOutcome][] = [];
  let hang = false;
  const path = join(dir, "run", "vpnham.sock");
  before(async () => {
    server = await startControlServer({
      path,
      handlers: {
        status: async () => ({ bridges: { b: { active: true } } }),
        reload: () => (hang ? new Promise(() => {}) : Promise.reject(new Error("bridges.b.role: nope"))),
        // A job's command (control/registry.ts): it gets the request's args.
        echo: async (args) => ({ got: args }),
      },
      onRequest: (command, outcome) => counted.push([command, outcome]),
      maxClients: 8,
      idleTimeoutMs: 500,
      handlerTimeoutMs: 300,
    });
  });
  after(() => server.close());

  test("the socket is mode 0600", () => {
    assert.equal(statSync(path).mode & 0o777, 0o600);
  });

  test("status answers; errors of a handler come back as ok:false", async () => {
    assert.deepEqual(await controlRequest(path, "status"), { id: 1, ok: true, result: { bridges: { b: { active: true } } } });
    assert.deepEqual(await controlRequest(path, "reload"), { id: 1, ok: false, error: "bridges.b.role: nope" });
  });

  test("a job's command gets the request's args ({} without any); prototype names are unknown commands", async () => {
    assert.deepEqual(await controlRequest(path, "echo", 5000, { target: "web" }), { id: 1, ok: true, result: { got: { target: "web" } } });
    assert.deepEqual(await controlRequest(path, "echo"), { id: 1, ok: true, result: { got: {} } });
    assert.deepEqual(await controlRequest(path, "toString"), { id: 1, ok: false, error: "command must be one of status, reload, echo" });
  });

  test("pipelined requests on one connection are answered in order; bad ones get an error and are counted", async () => {
    const before = counted.length;
    const out = await raw(path, '{"id":1,"command":"status"}\nnot json\n{"id":3,"command":"shutdown"}\n{"id":4,"command":"status"}\n', 500);
    const answers = out.trim().split("\n").map((l) => JSON.parse(l) as { id: unknown; ok: boolean });
    assert.deepEqual(answers.map((a) => [a.id, a.ok]), [[1, true], [null, false], [3, false], [4, true]]);
    assert.deepEqual(counted.slice(before).map(([, o]) => o), ["ok", "bad_request", "bad_request", "ok"]);
  });

  test("an endless line is refused at the cap and the connection closed", async () => {
    const before = counted.length;
    const out = await raw(path, "x".repeat(200 * 1024), 2000);
    assert.match(out, /request line too long/);
    assert.deepEqual(counted.slice(before), [["invalid", "too_large"]]);
  });

  test("a flood of idle clients: extras are refused at once, and idle ones are cut after the idle timeout", async () => {
    const idle: Socket[] = [];
    for (let i = 0; i < 8; i++) {
      const s = createConnection(path);
      s.on("error", () => {});
      idle.push(s);
      await new Promise((r) => s.once("connect", r));
    }
    const refused = await raw(path, '{"command":"status"}\n', 500);
    assert.match(refused, /too many clients/);
    // After the idle timeout the server has room again.
    await new Promise((r) => setTimeout(r, 700));
    assert.equal((await controlRequest(path, "status")).ok, true);
    for (const s of idle) s.destroy();
  });

  test("a hung handler times out with a clear error, and other clients are served meanwhile", async () => {
    hang = true;
    try {
      const slow = controlRequest(path, "reload");
      assert.equal((await controlRequest(path, "status")).ok, true, "status while reload hangs");
      assert.deepEqual(await slow, { id: 1, ok: false, error: "reload timed out after 300 ms" });
    } finally {
      hang = false;
    }
  });
});

describe("control socket path", () => {
  const handlers = { status: async () => ({}), reload: async () => ({}) };

  test("a stale socket file (nobody listening) is replaced", async () => {
    const path = join(dir, "stale.sock");
    // A socket file nobody listens on, the way a killed daemon leaves it.
    const r = spawnSync("python3", ["-c", `import socket; socket.socket(socket.AF_UNIX).bind(${JSON.stringify(path)})`]);
    assert.equal(r.status, 0, String(r.stderr));
    const server = await startControlServer({ path, handlers });
    assert.equal((await controlRequest(path, "status")).ok, true);
    await server.close();
  });

  test("a socket a live process answers on is not taken over", async () => {
    const path = join(dir, "live.sock");
    const first = await startControlServer({ path, handlers });
    await assert.rejects(startControlServer({ path, handlers }), /another process is listening/);
    assert.equal((await controlRequest(path, "status")).ok, true, "the first one still serves");
    await first.close();
  });

  test("a path that is not a socket is never removed", async () => {
    const path = join(dir, "precious");
    writeFileSync(path, "keep me");
    await assert.rejects(startControlServer({ path, handlers }), /exists and is not a socket/);
    assert.equal(statSync(path).isFile(), true);
  });

  test("a client gets a clear error when nothing listens", async () => {
    await assert.rejects(controlRequest(join(dir, "nothing.sock"), "status"), /cannot reach the daemon's control socket/);
  });
});
