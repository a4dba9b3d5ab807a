import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { AUTH_HEADER, requestAuthHeader, responseAuthHeader } from "../../src/auth/status-auth.ts";
import { deriveKeys } from "../../src/auth/keys.ts";
import { createPeerClient, verdictsUrl } from "../../src/dns/peer-client.ts";
import { verdictsKey, verdictsResponse } from "../../src/dns/peers.ts";
import { formatVerdictsBody, parseVerdictsBody, VERDICTS_PATH } from "../../src/dns/verdicts-body.ts";

const key = verdictsKey("a-shared-secret-of-the-agents");
const NOW = 1_800_000_000_000;
const body = () => formatVerdictsBody("b", [["192.0.2.1", "up"], ["2001:db8::1", "down"]]);

describe("verdicts body (docs/dns-failover.md §Peers)", () => {
  test("round trip; addresses canonical", () => {
    const parsed = parseVerdictsBody(JSON.stringify({ agent: "b", verdicts: { "192.0.2.1": "up", "2001:DB8::0:1": "down" } }));
    assert.ok(parsed.ok);
    assert.equal(parsed.body.agent, "b");
    assert.deepEqual([...parsed.body.verdicts], [["192.0.2.1", false], ["2001:db8::1", true]]);
    assert.deepEqual(parseVerdictsBody(body()).ok, true);
  });

  test("anything else is refused whole", () => {
    const bad: Array<[string, RegExp]> = [
      ["", /not JSON/],
      ["[]", /not a JSON object/],
      ['{"agent":"b"}', /verdicts is not an object/],
      ['{"agent":"","verdicts":{}}', /agent is not a name/],
      ['{"agent":"b","verdicts":{},"extra":1}', /unknown key "extra"/],
      ['{"agent":"b","verdicts":{"vpn.example.com":"up"}}', /is not an address/],
      ['{"agent":"b","verdicts":{"192.0.2.1":true}}', /not "up" or "down"/],
      ['{"agent":"b","verdicts":{"192.0.2.1":"maybe"}}', /not "up" or "down"/],
    ];
    for (const [text, reason] of bad) {
      const parsed = parseVerdictsBody(text);
      assert.ok(!parsed.ok, text);
      assert.match(parsed.reason, reason, text);
    }
  });
});

describe("GET /dns/verdicts, the server side", () => {
  const request = (headers: Record<string, string | undefined>, path = VERDICTS_PATH, method = "GET") => verdictsResponse({ path, method, headers }, key, body, NOW);

  test("an authenticated GET gets the verdicts, MACed for this very request", () => {
    const auth = requestAuthHeader(key, NOW, VERDICTS_PATH);
    const { response, outcome } = request({ [AUTH_HEADER]: auth });
    assert.equal(outcome, "ok");
    assert.equal(response.status, 200);
    assert.equal(response.headers?.[AUTH_HEADER], responseAuthHeader(key, auth, body()));
  });

  test("refused: no header, another secret, the status API's key or path, a stale timestamp; then 404 and 405", () => {
    const refused = [
      {},
      { [AUTH_HEADER]: requestAuthHeader(verdictsKey("another secret of sixteen+"), NOW, VERDICTS_PATH) },
      { [AUTH_HEADER]: requestAuthHeader(deriveKeys("a-shared-secret-of-the-agents").status, NOW, VERDICTS_PATH) },
      { [AUTH_HEADER]: requestAuthHeader(key, NOW, "/status") },
      { [AUTH_HEADER]: requestAuthHeader(key, NOW - 31_000, VERDICTS_PATH) },
    ];
    for (const headers of refused) {
      const { response, outcome } = request(headers);
      assert.deepEqual([response.status, outcome], [401, "refused"], JSON.stringify(headers));
    }
    assert.equal(request({}, "/status").response.status, 404);
    assert.equal(request({ [AUTH_HEADER]: requestAuthHeader(key, NOW, VERDICTS_PATH) }, VERDICTS_PATH, "POST").outcome, "bad_method");
  });
});

describe("asking a peer, the client side", () => {
  let server: Server;
  let port: number;
  /** What the fake peer does with the next request. */
  let behave: (auth: string) => { status?: number; headers?: Record<string, string>; body: string; hang?: boolean } = () => ({ body: "" });
  before(async () => {
    server = createServer((req, res) => {
      const answer = behave(String(req.headers[AUTH_HEADER] ?? ""));
      if (answer.hang) return;
      res.writeHead(answer.status ?? 200, { "Content-Type": "application/json", ...answer.headers });
      res.end(answer.body);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as { port: number }).port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  const client = (peer = "b", timeoutMs = 2000) => createPeerClient({ url: `http://127.0.0.1:${port}/`, peer, key, timeoutMs });
  const signedAnswer = (text: string) => (auth: string) => ({ headers: { [AUTH_HEADER]: responseAuthHeader(key, auth, text) }, body: text });

  test("the URL: dns/verdicts under the base path", () => {
    assert.equal(verdictsUrl("http://10.0.0.2:9180").href, "http://10.0.0.2:9180/dns/verdicts");
    assert.equal(verdictsUrl("http://10.0.0.2:9180/agents/b/?x=1").href, "http://10.0.0.2:9180/agents/b/dns/verdicts");
  });

  test("a MACed answer from the right agent is a set of votes", async () => {
    behave = signedAnswer(body());
    const c = client();
    const answer = await c.fetch();
    c.close();
    assert.ok(answer.ok, JSON.stringify(answer));
    assert.deepEqual([...answer.body.verdicts], [["192.0.2.1", false], ["2001:db8::1", true]]);
  });

  test("spoofed, replayed or unreadable answers are never votes", async () => {
    const c = client();
    let previous = "";
    const cases: Array<[typeof behave, string, RegExp]> = [
      [() => ({ body: body() }), "refused", /not MACed/],
      [() => ({ headers: { [AUTH_HEADER]: `mac=${"00".repeat(32)}` }, body: body() }), "refused", /not MACed/],
      // A real answer, MACed for an earlier request: replayed.
      [() => ({ headers: { [AUTH_HEADER]: responseAuthHeader(key, previous, body()) }, body: body() }), "refused", /not MACed/],
      [() => ({ status: 401, body: "unauthorized\n" }), "refused", /refused our credentials/],
      [() => ({ status: 500, body: "" }), "invalid", /HTTP 500/],
      [signedAnswer("{"), "invalid", /not JSON/],
      [signedAnswer(formatVerdictsBody("c", [])), "invalid", /from agent "c", not b/],
      [() => ({ body: "x".repeat(300 * 1024) }), "invalid", /body over/],
    ];
    behave = (auth) => ((previous = auth), { body: "" });
    await c.fetch(); // the first request, whose answer case 3 replays
    for (const [behaviour, outcome, detail] of cases) {
      behave = behaviour;
      const answer = await c.fetch();
      assert.ok(!answer.ok, `${outcome}: got votes`);
      assert.equal(answer.outcome, outcome, answer.detail);
      assert.match(answer.detail, detail);
    }
    c.close();
  });

  test("no answer in time or nobody listening: unreachable (no vote)", async () => {
    behave = () => ({ body: "", hang: true });
    const c = client("b", 200);
    const answer = await c.fetch();
    assert.deepEqual(answer.ok ? "votes" : answer.outcome, "unreachable");
    c.close();
    const nobody = createPeerClient({ url: "http://127.0.0.1:1/", peer: "b", key, timeoutMs: 1000 });
    const refused = await nobody.fetch();
    nobody.close();
    assert.deepEqual(refused.ok ? "votes" : refused.outcome, "unreachable");
  });
});
