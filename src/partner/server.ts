import { AUTH_HEADER, responseAuthHeader, verifyRequestAuth } from "../auth/status-auth.ts";
import type { IncomingMessage } from "node:http";
import { logger } from "../util/log.ts";
import { errorMessage } from "../util/errors.ts";
import { requestPath, sendText, startBoundedServer, type HttpAddr, type RunningHttpServer } from "../metrics/http-server.ts";
import { formatStatusBody, type BridgeStatus } from "./status-body.ts";

const log = logger.withTag("status");

export interface StatusServerOptions {
  addr: HttpAddr;
  /** Current status of this bridge; called per request. */
  getStatus: () => BridgeStatus;
  /** Status code of every response (for vpnham_http_requests_total). */
  onRequest?: (code: number) => void;
  /** When given and it returns false, the request gets 401 (authenticated status API). */
  authorize?: (req: IncomingMessage) => boolean;
  /** With a shared secret: requests must carry a fresh X-Vpnham-Auth (else 401) and answers are MACed. */
  statusKey?: Buffer;
}

/**
 * The partner status endpoint (protocol.md §2): `GET /status` → 200 compact JSON with
 * `Content-Type: application/json`; another method on /status → 400 with an empty body
 * (as Go); any other path → 404. Bounded like every server of ours (see http-server.ts).
 * Keep-alive idle sockets are kept 65 s so a poller polling every few seconds reuses one.
 */
export async function startStatusServer(opts: StatusServerOptions): Promise<RunningHttpServer> {
  return startBoundedServer(opts.addr, {
    name: "status",
    onResponse: opts.onRequest,
    handler: (req, res) => {
      if (requestPath(req) !== "/status") {
        sendText(res, 404, "not found\n");
        return;
      }
      const authHeader = req.headers[AUTH_HEADER];
      const requestAuth = typeof authHeader === "string" ? authHeader : undefined;
      if (opts.statusKey && !verifyRequestAuth(opts.statusKey, requestAuth)) {
        sendText(res, 401, "unauthorized\n");
        return;
      }
      if (opts.authorize && !safeAuthorize(opts.authorize, req)) {
        sendText(res, 401, "unauthorized\n");
        return;
      }
      if (req.method !== "GET") {
        res.writeHead(400, { "Content-Length": 0 });
        res.end();
        return;
      }
      const body = formatStatusBody(opts.getStatus());
      res.writeHead(200, {
        "Content-Type": "application/json",
        "Content-Length": Buffer.byteLength(body),
        ...(opts.statusKey && requestAuth ? { [AUTH_HEADER]: responseAuthHeader(opts.statusKey, requestAuth, body) } : {}),
      });
      res.end(body);
    },
  });
}

// A throwing authorize hook denies (fail closed) instead of breaking the request.
function safeAuthorize(authorize: (req: IncomingMessage) => boolean, req: IncomingMessage): boolean {
  try {
    return authorize(req);
  } catch (error) {
    log.warn("authorize failed; denying", { error: errorMessage(error) });
    return false;
  }
}
