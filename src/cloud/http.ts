/**
 * One HTTP(S) exchange for the cloud clients (docs/cloud-routes.md §Endpoints): node:http(s),
 * keep-alive, bounded by the caller's signal and a body cap, never rejecting with anything but
 * an Error whose `retryable` flag says whether another try may succeed (connection refused or
 * reset, a timeout). Status codes are the caller's business.
 */
import * as http from "node:http";
import * as https from "node:https";
import { RetryableError } from "../reconcile/action.ts";
import { errorMessage } from "../util/errors.ts";

export interface HttpRequest {
  readonly method: string;
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly signal: AbortSignal;
  /** Larger answers fail. Default 8 MiB (a DescribeRouteTables page of 100 tables is ~1 MiB). */
  readonly maxBodyBytes?: number;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

export type HttpFetch = (request: HttpRequest) => Promise<HttpResponse>;

/** A transport failure (no answer): worth another try. */
export class HttpTransportError extends RetryableError {
  override name = "HttpTransportError";
}

/** A client with its own keep-alive agents; `close()` drops idle sockets. */
export function createHttpClient(): { fetch: HttpFetch; close(): void } {
  const agents = {
    "http:": new http.Agent({ keepAlive: true, maxSockets: 8, maxFreeSockets: 2, timeout: 30_000 }),
    "https:": new https.Agent({ keepAlive: true, maxSockets: 8, maxFreeSockets: 2, timeout: 30_000 }),
  };
  const fetch: HttpFetch = (request) =>
    new Promise<HttpResponse>((resolve, reject) => {
      const url = new URL(request.url);
      if (url.protocol !== "http:" && url.protocol !== "https:") {
        reject(new Error(`not an http(s) URL: ${request.url}`));
        return;
      }
      if (request.signal.aborted) {
        reject(request.signal.reason);
        return;
      }
      const maxBodyBytes = request.maxBodyBytes ?? 8 * 1024 * 1024;
      const transport = url.protocol === "https:" ? https : http;
      const body = request.body === undefined ? undefined : Buffer.from(request.body, "utf8");
      const headers: Record<string, string> = { ...request.headers };
      if (body !== undefined) headers["content-length"] = String(body.length);
      let settled = false;
      const finish = (error: unknown, response?: HttpResponse): void => {
        if (settled) return;
        settled = true;
        request.signal.removeEventListener("abort", onAbort);
        if (response) resolve(response);
        else reject(error);
      };
      const req = transport.request(
        url,
        { method: request.method, headers, agent: agents[url.protocol as "http:" | "https:"] },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on("data", (chunk: Buffer) => {
            size += chunk.length;
            if (size > maxBodyBytes) {
              res.destroy();
              finish(new Error(`${request.method} ${url.origin}${url.pathname}: answer larger than ${maxBodyBytes} bytes`));
              return;
            }
            chunks.push(chunk);
          });
          res.on("end", () => finish(undefined, { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
          res.on("error", (error) => finish(new HttpTransportError(`${url.origin}: ${errorMessage(error)}`)));
          res.on("aborted", () => finish(new HttpTransportError(`${url.origin}: connection closed mid-answer`)));
        },
      );
      const onAbort = (): void => {
        req.destroy();
        finish(request.signal.reason);
      };
      request.signal.addEventListener("abort", onAbort, { once: true });
      req.on("error", (error) => finish(new HttpTransportError(`${url.origin}: ${errorMessage(error)}`)));
      req.end(body);
    });
  return {
    fetch,
    close() {
      agents["http:"].destroy();
      agents["https:"].destroy();
    },
  };
}

/** First value of a response header. */
export function headerValue(response: HttpResponse, name: string): string | undefined {
  const value = response.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}
