import { test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { sendText, startBoundedServer } from "../../src/metrics/http-server.ts";

/** Opens a connection, writes `data`, resolves with [bytes received, ms until the server closed it]. */
function holdOpen(port: number, data: string, giveUpMs: number): Promise<{ text: string; closedAfterMs: number | null }> {
  return new Promise((resolve) => {
    const startMs = Date.now();
    const chunks: Buffer[] = [];
    const socket = connect({ host: "127.0.0.1", port });
    let closedAfterMs: number | null = null;
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ text: Buffer.concat(chunks).toString("latin1"), closedAfterMs });
    };
    const timer = setTimeout(done, giveUpMs);
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", () => {});
    socket.on("close", () => {
      closedAfterMs = Date.now() - startMs;
      done();
    });
    socket.on("connect", () => socket.write(data));
  });
}

test("slow or idle clients are cut off by our own deadlines on every runtime", async () => {
  const codes: number[] = [];
  const server = await startBoundedServer(
    { host: "127.0.0.1", port: 0 },
    {
      name: "test",
      handler: (_req, res) => sendText(res, 200, "ok\n"),
      onResponse: (code) => codes.push(code),
      headersTimeoutMs: 200,
      requestTimeoutMs: 300,
      keepAliveTimeoutMs: 200,
    },
  );
  try {
    const [dripHeaders, nothing, answered] = await Promise.all([
      holdOpen(server.port, "GET / HTTP/1.1\r\nHost: x\r\n", 5000),
      holdOpen(server.port, "", 5000),
      holdOpen(server.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 5000),
    ]);
    assert.ok(dripHeaders.closedAfterMs !== null && dripHeaders.closedAfterMs < 2000, `unfinished headers closed (${dripHeaders.closedAfterMs})`);
    assert.ok(nothing.closedAfterMs !== null && nothing.closedAfterMs < 2000, `silent connection closed (${nothing.closedAfterMs})`);
    assert.match(answered.text, /^HTTP\/1\.1 200/);
    assert.ok(answered.closedAfterMs !== null && answered.closedAfterMs < 3000, `idle keep-alive closed (${answered.closedAfterMs})`);
    assert.deepEqual(codes, [200], "clients that went away are not counted as answered");
  } finally {
    await server.close();
  }
});

test("a throwing handler answers 500 and the server lives on", async () => {
  let calls = 0;
  const server = await startBoundedServer(
    { host: "127.0.0.1", port: 0 },
    {
      name: "test",
      handler: (_req, res) => {
        calls += 1;
        if (calls === 1) throw new Error("boom");
        sendText(res, 200, "ok\n");
      },
    },
  );
  try {
    assert.equal((await fetch(`http://127.0.0.1:${server.port}/`)).status, 500);
    assert.equal((await fetch(`http://127.0.0.1:${server.port}/`)).status, 200);
  } finally {
    await server.close();
    await server.close(); // idempotent
  }
});
