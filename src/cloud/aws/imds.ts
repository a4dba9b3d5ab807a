/**
 * The EC2 instance metadata service, version 2 only
 * (docs/cloud-routes.md §Credentials and metadata): a session token from
 * `PUT /latest/api/token`, kept until shortly before its TTL ends and fetched again on a 401;
 * `GET /latest/meta-data/…` with it. IMDSv1 (no token) is never used: instances that enforce
 * v2 refuse it, and v2 is what SSRF protections rely on.
 */
import { RetryableError } from "../../reconcile/action.ts";
import { HttpTransportError, type HttpFetch, type HttpRequest, type HttpResponse } from "../http.ts";
import { errorMessage } from "../../util/errors.ts";

export const imdsTokenPath = "/latest/api/token";
export const imdsTokenTtlHeader = "x-aws-ec2-metadata-token-ttl-seconds";
export const imdsTokenHeader = "x-aws-ec2-metadata-token";

export interface ImdsClient {
  /** The text at `path` (under /latest/meta-data/ unless absolute); undefined on 404. */
  get(path: string, signal: AbortSignal): Promise<string | undefined>;
}

export interface ImdsOptions {
  /** Base URL, e.g. http://169.254.169.254. */
  readonly endpoint: string;
  readonly fetch: HttpFetch;
  readonly now?: () => number;
  /** Asked-for token lifetime; default 6 h (the maximum). */
  readonly tokenTtlSeconds?: number;
}

/** Whether a token fetched at `fetchedAtMs` for `ttlSeconds` should be replaced at `nowMs` (a minute early, or at half its life when short). */
export function tokenStale(fetchedAtMs: number, ttlSeconds: number, nowMs: number): boolean {
  const lifeMs = ttlSeconds * 1000;
  return nowMs >= fetchedAtMs + lifeMs - Math.min(60_000, lifeMs / 2);
}

export function createImdsClient(options: ImdsOptions): ImdsClient {
  const now = options.now ?? Date.now;
  const ttlSeconds = options.tokenTtlSeconds ?? 21_600;
  let token: { value: string; fetchedAtMs: number; ttlSeconds: number } | undefined;
  // Say "IMDS" in transport errors: "connect ECONNREFUSED 169.254.169.254:80" alone puzzles.
  const fetch = async (request: HttpRequest): Promise<HttpResponse> => {
    try {
      return await options.fetch({ ...request, direct: true });
    } catch (error) {
      if (error instanceof HttpTransportError) throw new HttpTransportError(`IMDS (is this an EC2 instance?): ${errorMessage(error)}`);
      throw error;
    }
  };

  const fail = (what: string, status: number): Error =>
    status >= 500 || status === 429 ? new RetryableError(`IMDS ${what}: HTTP ${status}`) : new Error(`IMDS ${what}: HTTP ${status}`);

  async function fetchToken(signal: AbortSignal): Promise<string> {
    const fetchedAtMs = now();
    const res = await fetch({ method: "PUT", url: `${options.endpoint}${imdsTokenPath}`, headers: { [imdsTokenTtlHeader]: String(ttlSeconds) }, signal, maxBodyBytes: 4096 });
    if (res.status !== 200 || res.body.trim() === "") throw fail("token", res.status);
    // The service may grant a shorter life than asked for; it says so in the same header.
    const granted = Number(res.headers[imdsTokenTtlHeader]);
    token = { value: res.body.trim(), fetchedAtMs, ttlSeconds: Number.isFinite(granted) && granted > 0 ? granted : ttlSeconds };
    return token.value;
  }

  return {
    async get(path, signal) {
      const url = `${options.endpoint}${path.startsWith("/") ? path : `/latest/meta-data/${path}`}`;
      for (let attempt = 1; ; attempt++) {
        const value = token && !tokenStale(token.fetchedAtMs, token.ttlSeconds, now()) ? token.value : await fetchToken(signal);
        const res = await fetch({ method: "GET", url, headers: { [imdsTokenHeader]: value }, signal, maxBodyBytes: 256 * 1024 });
        if (res.status === 200) return res.body;
        if (res.status === 404) return undefined;
        if (res.status === 401 && attempt === 1) {
          token = undefined; // expired or revoked: one more try with a fresh token
          continue;
        }
        throw fail(path, res.status);
      }
    },
  };
}
