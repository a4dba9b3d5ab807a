/**
 * Asking one peer for its verdicts (docs/dns-failover.md §Peers): `GET /dns/verdicts` with the
 * status API's authentication (src/auth/status-auth.ts, a key derived for this use only) — our
 * request carries a fresh timestamp, nonce and MAC; the answer counts only when its MAC, over our
 * request header and its body, verifies, so a spoofed or replayed answer is never a vote. One
 * deadline for the whole request; the body is capped. Never rejects. Patterned on the partner
 * poller (src/partner/poller.ts).
 */
import * as http from "node:http";
import * as https from "node:https";
import { AUTH_HEADER, requestAuthHeader, verifyResponseAuth } from "../auth/status-auth.ts";
import { errorMessage } from "../util/errors.ts";
import type { PeerPollOutcome } from "./metrics.ts";
import { MAX_VERDICTS_BODY_BYTES, parseVerdictsBody, VERDICTS_PATH, type VerdictsBody } from "./verdicts-body.ts";

export type PeerAnswer = { ok: true; body: VerdictsBody } | { ok: false; outcome: Exclude<PeerPollOutcome, "ok">; detail: string };

export interface PeerClient {
  fetch(): Promise<PeerAnswer>;
  close(): void;
}

/** `http://h:9180/` → `http://h:9180/dns/verdicts` (a path prefix is kept). */
export function verdictsUrl(base: string): URL {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/+$/, "")}${VERDICTS_PATH}`;
  url.search = "";
  url.hash = "";
  return url;
}

export function createPeerClient(options: { url: string; peer: string; key: Buffer; timeoutMs: number }): PeerClient {
  const target = verdictsUrl(options.url);
  const transport = target.protocol === "https:" ? https : http;
  const agent = new transport.Agent({ keepAlive: true, maxSockets: 1, maxFreeSockets: 1, timeout: 60_000 });
  const inFlight = new Set<(answer: PeerAnswer) => void>();
  let closed = false;

  const fetchOnce = (): Promise<PeerAnswer> =>
    new Promise<PeerAnswer>((resolve) => {
      if (closed) return resolve({ ok: false, outcome: "unreachable", detail: "closed" });
      let request: http.ClientRequest | undefined;
      let settled = false;
      const finish = (answer: PeerAnswer) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        inFlight.delete(finish);
        request?.destroy();
        resolve(answer);
      };
      inFlight.add(finish);
      const timer = setTimeout(() => finish({ ok: false, outcome: "unreachable", detail: `no complete answer within ${options.timeoutMs} ms` }), options.timeoutMs);
      const auth = requestAuthHeader(options.key, Date.now(), VERDICTS_PATH);
      try {
        request = transport.request(target, { method: "GET", agent, headers: { Accept: "application/json", [AUTH_HEADER]: auth } });
      } catch (error) {
        return finish({ ok: false, outcome: "unreachable", detail: errorMessage(error) });
      }
      request.on("error", (error) => finish({ ok: false, outcome: "unreachable", detail: errorMessage(error) }));
      request.on("response", (res) => {
        const chunks: Buffer[] = [];
        let bytes = 0;
        res.on("data", (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes > MAX_VERDICTS_BODY_BYTES) return finish({ ok: false, outcome: "invalid", detail: `body over ${MAX_VERDICTS_BODY_BYTES} bytes` });
          chunks.push(chunk);
        });
        res.on("error", (error) => finish({ ok: false, outcome: "unreachable", detail: errorMessage(error) }));
        res.on("end", () => {
          request = undefined; // read whole: the socket may go back to the pool
          const body = Buffer.concat(chunks).toString("utf8");
          const status = res.statusCode ?? 0;
          if (status === 401) return finish({ ok: false, outcome: "refused", detail: "the peer refused our credentials (another secret?)" });
          if (status !== 200) return finish({ ok: false, outcome: "invalid", detail: `HTTP ${status}` });
          const mac = res.headers[AUTH_HEADER];
          if (!verifyResponseAuth(options.key, auth, typeof mac === "string" ? mac : undefined, body)) {
            return finish({ ok: false, outcome: "refused", detail: "the answer is not MACed with our secret for this request (spoofed, replayed or another secret)" });
          }
          const parsed = parseVerdictsBody(body);
          if (!parsed.ok) return finish({ ok: false, outcome: "invalid", detail: parsed.reason });
          if (parsed.body.agent !== options.peer) {
            return finish({ ok: false, outcome: "invalid", detail: `the answer is from agent ${JSON.stringify(parsed.body.agent)}, not ${options.peer}` });
          }
          finish({ ok: true, body: parsed.body });
        });
      });
      request.end();
    });

  return {
    fetch: fetchOnce,
    close() {
      closed = true;
      for (const finish of [...inFlight]) finish({ ok: false, outcome: "unreachable", detail: "closed" });
      agent.destroy();
    },
  };
}
