import { AUTH_HEADER, responseAuthHeader, verifyRequestAuth } from "../auth/status-auth.ts";
import { startHttpServer, type HttpAddr, type RunningHttpServer } from "../http/server.ts";
import { textResponse } from "../http/response.ts";
import { formatStatusBody, type BridgeStatus } from "./status-body.ts";

export interface StatusServerOptions {
  addr: HttpAddr;
  /** Current status of this bridge; called per request. */
  getStatus: () => BridgeStatus;
  /** Status code of every response (for vpnham_http_requests_total). */
  onRequest?: (code: number) => void;
  /**
   * For vpnham_errors_total{scope="status_listener"}: a method other than GET on /status
   * (as Go counts it), getStatus throwing, or an answer not ready in time.
   */
  onError?: (error: unknown) => void;
  /** With a shared secret: requests must carry a fresh X-Vpnham-Auth (else 401) and answers are MACed. */
  statusKey?: Buffer;
  /** The partner's (normalized) addresses: connections of their own, never displaced by others (partner-address.ts). */
  isPartner?: (address: string) => boolean;
  /** For vpnham_http_connections_shed_total{server="status"}. */
  onShed?: (action: "evicted" | "refused", limit: "per_source" | "total") => void;
}

/**
 * The partner status endpoint (docs/protocol.md §Partner status): `GET /status` → 200 compact JSON with
 * `Content-Type: application/json`; another method on /status → 400 with an empty body
 * (as Go); any other path → 404. Bounded like every server of ours (see http/server.ts).
 * Keep-alive idle sockets are kept 65 s so a poller polling every few seconds reuses one.
 * The partner's poll is served however many others connect: its address has connections
 * of its own (docs/hardening.md, "Connections and floods on the HTTP ports").
 */
export async function startStatusServer(opts: StatusServerOptions): Promise<RunningHttpServer> {
  return startHttpServer(opts.addr, {
    name: "status",
    ...(opts.onRequest ? { onResponse: opts.onRequest } : {}),
    ...(opts.onError ? { onHandlerError: opts.onError } : {}),
    ...(opts.isPartner ? { isReserved: opts.isPartner } : {}),
    ...(opts.onShed ? { onShed: opts.onShed } : {}),
    // The server logs handler failures; a wrong method is only counted (scanners).
    handler: (req) => {
      if (req.path !== "/status") return textResponse(404, "not found\n");
      const requestAuth = req.headers[AUTH_HEADER];
      if (opts.statusKey && !verifyRequestAuth(opts.statusKey, requestAuth)) return textResponse(401, "unauthorized\n");
      if (req.method !== "GET") {
        opts.onError?.(new Error(`unexpected method ${req.method} on /status`));
        return { status: 400 };
      }
      const body = formatStatusBody(opts.getStatus());
      return {
        status: 200,
        headers: {
          "Content-Type": "application/json",
          ...(opts.statusKey && requestAuth ? { [AUTH_HEADER]: responseAuthHeader(opts.statusKey, requestAuth, body) } : {}),
        },
        body,
      };
    },
  });
}
