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
import { connectTunnel, exchangeOverTls, forwardTarget, proxyFor, type ProxySettings } from "./proxy.ts";

export interface HttpRequest {
  readonly method: string;
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly signal: AbortSignal;
  /** Larger answers fail. Default 8 MiB (a DescribeRouteTables page of 100 tables is ~1 MiB). */
  readonly maxBodyBytes?: number;
  /** Never through a proxy (instance metadata services are link-local). */
  readonly direct?: boolean;
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

export interface HttpClientOptions {
  /** Proxies for API calls (docs/cloud-routes.md §Endpoints); requests marked `direct` skip them. */
  readonly proxy?: ProxySettings;
  /** Extra trusted CA certificates (PEM), e.g. from AWS_CA_BUNDLE. */
  readonly ca?: string | Buffer;
}

/** A client with its own keep-alive agents; `close()` drops idle sockets. */
export function createHttpClient(options: HttpClientOptions = {}): { fetch: HttpFetch; close(): void } {
  const agents = {
    "http:": new http.Agent({ keepAlive: true, maxSockets: 8, maxFreeSockets: 2, timeout: 30_000 }),
    "https:": new https.Agent({ keepAlive: true, maxSockets: 8, maxFreeSockets: 2, timeout: 30_000, ...(options.ca ? { ca: options.ca } : {}) }),
  };
  const fetch: HttpFetch = async (request) => {
    const url = new URL(request.url);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error(`not an http(s) URL: ${request.url}`);
    if (request.signal.aborted) throw request.signal.reason;
    const proxy = request.direct || !options.proxy ? undefined : proxyFor(url, options.proxy);
    const headers: Record<string, string> = { ...request.headers };
    const body = request.body === undefined ? undefined : Buffer.from(request.body, "utf8");
    if (body !== undefined) headers["content-length"] = String(body.length);
    let open: (callback: (res: http.IncomingMessage) => void) => http.ClientRequest;
    if (!proxy) {
      const transport = url.protocol === "https:" ? https : http;
      open = (callback) => transport.request(url, { method: request.method, headers, agent: agents[url.protocol as "http:" | "https:"] }, callback);
    } else if (url.protocol === "http:") {
      const target = forwardTarget(url, proxy);
      open = (callback) => http.request({ host: target.host, port: target.port, path: target.path, method: request.method, headers: { ...headers, ...target.headers }, agent: agents["http:"] }, callback);
    } else {
      let socket;
      try {
        socket = await connectTunnel(url, proxy, { signal: request.signal, ...(options.ca ? { ca: options.ca } : {}) });
      } catch (error) {
        if (request.signal.aborted) throw request.signal.reason;
        throw new HttpTransportError(`${url.origin} through proxy ${proxy.host}: ${errorMessage(error)}`);
      }
      try {
        const answer = await exchangeOverTls(socket, { method: request.method, url, headers, ...(body ? { body } : {}), signal: request.signal, maxBytes: (request.maxBodyBytes ?? 8 * 1024 * 1024) + 64 * 1024 });
        return { status: answer.status, headers: answer.headers, body: answer.body.toString("utf8") };
      } catch (error) {
        if (request.signal.aborted) throw request.signal.reason;
        throw new HttpTransportError(`${url.origin} through proxy ${proxy.host}: ${errorMessage(error)}`);
      }
    }
    return await exchange(request, url, body, open);
  };
  return {
    fetch,
    close() {
      agents["http:"].destroy();
      agents["https:"].destroy();
    },
  };
}

/** One request on a connection `open` makes; settles once, on the answer, an error or the signal. */
function exchange(request: HttpRequest, url: URL, body: Buffer | undefined, open: (callback: (res: http.IncomingMessage) => void) => http.ClientRequest): Promise<HttpResponse> {
  return new Promise<HttpResponse>((resolve, reject) => {
    const maxBodyBytes = request.maxBodyBytes ?? 8 * 1024 * 1024;
    let settled = false;
    const finish = (error: unknown, response?: HttpResponse): void => {
      if (settled) return;
      settled = true;
      request.signal.removeEventListener("abort", onAbort);
      if (response) resolve(response);
      else reject(error);
    };
    const req = open((res) => {
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
    });
    const onAbort = (): void => {
      req.destroy();
      finish(request.signal.reason);
    };
    request.signal.addEventListener("abort", onAbort, { once: true });
    if (request.signal.aborted) onAbort();
    req.on("error", (error) => finish(new HttpTransportError(`${url.origin}: ${errorMessage(error)}`)));
    req.end(body);
  });
}

/** First value of a response header. */
export function headerValue(response: HttpResponse, name: string): string | undefined {
  const value = response.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}
