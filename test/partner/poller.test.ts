import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { ServerResponse } from "node:http";
import { buildStatus, initialSinceTimes } from "../../src/bridge/status.ts";
import { createPartnerPoller, statusBodyLimit, statusUrl, type PartnerPollerOptions, type PollOutcome } from "../../src/partner/poller.ts";
import { initialRoles } from "../../src/roles/roles.ts";
import { startTestServer, statusJson, type TestServer } from "./support.ts";

const timeoutMs = 300;
// Generous: a loaded CI machine may be slow, but "promptly" still means well under a second more.
const slackMs = 700;

async function withPartner(
  handler: Parameters<typeof startTestServer>[0],
  fn: (server: TestServer, poll: (extra?: Partial<PartnerPollerOptions>) => Promise<PollOutcome>) => Promise<void>,
): Promise<void> {
  const server = await startTestServer(handler);
  const pollers: ReturnType<typeof createPartnerPoller>[] = [];
  try {
    await fn(server, (extra = {}) => {
      const poller = createPartnerPoller({
        url: `http://127.0.0.1:${server.port}/`,
        timeoutMs,
        expectedName: "vpnham-dev-lft",
        ownRole: "active",
        ...extra,
      });
      pollers.push(poller);
      return poller.poll();
    });
  } finally {
    for (const p of pollers) p.close();
    await server.close();
  }
}

function answer(res: ServerResponse, code: number, body: string, contentType = "text/plain; charset=utf-8"): void {
  // Go's status server sends text/plain; the poller must not care.
  res.writeHead(code, { "Content-Type": contentType, "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}

function assertFailed(outcome: PollOutcome, reason: string): void {
  assert.equal(outcome.ok, false, `expected ${reason}, got ok`);
  if (!outcome.ok) {
    assert.equal(outcome.reason, reason, outcome.detail);
    assert.ok(outcome.detail.length > 0);
  }
}

describe("partner poller", () => {
  test("200 with a valid body is ok; Accept and extra headers are sent", async () => {
    await withPartner(
      (_req, res) => answer(res, 200, statusJson()),
      async (server, poll) => {
        const outcome = await poll({ headers: { Authorization: "Bearer s3cret" }, localAddress: "127.0.0.1" });
        assert.ok(outcome.ok, outcome.ok ? "" : outcome.detail);
        assert.equal(outcome.status.name, "vpnham-dev-lft");
        assert.equal(outcome.status.up, true);
        const [req] = server.requests;
        assert.equal(req?.url, "/status");
        assert.equal(req?.headers.accept, "application/json");
        assert.equal(req?.headers.authorization, "Bearer s3cret");
        assert.match(req?.remoteAddress ?? "", /127\.0\.0\.1$/);
      },
    );
  });

  test("the source address is looked up for each new connection (the interface may get it late)", async () => {
    await withPartner(
      (_req, res) => {
        res.setHeader("Connection", "close"); // a new connection for every poll
        answer(res, 200, statusJson());
      },
      async (server) => {
        let lookups = 0;
        const source = (): string | undefined => (lookups++ === 0 ? undefined : "127.0.0.1");
        const poller = createPartnerPoller({ url: `http://127.0.0.1:${server.port}/`, timeoutMs, expectedName: "vpnham-dev-lft", ownRole: "active", localAddress: source });
        try {
          assert.ok((await poller.poll()).ok);
          assert.ok((await poller.poll()).ok);
          assert.ok(lookups >= 2, `looked up ${lookups} time(s)`);
          assert.match(server.requests.at(-1)?.remoteAddress ?? "", /127\.0\.0\.1$/);
        } finally {
          poller.close();
        }
      },
    );
  });

  test("partner_url with and without a trailing slash both request /status", async () => {
    assert.equal(statusUrl("http://h:8080").href, "http://h:8080/status");
    assert.equal(statusUrl("http://h:8080/").href, "http://h:8080/status");
    assert.equal(statusUrl("http://h:8080/vpn/").href, "http://h:8080/vpn/status");
    assert.equal(statusUrl("http://h:8080/status").href, "http://h:8080/status", "never /status/status");
    assert.throws(() => statusUrl("ftp://h/"), /http/);
    await withPartner(
      (_req, res) => answer(res, 200, statusJson()),
      async (server, poll) => {
        assert.ok((await poll({ url: `http://127.0.0.1:${server.port}` })).ok);
        assert.ok((await poll({ url: `http://127.0.0.1:${server.port}/` })).ok);
        assert.deepEqual(
          server.requests.map((r) => r.url),
          ["/status", "/status"],
        );
      },
    );
  });

  test("a non-200 answer fails even with a valid JSON body (Go would accept it)", async () => {
    await withPartner(
      (_req, res) => answer(res, 503, statusJson(), "application/json"),
      async (_server, poll) => {
        const outcome = await poll();
        assertFailed(outcome, "http_status");
        if (!outcome.ok) assert.match(outcome.detail, /503/);
      },
    );
  });

  test("garbage and invalid JSON fail as invalid_body", async () => {
    const bodies = ["<html>hello</html>", "", '{"name":"vpnham-dev-lft"}', statusJson({ role: "primary" })];
    let i = 0;
    await withPartner(
      (_req, res) => answer(res, 200, bodies[i++ % bodies.length]!),
      async (_server, poll) => {
        for (let n = 0; n < bodies.length; n++) assertFailed(await poll(), "invalid_body");
      },
    );
  });

  test("a different bridge name or the same role fails loudly with its own reason", async () => {
    await withPartner(
      (req, res) => answer(res, 200, req.headers["x-case"] === "name" ? statusJson({ name: "other-bridge" }) : statusJson({ role: "active" })),
      async (_server, poll) => {
        const name = await poll({ headers: { "X-Case": "name" } });
        assertFailed(name, "name_mismatch");
        if (!name.ok) assert.match(name.detail, /other-bridge/);
        assertFailed(await poll({ headers: { "X-Case": "role" } }), "role_mismatch");
        // Same partner, other point of view: a standby bridge accepts an active partner.
        assert.ok((await poll({ headers: { "X-Case": "role" }, ownRole: "standby" })).ok);
      },
    );
  });

  test("a declared huge body fails as too_large without reading it", async () => {
    await withPartner(
      (_req, res) => {
        res.writeHead(200, { "Content-Length": 50_000_000 });
        res.write("x".repeat(1000));
      },
      async (_server, poll) => {
        const startMs = Date.now();
        assertFailed(await poll(), "too_large");
        assert.ok(Date.now() - startMs < timeoutMs, "decided before the timeout");
      },
    );
  });

  test("an endless fast body fails as too_large promptly", async () => {
    await withPartner(
      (_req, res) => {
        res.writeHead(200, { "Content-Type": "application/json" });
        const chunk = "y".repeat(16 * 1024);
        const pump = (): void => {
          while (!res.destroyed && res.write(chunk)) {
            // fill the socket buffer
          }
          if (!res.destroyed) res.once("drain", pump);
        };
        res.on("error", () => {});
        pump();
      },
      async (_server, poll) => {
        const startMs = Date.now();
        const outcome = await poll({ maxBodyBytes: 64 * 1024 });
        assert.equal(outcome.ok, false);
        if (!outcome.ok) assert.ok(outcome.reason === "too_large", `${outcome.reason}: ${outcome.detail}`);
        assert.ok(Date.now() - startMs < timeoutMs + slackMs);
      },
    );
  });

  test("a body that trickles for ever fails as timeout within the one deadline", async () => {
    const timers = new Set<ReturnType<typeof setInterval>>();
    await withPartner(
      (_req, res) => {
        res.writeHead(200, { "Content-Type": "application/json" });
        res.write("{");
        const timer = setInterval(() => {
          if (res.destroyed) clearInterval(timer);
          else res.write(" ");
        }, 20);
        timers.add(timer);
        res.on("close", () => clearInterval(timer));
        res.on("error", () => {});
      },
      async (_server, poll) => {
        const startMs = Date.now();
        assertFailed(await poll(), "timeout");
        const elapsedMs = Date.now() - startMs;
        assert.ok(elapsedMs >= timeoutMs - 20 && elapsedMs < timeoutMs + slackMs, `took ${elapsedMs} ms`);
      },
    );
    for (const timer of timers) clearInterval(timer);
  });

  test("a partner that accepts but never answers times out within timeoutMs + slack", async () => {
    await withPartner(
      () => {
        // never answer
      },
      async (_server, poll) => {
        const startMs = Date.now();
        assertFailed(await poll(), "timeout");
        const elapsedMs = Date.now() - startMs;
        assert.ok(elapsedMs >= timeoutMs - 20 && elapsedMs < timeoutMs + slackMs, `took ${elapsedMs} ms`);
      },
    );
  });

  test("nobody listening fails as connect", async () => {
    const server = await startTestServer(() => {});
    const port = server.port;
    await server.close();
    const poller = createPartnerPoller({ url: `http://127.0.0.1:${port}/`, timeoutMs: 2000, expectedName: "x", ownRole: "active" });
    try {
      const startMs = Date.now();
      assertFailed(await poller.poll(), "connect");
      assert.ok(Date.now() - startMs < 2000, "refused, not timed out");
    } finally {
      poller.close();
    }
  });

  test("keep-alive: consecutive polls reuse one connection", async () => {
    let n = 0;
    // The third answer is a complete 503: a failed poll that still leaves the connection reusable.
    const server = await startTestServer((_req, res) => (n++ === 2 ? answer(res, 503, "busy") : answer(res, 200, statusJson())));
    const poller = createPartnerPoller({ url: `http://127.0.0.1:${server.port}`, timeoutMs: 1000, expectedName: "vpnham-dev-lft", ownRole: "active" });
    try {
      const outcomes = [];
      for (let i = 0; i < 5; i++) outcomes.push((await poller.poll()).ok);
      assert.deepEqual(outcomes, [true, true, false, true, true]);
      assert.equal(server.requests.length, 5);
      assert.equal(server.connections(), 1, "one TCP connection for five polls");
    } finally {
      poller.close();
      await server.close();
    }
  });

  test("a partner with 2 000 tunnels fits the limit for 2 000 tunnels, not the flat 64 KiB", async () => {
    // Interface names of 15 bytes, Linux's longest: the largest body such a bridge sends.
    const names = Array.from({ length: 2000 }, (_, i) => `wg-partner${String(i).padStart(5, "0")}`);
    const roles = { ...initialRoles({ role: "standby", tunnels: names, configuredActiveTunnel: names[0]! }), tunnels: names.map((name) => ({ name, up: true, known: true, upSinceMs: 0 })) };
    const body = JSON.stringify(
      buildStatus("vpnham-dev-lft", roles, initialSinceTimes(names, Date.now()), { partnerUp: true, partnerDecided: true, splitBrain: false, lastReasons: new Map(), version: "test" }),
    );
    assert.ok(body.length > 64 * 1024, `${body.length} bytes`);
    await withPartner(
      (_req, res) => answer(res, 200, body, "application/json"),
      async (_server, poll) => {
        const outcome = await poll({ timeoutMs: 10_000, maxBodyBytes: statusBodyLimit(names.length) });
        assert.ok(outcome.ok, outcome.ok ? "" : outcome.detail);
        assert.equal(Object.keys(outcome.status.interfaces).length, names.length);
        assertFailed(await poll({ timeoutMs: 10_000 }), "too_large");
      },
    );
  });

  test("close() settles a poll in flight and later polls fail at once", async () => {
    const server = await startTestServer(() => {});
    const poller = createPartnerPoller({ url: `http://127.0.0.1:${server.port}`, timeoutMs: 5000, expectedName: "x", ownRole: "active" });
    try {
      const pending = poller.poll();
      poller.close();
      assertFailed(await pending, "connect");
      assertFailed(await poller.poll(), "connect");
    } finally {
      await server.close();
    }
  });
});
