import * as http from "node:http";
import * as https from "node:https";
import { AUTH_HEADER, requestAuthHeader, verifyResponseAuth } from "../auth/status-auth.ts";
import { errorMessage } from "../util/errors.ts";
import { lateToleranceMs } from "../util/ticker.ts";
import type { PollOutcome } from "./outcome.ts";
import { parseStatusBody, type Role } from "./status-body.ts";

export type { PollOutcome, PollFailureReason } from "./outcome.ts";

export interface PartnerPollerOptions {
  /** partner_url; `/status` is appended to its path. */
  url: string;
  /** One deadline for the whole request: connect, headers and body. */
  timeoutMs: number;
  /** Our bridge name: the partner must report the same. Omitted (`vpnham status`): any name. */
  expectedName?: string;
  /** Our configured role: the partner must report the other one. Omitted: any role. */
  ownRole?: Role;
  /** Source address to bind (first address of partner_polling_interface). */
  localAddress?: string | (() => string | undefined);
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** With a shared secret: prove ourselves to the partner and accept only answers MACed for this request. */
  statusKey?: Buffer;
  /** Larger bodies fail as too_large. Default 64 KiB; a bridge passes statusBodyLimit(its tunnels). */
  maxBodyBytes?: number;
}

/**
 * The body limit for polling a partner of about `tunnels` tunnels: 64 KiB plus 1 KiB a tunnel.
 * A status body takes about 155 bytes a tunnel (docs/protocol.md §Partner status), so a flat
 * 64 KiB refused the partner of a bridge with more than about 400 tunnels: each side judged
 * the other down and the standby went active too (docs/performance.md §10 000 tunnels).
 * The margin covers longer interface names and a partner with a few times our tunnels.
 */
export function statusBodyLimit(tunnels: number): number {
  return 64 * 1024 + 1024 * tunnels;
}

export interface PartnerPoller {
  /** One GET /status; never rejects. */
  poll(): Promise<PollOutcome>;
  /** Drops pooled connections and settles polls in flight (as "connect"). */
  close(): void;
}

/** `http://h:8080/`, `http://h:8080` and `http://h:8080/status` all give `http://h:8080/status`; a path prefix is kept. */
export function statusUrl(partnerUrl: string): URL {
  const url = new URL(partnerUrl);
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`partner url must be http(s): ${partnerUrl}`);
  }
  const path = url.pathname.replace(/\/+$/, "");
  url.pathname = path.endsWith("/status") ? path : `${path}/status`; // tolerate a URL that names it already
  url.search = "";
  url.hash = "";
  return url;
}

// Errors that mean "the pooled connection was closed by the server while idle".
const staleSocketCodes = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED"]);

export function createPartnerPoller(opts: PartnerPollerOptions): PartnerPoller {
  const target = statusUrl(opts.url);
  const transport = target.protocol === "https:" ? https : http;
  const maxBodyBytes = opts.maxBodyBytes ?? statusBodyLimit(0);
  // Free sockets are dropped after 60 s idle, before our status server's 65 s keep-alive ends.
  const agent = new transport.Agent({ keepAlive: true, maxSockets: 4, maxFreeSockets: 1, timeout: 60_000 });
  const headers = { ...opts.headers, Accept: "application/json" };
  const inFlight = new Set<(outcome: PollOutcome) => void>();
  // Resolved per request: the source interface may get its address after we start.
  const sourceAddress = (): string | undefined =>
    typeof opts.localAddress === "function" ? opts.localAddress() : opts.localAddress;
  let closed = false;

  const classify = (statusCode: number, body: string, auth?: { request: string; response: string | undefined }): PollOutcome => {
    if (statusCode === 401 && opts.statusKey) {
      return { ok: false, reason: "auth", detail: "the partner refused our credentials (secret differs?)" };
    }
    if (statusCode !== 200) {
      return { ok: false, reason: "http_status", detail: `HTTP ${statusCode}${body ? `: ${snippet(body)}` : ""}` };
    }
    if (opts.statusKey && auth && !verifyResponseAuth(opts.statusKey, auth.request, auth.response, body)) {
      return { ok: false, reason: "auth", detail: "the answer is not authenticated with our secret" };
    }
    const parsed = parseStatusBody(body);
    if (!parsed.ok) return { ok: false, reason: "invalid_body", detail: parsed.reason };
    const { status } = parsed;
    if (opts.expectedName !== undefined && status.name !== opts.expectedName) {
      return { ok: false, reason: "name_mismatch", detail: `partner reports bridge name ${JSON.stringify(status.name)}, ours is ${JSON.stringify(opts.expectedName)}` };
    }
    if (opts.ownRole !== undefined && status.role === opts.ownRole) {
      return { ok: false, reason: "role_mismatch", detail: `partner has the same role as ours (${status.role})` };
    }
    return { ok: true, status };
  };

  const poll = (): Promise<PollOutcome> =>
    new Promise<PollOutcome>((resolve) => {
      if (closed) {
        resolve({ ok: false, reason: "connect", detail: "poller closed" });
        return;
      }
      let settled = false;
      let current: http.ClientRequest | undefined;
      const finish = (outcome: PollOutcome): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        inFlight.delete(finish);
        current?.destroy();
        resolve(outcome);
      };
      inFlight.add(finish);
      // If the timer fires late, *we* stalled and the answer may be sitting unread: one more
      // timeout's worth of grace (as for probes; docs/hardening.md §Busy CPUs and late timers).
      let deadlineMs = performance.now() + opts.timeoutMs;
      let graced = false;
      const onTimeout = (): void => {
        if (!graced && performance.now() - deadlineMs >= lateToleranceMs(opts.timeoutMs)) {
          graced = true;
          deadlineMs = performance.now() + opts.timeoutMs;
          timer = setTimeout(onTimeout, opts.timeoutMs);
          return;
        }
        finish({ ok: false, reason: "timeout", detail: `no complete answer within ${opts.timeoutMs} ms` });
      };
      let timer = setTimeout(onTimeout, opts.timeoutMs);

      const send = (retryOnStaleSocket: boolean): void => {
        let responded = false;
        const requestAuth = opts.statusKey ? requestAuthHeader(opts.statusKey) : undefined;
        const req = transport.request(target, {
          method: "GET",
          agent,
          headers: requestAuth ? { ...headers, [AUTH_HEADER]: requestAuth } : headers,
          ...(sourceAddress() ? { localAddress: sourceAddress() } : {}),
        });
        current = req;
        req.on("response", (res) => {
          responded = true;
          const statusCode = res.statusCode ?? 0;
          const declared = Number(res.headers["content-length"]);
          if (declared > maxBodyBytes) {
            finish({ ok: false, reason: "too_large", detail: `body of ${declared} bytes exceeds ${maxBodyBytes}` });
            return;
          }
          const chunks: Buffer[] = [];
          let bytes = 0;
          res.on("data", (chunk: Buffer) => {
            bytes += chunk.length;
            if (bytes > maxBodyBytes) {
              finish({ ok: false, reason: "too_large", detail: `body exceeds ${maxBodyBytes} bytes` });
              return;
            }
            chunks.push(chunk);
          });
          res.on("end", () => {
            try {
              // Answered and fully read: only now is the socket returned to the pool.
              current = undefined;
              const responseAuth = res.headers[AUTH_HEADER];
              finish(
                classify(
                  statusCode,
                  Buffer.concat(chunks).toString("utf8"),
                  requestAuth ? { request: requestAuth, response: typeof responseAuth === "string" ? responseAuth : undefined } : undefined,
                ),
              );
            } catch (error) {
              finish({ ok: false, reason: "invalid_body", detail: errorMessage(error) });
            }
          });
          res.on("error", (error) => finish({ ok: false, reason: "connect", detail: `reading body: ${errorMessage(error)}` }));
          res.on("close", () => {
            if (!res.complete) finish({ ok: false, reason: "connect", detail: "connection closed before the body was complete" });
          });
        });
        req.on("error", (error: NodeJS.ErrnoException) => {
          if (settled) return;
          // A keep-alive socket the server closed while idle: retry once on a fresh one.
          if (retryOnStaleSocket && !responded && req.reusedSocket && staleSocketCodes.has(error.code ?? "")) {
            send(false);
            return;
          }
          finish({ ok: false, reason: "connect", detail: errorMessage(error) || (error.code ?? "request failed") });
        });
        req.end();
      };

      try {
        send(true);
      } catch (error) {
        // e.g. an invalid localAddress or header value throws synchronously
        finish({ ok: false, reason: "connect", detail: errorMessage(error) });
      }
    });

  return {
    poll,
    close() {
      closed = true;
      for (const finish of [...inFlight]) finish({ ok: false, reason: "connect", detail: "poller closed" });
      agent.destroy();
    },
  };
}

function snippet(body: string): string {
  const flat = body.replace(/\s+/g, " ").trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat;
}
