/**
 * The network probes, tcp and http(s) (docs/checks.md §Kinds). Thin: each opens one connection,
 * judges it with the pure helpers and closes it. Each resolves (never rejects) and tears its
 * socket down when `signal` aborts — the runtime aborts at the check's timeout.
 */
import { request as httpRequest, type ClientRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { connect, type Socket } from "node:net";
import { errorMessage } from "../util/errors.ts";
import type { HostPort } from "../config/address.ts";
import type { HttpTarget } from "./schema.ts";
import { statusExpected } from "./targets.ts";
import type { Sample } from "./verdict.ts";

const aborted: Sample = { ok: false, reason: "timeout", detail: "no answer in time" };

function connectFailure(error: unknown): Sample {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "ECONNREFUSED") return { ok: false, reason: "refused", detail: "connection refused" };
  return { ok: false, reason: "connect", detail: typeof code === "string" ? `${code}: ${errorMessage(error)}` : errorMessage(error) };
}

/** Good when a TCP connection to `address` is established. */
export function probeTcp(address: HostPort, signal: AbortSignal): Promise<Sample> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(aborted);
    let socket: Socket;
    let settled = false;
    const finish = (sample: Sample): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener("abort", onAbort);
      socket.removeAllListeners("connect");
      socket.destroy();
      resolve(sample);
    };
    const onAbort = (): void => finish(aborted);
    try {
      socket = connect({ host: address.host, port: address.port });
    } catch (error) {
      return resolve(connectFailure(error));
    }
    // After finish, a late error event must still have a listener (or it would be thrown).
    socket.on("error", (error) => finish(connectFailure(error)));
    socket.once("connect", () => finish({ ok: true }));
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** Judges a body prefix against body_match / body_regex (pure). */
export function bodyProblem(target: Pick<HttpTarget, "bodyMatch" | "bodyRegex">, body: string): string | undefined {
  if (target.bodyMatch !== undefined && !body.includes(target.bodyMatch)) return `body does not contain ${JSON.stringify(target.bodyMatch)}`;
  if (target.bodyRegex !== undefined && !new RegExp(target.bodyRegex).test(body)) return `body does not match /${target.bodyRegex}/`;
  return undefined;
}

/**
 * GET `target.url`: good when the status is expected and, if asked, the first `maxBodyBytes`
 * of the body match. The body is read only when there is something to match, and never past
 * the limit (an endless body is cut off).
 */
export function probeHttp(target: HttpTarget, signal: AbortSignal, userAgent: string): Promise<Sample> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(aborted);
    let request: ClientRequest | undefined;
    let response: IncomingMessage | undefined;
    let settled = false;
    const finish = (sample: Sample): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener("abort", onAbort);
      response?.destroy();
      request?.destroy();
      resolve(sample);
    };
    const onAbort = (): void => finish(aborted);
    const options = {
      method: "GET",
      agent: false as const,
      headers: { "user-agent": userAgent, accept: "*/*", connection: "close" },
      ...(target.kind === "https" ? { rejectUnauthorized: !target.tlsSkipVerify } : {}),
    };
    try {
      request = (target.kind === "https" ? httpsRequest : httpRequest)(target.url, options, (res) => {
        response = res;
        res.on("error", (error) => finish(connectFailure(error)));
        const status = res.statusCode ?? 0;
        if (!statusExpected(target.expectedStatus, status)) return finish({ ok: false, reason: "status", detail: `HTTP ${status}` });
        if (target.bodyMatch === undefined && target.bodyRegex === undefined) return finish({ ok: true });
        readPrefix(res, target.maxBodyBytes, (body) => {
          const problem = bodyProblem(target, body);
          finish(problem === undefined ? { ok: true } : { ok: false, reason: "body", detail: problem });
        });
      });
    } catch (error) {
      return resolve(connectFailure(error));
    }
    request.on("error", (error) => finish(connectFailure(error)));
    signal.addEventListener("abort", onAbort, { once: true });
    request.end();
  });
}

/** Calls `done` once with the first `maxBytes` of the stream (UTF-8), at its end or at the limit. */
function readPrefix(stream: IncomingMessage, maxBytes: number, done: (body: string) => void): void {
  const chunks: Buffer[] = [];
  let kept = 0;
  let called = false;
  const finish = (): void => {
    if (called) return;
    called = true;
    done(Buffer.concat(chunks).toString("utf8"));
  };
  stream.on("data", (chunk: Buffer | string) => {
    if (called) return;
    const buffer = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    const room = maxBytes - kept;
    chunks.push(buffer.length <= room ? buffer : buffer.subarray(0, room));
    kept += Math.min(buffer.length, room);
    if (kept >= maxBytes) finish();
  });
  stream.on("end", finish);
  // The server closed mid-body: judge what came.
  stream.on("close", finish);
}
