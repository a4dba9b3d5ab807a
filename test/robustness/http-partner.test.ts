// A standby bridge whose partner misbehaves in every way we could think of:
// garbage, non-200, huge or endless bodies, wrong name, same role, hangs,
// resets, not HTTP at all. Each poll is bounded by partner_status_timeout and
// counted by outcome; the bridge treats the partner as down (and takes over),
// and as up again as soon as it answers properly. Nothing is fatal.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server, type Socket } from "node:net";
import { startDaemon, type Daemon } from "../../src/daemon/daemon.ts";
import { bridgeConfig, hp, metricSum, startEcho, waitFor } from "./support.ts";

const bridge = "robust-partner";
const PARTNER = { host: "127.88.4.3", port: 8080 };

type Mode =
  | "ok-up"
  | "ok-down"
  | "garbage"
  | "html"
  | "deep-json"
  | "json-null"
  | "empty-200"
  | "http-500-valid-body"
  | "redirect"
  | "huge-declared"
  | "huge-streamed"
  | "endless-slow"
  | "truncated"
  | "status-line-only"
  | "hang"
  | "reset"
  | "not-http"
  | "wrong-name"
  | "same-role";

function statusBody(overrides: Record<string, unknown> = {}): string {
  const t = new Date().toISOString().replace("Z", "000000Z");
  return JSON.stringify({
    name: bridge,
    role: "active",
    active: true,
    active_since: t,
    up: true,
    up_since: t,
    interfaces: { t0: { active: true, active_since: t, up: true, up_since: t } },
    ...overrides,
  });
}

const response = (code: number, body: string, extra = ""): string =>
  `HTTP/1.1 ${code} X\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}Connection: close\r\n\r\n${body}`;

/** A raw TCP partner, so it can break HTTP itself. */
async function startFakePartner() {
  let mode: Mode = "ok-up";
  let open = 0;
  let maxOpen = 0;
  const sockets = new Set<Socket>();
  const answer = (socket: Socket): void => {
    const send = (text: string): void => void socket.end(text);
    switch (mode) {
      case "ok-up": return send(response(200, statusBody()));
      case "ok-down": return send(response(200, statusBody({ up: false, active: false })));
      case "garbage": return send(response(200, "{{{ this is not json"));
      case "html": return send(response(200, "<html><body>It works!</body></html>"));
      case "deep-json": return send(response(200, "[".repeat(30_000) + "]".repeat(30_000)));
      case "json-null": return send(response(200, "null"));
      case "empty-200": return send(response(200, ""));
      case "http-500-valid-body": return send(response(500, statusBody())); // the Go client would accept this
      case "redirect": return send(response(302, "", "Location: http://127.88.4.3:8080/status\r\n"));
      case "huge-declared": return void socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${10 * 1024 * 1024}\r\n\r\n${"x".repeat(1000)}`);
      case "huge-streamed":
      case "endless-slow": {
        socket.write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
        const fast = mode === "huge-streamed";
        const chunk = fast ? `4000\r\n${" ".repeat(0x4000)}\r\n` : "1\r\n \r\n";
        const pump = (): void => {
          if (socket.destroyed) return;
          if (fast) {
            while (!socket.destroyed && socket.write(chunk));
            socket.once("drain", pump);
          } else {
            socket.write(chunk);
            setTimeout(pump, 5);
          }
        };
        return pump();
      }
      case "truncated": return send(`HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n${statusBody().slice(0, 40)}`);
      case "status-line-only": return void socket.write("HTTP/1.1 200 OK\r\n");
      case "hang": return;
      case "reset":
        // RST where the runtime can send one, else a plain close mid-request.
        if (typeof socket.resetAndDestroy === "function") socket.resetAndDestroy();
        else socket.destroy();
        return;
      case "not-http": return send("SSH-2.0-OpenSSH_9.6\r\n\0\0\0garbage\r\n\r\n");
      case "wrong-name": return send(response(200, statusBody({ name: "someone-else" })));
      case "same-role": return send(response(200, statusBody({ role: "standby" })));
    }
  };
  const server: Server = createServer((socket) => {
    open++;
    maxOpen = Math.max(maxOpen, open);
    sockets.add(socket);
    socket.on("error", () => {});
    socket.once("close", () => {
      open--;
      sockets.delete(socket);
    });
    let head = "";
    let answered = false;
    socket.on("data", (chunk: Buffer) => {
      head += chunk.toString("latin1");
      if (!answered && head.includes("\r\n\r\n")) {
        answered = true;
        answer(socket);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(PARTNER.port, PARTNER.host, () => resolve()));
  return {
    set mode(m: Mode) {
      mode = m;
      maxOpen = open;
    },
    get maxOpen() {
      return maxOpen;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

describe("a standby bridge whose partner misbehaves", () => {
  let daemon: Daemon;
  let echo: Awaited<ReturnType<typeof startEcho>>;
  let partner: Awaited<ReturnType<typeof startFakePartner>>;
  const b = { bridge };
  const state = () => daemon.bridges().get(bridge)!.state;
  const polls = (outcome: string) => metricSum(daemon.metrics.partnerPolls, { bridge, outcome });
  const allFailures = async () => (await metricSum(daemon.metrics.partnerPolls, b)) - (await polls("ok"));

  before(async () => {
    echo = await startEcho(hp("127.88.4.2", 3003));
    partner = await startFakePartner();
    daemon = await startDaemon(
      bridgeConfig(
        {
          name: bridge,
          role: "standby",
          statusAddr: "127.88.4.1:8080",
          partnerUrl: `http://${PARTNER.host}:${PARTNER.port}/`,
          probeInterval: "50ms",
          partnerTimeout: "40ms",
          partnerDown: 2,
          partnerUp: 2,
          tunnels: [{ name: "t0", role: "active", addr: "127.88.4.1:3003", probeAddr: "127.88.4.2:3003", thresholdDown: 3, thresholdUp: 2 }],
        },
        "127.88.4.1:8000",
      ),
    );
    await waitFor(async () => (await metricSum(daemon.metrics.partnerUp, b)) === 1 && (await metricSum(daemon.metrics.tunnelUp, b)) === 1, {
      timeoutMs: 5000,
      what: "partner up and tunnel up",
    });
    assert.equal(state().bridgeActive, false, "a standby with a healthy partner stays standby");
  });

  after(async () => {
    await daemon?.stop();
    await partner?.close();
    await echo?.close();
  });

  const cases: [Mode, string][] = [
    ["ok-down", "ok"],
    ["garbage", "invalid_body"],
    ["html", "invalid_body"],
    ["deep-json", "invalid_body"],
    ["json-null", "invalid_body"],
    ["empty-200", "invalid_body"],
    ["http-500-valid-body", "http_status"],
    ["redirect", "http_status"],
    ["huge-declared", "too_large"],
    ["huge-streamed", "too_large"],
    ["endless-slow", "timeout"],
    ["truncated", "connect"],
    ["status-line-only", "timeout"],
    ["hang", "timeout"],
    ["reset", "connect"],
    ["not-http", "connect"],
    ["wrong-name", "name_mismatch"],
    ["same-role", "role_mismatch"],
  ];

  for (const [mode, outcome] of cases) {
    const what = outcome === "ok" ? "polls succeed but report the partner down" : `polls fail as ${outcome}, bounded and counted`;
    test(`partner ${mode}: ${what}; the standby takes over, and steps down when the partner is back`, async () => {
      const expectedBefore = await polls(outcome);
      const failuresBefore = await allFailures();
      const transitionsBefore = await metricSum(daemon.metrics.roleTransitions, { bridge, tunnel: "" });
      partner.mode = mode;
      const t0 = performance.now();
      await waitFor(async () => (await metricSum(daemon.metrics.partnerUp, b)) === 0 && state().bridgeActive, {
        timeoutMs: 3000,
        what: `partner down and the standby active (${mode})`,
      });
      // Standby: partner_status_threshold_down + 1 = 3 bad samples at 50 ms; well inside a second.
      assert.ok(performance.now() - t0 < 1500, `took ${Math.round(performance.now() - t0)} ms`);
      const seen = (await polls(outcome)) - expectedBefore;
      assert.ok(seen >= 3, `${seen} polls counted as ${outcome}`);
      if (outcome !== "ok") {
        const others = (await allFailures()) - failuresBefore - seen;
        assert.ok(others <= 1, `${others} polls counted under another failure outcome`);
      }
      assert.ok(partner.maxOpen <= 4, `the poller held ${partner.maxOpen} connections to a misbehaving partner`);
      assert.equal(await metricSum(daemon.metrics.splitBrain, b), 0);

      partner.mode = "ok-up";
      await waitFor(async () => (await metricSum(daemon.metrics.partnerUp, b)) === 1 && !state().bridgeActive, {
        timeoutMs: 3000,
        what: "partner up again and the standby back to standby",
      });
      // Exactly one activation and one deactivation of the bridge: no flapping.
      assert.equal((await metricSum(daemon.metrics.roleTransitions, { bridge, tunnel: "" })) - transitionsBefore, 2);
      const status = await fetch("http://127.88.4.1:8080/status", { signal: AbortSignal.timeout(1000) });
      assert.equal(status.status, 200);
      await status.text();
    });
  }
});
