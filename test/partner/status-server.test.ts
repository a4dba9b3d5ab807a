import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { startStatusServer } from "../../src/partner/server.ts";
import { formatGoTime, parseStatusBody, ZERO_TIME, type BridgeStatus } from "../../src/partner/status-body.ts";
import { createPartnerPoller } from "../../src/partner/poller.ts";
import { rawRequest, waitFor } from "./support.ts";

function status(): BridgeStatus {
  return {
    name: "vpnham-dev-lft",
    role: "active",
    active: true,
    active_since: formatGoTime(Date.now()),
    up: true,
    up_since: ZERO_TIME,
    interfaces: { eth1: { active: true, active_since: ZERO_TIME, up: true, up_since: ZERO_TIME } },
    partner_up: true,
  };
}

async function withStatusServer(
  fn: (port: number, codes: number[]) => Promise<void>,
  extra: { getStatus?: () => BridgeStatus; onError?: (error: unknown) => void } = {},
): Promise<void> {
  const codes: number[] = [];
  const server = await startStatusServer({
    addr: { host: "127.0.0.1", port: 0 },
    getStatus: extra.getStatus ?? status,
    onRequest: (code) => codes.push(code),
    ...(extra.onError ? { onError: extra.onError } : {}),
  });
  try {
    await fn(server.port, codes);
  } finally {
    await server.close();
  }
}

describe("status server", () => {
  test("GET /status answers 200 compact JSON with Content-Type application/json", async () => {
    await withStatusServer(async (port, codes) => {
      const res = await fetch(`http://127.0.0.1:${port}/status`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), "application/json");
      const text = await res.text();
      assert.ok(!text.trimEnd().includes("\n") && text.startsWith('{"name":"vpnham-dev-lft","role":"active"'));
      const parsed = parseStatusBody(text);
      assert.ok(parsed.ok);
      assert.equal(parsed.status.partner_up, true);
      assert.equal((await fetch(`http://127.0.0.1:${port}/status?verbose=1`)).status, 200);
      await waitFor(() => codes.length === 2, 2000, "responses counted");
      assert.deepEqual(codes, [200, 200]);
    });
  });

  test("other methods on /status → 400 with an empty body, counted as status_listener errors (as Go); other paths → 404", async () => {
    const errors: unknown[] = [];
    await withStatusServer(async (port, codes) => {
      for (const method of ["POST", "PUT", "DELETE"]) {
        const res = await fetch(`http://127.0.0.1:${port}/status`, { method, body: method === "DELETE" ? null : "{}" });
        assert.equal(res.status, 400, method);
        assert.equal(await res.text(), "", `${method} body empty`);
      }
      for (const path of ["/", "/status/", "/statusx", "/metrics"]) {
        assert.equal((await fetch(`http://127.0.0.1:${port}${path}`)).status, 404, path);
      }
      await waitFor(() => codes.length === 7, 2000, "responses counted");
      assert.deepEqual(codes, [400, 400, 400, 404, 404, 404, 404]);
      assert.deepEqual(
        errors.map((e) => (e as Error).message),
        ["unexpected method POST on /status", "unexpected method PUT on /status", "unexpected method DELETE on /status"],
      );
    }, { onError: (error) => errors.push(error) });
  });

  test("our poller reads our server (and a Go poller would: same JSON)", async () => {
    await withStatusServer(async (port) => {
      const poller = createPartnerPoller({ url: `http://127.0.0.1:${port}/`, timeoutMs: 1000, expectedName: "vpnham-dev-lft", ownRole: "standby" });
      try {
        const outcome = await poller.poll();
        assert.ok(outcome.ok, outcome.ok ? "" : outcome.detail);
        assert.equal(outcome.status.interfaces.eth1?.up, true);
      } finally {
        poller.close();
      }
    });
  });

  test("a 20 KiB header, garbage and a huge body do not crash it", async () => {
    await withStatusServer(async (port) => {
      const big = await rawRequest(port, `GET /status HTTP/1.1\r\nHost: x\r\nX-Pad: ${"p".repeat(20 * 1024)}\r\n\r\n`);
      assert.ok(big === "" || /^HTTP\/1\.1 4\d\d/.test(big), `refused: ${big.slice(0, 40)}`);
      const garbage = await rawRequest(port, "\x16\x03\x01 tls hello?\r\n\r\n");
      assert.ok(garbage === "" || /^HTTP\/1\.1 400/.test(garbage));
      await rawRequest(port, `GET /status HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n${"z".repeat(200_000)}`);
      const ok = await rawRequest(port, "GET /status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      assert.match(ok, /^HTTP\/1\.1 200/);
      assert.match(ok, /"name":"vpnham-dev-lft"/);
    });
  });

  test("a failing getStatus answers 500, is reported as an error, and the server lives on", async () => {
    let fail = true;
    const errors: unknown[] = [];
    await withStatusServer(
      async (port) => {
        assert.equal((await fetch(`http://127.0.0.1:${port}/status`)).status, 500);
        fail = false;
        assert.equal((await fetch(`http://127.0.0.1:${port}/status`)).status, 200);
        assert.deepEqual(
          errors.map((e) => (e as Error).message),
          ["state unavailable"],
        );
      },
      {
        onError: (error) => errors.push(error),
        getStatus: () => {
          if (fail) throw new Error("state unavailable");
          return status();
        },
      },
    );
  });
});
