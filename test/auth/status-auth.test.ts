import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { deriveKeys } from "../../src/auth/keys.ts";
import {
  AUTH_HEADER,
  MAX_CLOCK_SKEW_MS,
  requestAuthHeader,
  responseAuthHeader,
  verifyRequestAuth,
  verifyResponseAuth,
} from "../../src/auth/status-auth.ts";
import { createPartnerPoller } from "../../src/partner/poller.ts";
import { startStatusServer } from "../../src/partner/server.ts";
import { formatGoTime, formatStatusBody, type BridgeStatus } from "../../src/partner/status-body.ts";

const keys = deriveKeys("a shared secret of some length");
const other = deriveKeys("a different secret");

const partnerStatus: BridgeStatus = {
  name: "pair",
  role: "active",
  active: true,
  active_since: formatGoTime(Date.now()),
  up: true,
  up_since: formatGoTime(Date.now()),
  interfaces: {},
};

describe("status request and answer MACs", () => {
  test("fresh and right → accepted; stale, future, other key, garbage → refused", () => {
    const now = Date.now();
    assert.ok(verifyRequestAuth(keys.status, requestAuthHeader(keys.status, now), now));
    assert.ok(!verifyRequestAuth(keys.status, requestAuthHeader(keys.status, now - MAX_CLOCK_SKEW_MS - 1), now));
    assert.ok(!verifyRequestAuth(keys.status, requestAuthHeader(keys.status, now + MAX_CLOCK_SKEW_MS + 1), now));
    assert.ok(!verifyRequestAuth(keys.status, requestAuthHeader(other.status, now), now));
    for (const junk of [undefined, "", "t=1", "mac=zz", "t=x;n=y;mac=" + "0".repeat(64), "a".repeat(1000)]) {
      assert.ok(!verifyRequestAuth(keys.status, junk, now), String(junk));
    }
    const header = requestAuthHeader(keys.status, now);
    const tampered = header.replace(/t=\d+/, `t=${now + 1}`);
    assert.ok(!verifyRequestAuth(keys.status, tampered, now));
  });

  test("an answer is bound to its request and its body", () => {
    const req = requestAuthHeader(keys.status);
    const body = formatStatusBody(partnerStatus);
    const res = responseAuthHeader(keys.status, req, body);
    assert.ok(verifyResponseAuth(keys.status, req, res, body));
    assert.ok(!verifyResponseAuth(keys.status, requestAuthHeader(keys.status), res, body), "another request");
    assert.ok(!verifyResponseAuth(keys.status, req, res, body.replace('"up":true', '"up":false')), "another body");
    assert.ok(!verifyResponseAuth(keys.status, req, undefined, body));
  });
});

describe("live: status server and poller with a secret", () => {
  const closers: (() => Promise<void> | void)[] = [];
  after(async () => {
    for (const c of closers.reverse()) await c();
  });

  test("the genuine partner is polled fine; a poller without the secret gets 401", async () => {
    const server = await startStatusServer({ addr: { host: "127.66.3.1", port: 0 }, getStatus: () => partnerStatus, statusKey: keys.status });
    closers.push(() => server.close());
    const url = `http://127.66.3.1:${server.port}/`;
    const good = createPartnerPoller({ url, timeoutMs: 1000, expectedName: "pair", ownRole: "standby", statusKey: keys.status });
    const noKey = createPartnerPoller({ url, timeoutMs: 1000, expectedName: "pair", ownRole: "standby" });
    const wrongKey = createPartnerPoller({ url, timeoutMs: 1000, expectedName: "pair", ownRole: "standby", statusKey: other.status });
    closers.push(() => good.close(), () => noKey.close(), () => wrongKey.close());
    const ok = await good.poll();
    assert.ok(ok.ok, JSON.stringify(ok));
    const refused = await noKey.poll();
    assert.ok(!refused.ok && refused.reason === "http_status" && refused.detail.includes("401"));
    const wrong = await wrongKey.poll();
    assert.ok(!wrong.ok && wrong.reason === "auth");
  });

  test("a spoofed partner can't make itself look up: unsigned and replayed answers are refused", async () => {
    // Capture one genuine exchange...
    const genuine = await startStatusServer({ addr: { host: "127.66.3.2", port: 0 }, getStatus: () => partnerStatus, statusKey: keys.status });
    closers.push(() => genuine.close());
    const captured = await new Promise<{ headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
      http
        .get({ host: "127.66.3.2", port: genuine.port, path: "/status", headers: { [AUTH_HEADER]: requestAuthHeader(keys.status) } }, (res) => {
          let body = "";
          res.on("data", (c) => (body += c));
          res.on("end", () => resolve({ headers: res.headers, body }));
        })
        .on("error", reject);
    });
    assert.ok(typeof captured.headers[AUTH_HEADER] === "string");
    // ...then a spoofer answers every poll with it (replay), or with no MAC at all.
    let replay = true;
    const spoofer = http.createServer((_req, res) => {
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (replay) headers[AUTH_HEADER] = captured.headers[AUTH_HEADER] as string;
      res.writeHead(200, headers);
      res.end(captured.body);
    });
    await new Promise<void>((res) => spoofer.listen(0, "127.66.3.3", () => res()));
    closers.push(() => new Promise<void>((res) => spoofer.close(() => res())));
    const port = (spoofer.address() as { port: number }).port;
    const poller = createPartnerPoller({ url: `http://127.66.3.3:${port}`, timeoutMs: 1000, expectedName: "pair", ownRole: "standby", statusKey: keys.status });
    closers.push(() => poller.close());
    const replayed = await poller.poll();
    assert.ok(!replayed.ok && replayed.reason === "auth", JSON.stringify(replayed));
    replay = false;
    const unsigned = await poller.poll();
    assert.ok(!unsigned.ok && unsigned.reason === "auth", JSON.stringify(unsigned));
  });
});
