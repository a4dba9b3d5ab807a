// The HTTP server's connection limits (docs/hardening.md, "Connections and floods on the HTTP
// ports"): displacing idle strangers, the per-source limit, the reserved (partner's) address,
// and the strangers' short head deadline.
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { exchange as exchangeWith, statusCodes } from "../support/raw-http.ts";
import { waitFor } from "../../src/util/wait.ts";
import { exchange, HOST, ok, withServer } from "./support.ts";

test("over the cap, a newcomer displaces the idlest stranger; only when every connection is being served does it get 503; a reserved address still gets in", async () => {
  const shed: string[] = [];
  let release: (() => void) | undefined;
  const hung = new Promise<void>((resolve) => (release = resolve));
  let hanging = 0;
  await withServer(
    async (req) => {
      if (req.path === "/hang") {
        hanging++;
        await hung;
      }
      return ok(req);
    },
    async (server, codes) => {
      const open = (): Socket => {
        const socket = connect({ host: HOST, port: server.port });
        socket.on("error", () => {});
        socket.on("data", () => {});
        return socket;
      };
      const closed = (socket: Socket): Promise<unknown> => new Promise((resolve) => (socket.destroyed ? resolve(undefined) : socket.once("close", resolve)));
      // Two keep-alive connections, answered once each (so the server surely has them), then idle.
      const idle: Socket[] = [];
      for (const socket of [open(), open()]) {
        socket.write("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
        await new Promise((resolve) => socket.once("data", resolve));
        idle.push(socket);
      }
      const third = await exchange(server.port, "GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      assert.deepEqual(statusCodes(third.text), [200]);
      await closed(idle[0]!); // the idlest (the first) made room
      assert.deepEqual(shed, ["evicted total"]);
      assert.equal(idle[1]!.destroyed, false);

      // Two connections being served (their handler hangs), each displacing an idle one.
      const busy: Socket[] = [];
      for (const n of [1, 2]) {
        const socket = open();
        socket.write("GET /hang HTTP/1.1\r\nHost: x\r\n\r\n");
        busy.push(socket);
        await waitFor(() => hanging === n, { timeoutMs: 2000, what: `handler ${n} running` });
      }
      const refused = await exchange(server.port, "GET /b HTTP/1.1\r\nHost: x\r\n\r\n");
      assert.deepEqual(statusCodes(refused.text), [503]);
      assert.equal(shed.at(-1), "refused total");
      assert.ok(codes.includes(503));
      const partner = await exchangeWith({ host: HOST, port: server.port, localAddress: "127.0.0.2" }, "GET /p HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      assert.deepEqual(statusCodes(partner.text), [200], "a reserved address has capacity of its own");
      release!();
      for (const socket of [...idle, ...busy]) socket.destroy();
    },
    { maxConnections: 2, isReserved: (address) => address === "127.0.0.2", onShed: (action, limit) => shed.push(`${action} ${limit}`) },
  );
});

test("one address holds at most maxConnectionsPerSource: its own idlest answered connection goes, others are not touched", async () => {
  const shed: string[] = [];
  await withServer(
    ok,
    async (server) => {
      // Keep-alive connections, each answered once (so the server surely has it), then idle.
      const opened = async (socket: Socket): Promise<Socket> => {
        socket.on("error", () => {});
        socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        await new Promise((resolve) => socket.once("data", resolve));
        socket.on("data", () => {});
        return socket;
      };
      const fromOther = await opened(connect({ host: HOST, port: server.port, localAddress: "127.0.0.2" }));
      const own: Socket[] = [];
      for (let i = 0; i < 3; i++) own.push(await opened(connect({ host: HOST, port: server.port })));
      await waitFor(() => own[0]!.destroyed || own[0]!.readyState === "closed", { timeoutMs: 2000, what: "the first from 127.0.0.1 closed" });
      const answer = await exchange(server.port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      assert.deepEqual(statusCodes(answer.text), [200]);
      assert.deepEqual(shed, ["evicted per_source", "evicted per_source"]);
      assert.equal(fromOther.destroyed, false, "another address's connection stays");
      for (const socket of [fromOther, ...own]) socket.destroy();
    },
    { maxConnectionsPerSource: 2, onShed: (action, limit) => shed.push(`${action} ${limit}`) },
  );
});

test("a burst from one address beyond its limit: every request gets an answer, 200 or 503, never a reset", async () => {
  await withServer(
    async (req) => {
      await new Promise((resolve) => setTimeout(resolve, 20)); // long enough for the burst to pile up
      return ok(req);
    },
    async (server) => {
      const answers = await Promise.all(Array.from({ length: 40 }, () => exchange(server.port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")));
      const codes = answers.map((answer) => statusCodes(answer.text));
      assert.ok(codes.every((c) => c.length === 1 && (c[0] === 200 || c[0] === 503)), JSON.stringify(codes));
      assert.ok(codes.filter((c) => c[0] === 200).length >= 8, JSON.stringify(codes));
    },
    { maxConnectionsPerSource: 8 },
  );
});

test("a stranger gets strangerTimeoutMs for its head; once answered 2xx, or from a reserved address, the full deadlines", async () => {
  await withServer(
    ok,
    async (server) => {
      const [stranger, known, reserved] = await Promise.all([
        exchange(server.port, "", 3000),
        exchange(server.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 1500, 1),
        exchangeWith({ host: HOST, port: server.port, localAddress: "127.0.0.2" }, "", 1500),
      ]);
      assert.ok(stranger.closedAfterMs !== null && stranger.closedAfterMs < 1000, `a silent stranger closed at ${stranger.closedAfterMs} ms`);
      assert.equal(known.closedAfterMs, null, "a client answered 200 is kept");
      assert.equal(reserved.closedAfterMs, null, "the reserved address is kept");
    },
    { strangerTimeoutMs: 300, isReserved: (address) => address === "127.0.0.2" },
  );
});
