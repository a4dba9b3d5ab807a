/**
 * What the cloud API clients share (docs/cloud-routes.md §AWS, §GCP, §Azure): the error an API
 * answered, and for the bearer-token JSON APIs (Compute Engine, ARM) the call itself and the
 * wait between an operation's polls.
 */
import { RetryableError } from "../reconcile/action.ts";
import type { HttpFetch, HttpResponse } from "./http.ts";

/**
 * An error a cloud API answered: named for its API (`Ec2ApiError`, …), carrying what it reported
 * (`fields`: code or reason, status), and a RetryableError when another try may succeed
 * (throttling, 5xx, a race a re-read settles).
 */
export function cloudApiError<F extends object>(name: string, message: string, fields: F, retryable: boolean): Error & F {
  const error = retryable ? new RetryableError(message) : new Error(message);
  error.name = name;
  return Object.assign(error, fields);
}

/** A bearer-token API: the transport, and the token (cached by the caller; dropped when refused). */
export interface BearerAuth {
  readonly fetch: HttpFetch;
  readonly token: (signal: AbortSignal) => Promise<string>;
  readonly invalidateToken: () => void;
}

/**
 * One call with a bearer token, any body sent as JSON. A 401 drops the cached token, so the next
 * try fetches a new one; every status is the caller's to judge.
 */
export async function bearerJsonCall(auth: BearerAuth, method: string, url: string, signal: AbortSignal, body?: unknown): Promise<HttpResponse> {
  const token = await auth.token(signal);
  const res = await auth.fetch({
    method,
    url,
    headers: { authorization: `Bearer ${token}`, accept: "application/json", ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal,
  });
  if (res.status === 401) auth.invalidateToken();
  return res;
}

/** Waits `ms` (between an operation's polls); rejects with the signal's reason when it aborts first. */
export function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  });
}
