import { mac, macEquals, nonce } from "./keys.ts";

/**
 * Authenticated status API. The poller sends
 *   X-Vpnham-Auth: t=<unix ms>;n=<nonce>;mac=<hex HMAC(statusKey, "GET /status t n")>
 * and the server refuses anything else with 401. The server answers with
 *   X-Vpnham-Auth: mac=<hex HMAC(statusKey, request header, body)>
 * binding its body to this very request, so an old answer can't be replayed.
 */
export const AUTH_HEADER = "x-vpnham-auth";
/** How far the poller's clock may be from ours. */
export const MAX_CLOCK_SKEW_MS = 30_000;

/**
 * `path` binds the MAC to the endpoint (the status API's `/status`, DNS failover's
 * `/dns/verdicts`, docs/dns-failover.md §Peers), so a request for one is refused by the other.
 */
export function requestAuthHeader(key: Buffer, nowMs = Date.now(), path = "/status"): string {
  const t = String(Math.round(nowMs));
  const n = nonce();
  return `t=${t};n=${n};mac=${mac(key, `GET ${path} `, t, " ", n).toString("hex")}`;
}

function fields(header: string): Map<string, string> {
  return new Map(header.split(";").map((kv) => kv.trim().split("=", 2) as [string, string]));
}

export function verifyRequestAuth(key: Buffer, header: string | undefined, nowMs = Date.now(), path = "/status"): boolean {
  if (!header || header.length > 256) return false;
  const f = fields(header);
  const t = f.get("t");
  const n = f.get("n");
  const given = f.get("mac");
  if (!t || !n || !given || !/^\d+$/.test(t) || !/^[0-9a-f]{64}$/.test(given)) return false;
  if (Math.abs(Number(t) - nowMs) > MAX_CLOCK_SKEW_MS) return false;
  return macEquals(mac(key, `GET ${path} `, t, " ", n), Buffer.from(given, "hex"));
}

export function responseAuthHeader(key: Buffer, requestHeader: string, body: string): string {
  return `mac=${mac(key, requestHeader, "\n", body).toString("hex")}`;
}

export function verifyResponseAuth(key: Buffer, requestHeader: string, responseHeader: string | undefined, body: string): boolean {
  const given = responseHeader ? fields(responseHeader).get("mac") : undefined;
  if (!given || !/^[0-9a-f]{64}$/.test(given)) return false;
  return macEquals(mac(key, requestHeader, "\n", body), Buffer.from(given, "hex"));
}
