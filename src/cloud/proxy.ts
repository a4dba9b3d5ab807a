/**
 * `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` for the cloud API clients (docs/cloud-routes.md
 * §Endpoints), as curl reads them: lower-case names win over upper-case, `NO_PROXY` is a comma
 * list of host names (a name matches itself and its subdomains, a leading dot is ignored), IP
 * addresses, `host:port`, or `*`. Metadata services are never proxied (the callers say so). The
 * choice is pure; the CONNECT tunnel is the edge.
 */
import * as http from "node:http";
import { isIP } from "node:net";
import * as tls from "node:tls";
import type { Env } from "./aws/settings.ts";

export interface ProxySettings {
  readonly httpsProxy?: URL;
  readonly httpProxy?: URL;
  readonly noProxy: readonly string[];
}

function parseProxy(value: string | undefined): URL | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const text = value.trim();
  try {
    const url = new URL(text.includes("://") ? text : `http://${text}`);
    if (url.protocol !== "http:") throw new Error(`only http:// proxies are supported, not ${url.protocol}`);
    return url;
  } catch (error) {
    throw new Error(`proxy ${JSON.stringify(text)}: ${(error as Error).message}`);
  }
}

/** The proxy settings of an environment; throws on a proxy URL it cannot use. */
export function proxySettings(env: Env): ProxySettings {
  const pick = (name: string) => env[name.toLowerCase()] ?? env[name];
  const httpsProxy = parseProxy(pick("HTTPS_PROXY"));
  const httpProxy = parseProxy(pick("HTTP_PROXY"));
  const noProxy = (pick("NO_PROXY") ?? "")
    .split(",")
    .map((e) => e.trim().toLowerCase())
    .filter((e) => e !== "");
  return { ...(httpsProxy ? { httpsProxy } : {}), ...(httpProxy ? { httpProxy } : {}), noProxy };
}

const defaultPort = (url: URL): string => url.port || (url.protocol === "https:" ? "443" : "80");

/** The proxy to use for `url`, or undefined to go direct. */
export function proxyFor(url: URL, settings: ProxySettings): URL | undefined {
  const proxy = url.protocol === "https:" ? settings.httpsProxy : settings.httpProxy;
  if (!proxy) return undefined;
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, "");
  const port = defaultPort(url);
  for (const entry of settings.noProxy) {
    if (entry === "*") return undefined;
    const m = /^\[?([^\]]*?)\]?(?::(\d+))?$/.exec(entry.replace(/^\./, ""));
    const name = m?.[1] ?? entry;
    if (m?.[2] !== undefined && m[2] !== port) continue;
    if (host === name || host.endsWith(`.${name}`)) return undefined;
  }
  return proxy;
}

function proxyAuthorization(proxy: URL): Record<string, string> {
  if (!proxy.username) return {};
  const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return { "proxy-authorization": `Basic ${Buffer.from(credentials).toString("base64")}` };
}

/** For a plain-http target: where to send the request (the proxy, absolute-form path). */
export function forwardTarget(url: URL, proxy: URL): { host: string; port: number; path: string; headers: Record<string, string> } {
  return { host: proxy.hostname.replace(/^\[|\]$/g, ""), port: Number(defaultPort(proxy)), path: url.href, headers: { host: url.host, ...proxyAuthorization(proxy) } };
}

/** A TLS socket to `url`'s host through an HTTP CONNECT tunnel at `proxy`. */
export function connectTunnel(url: URL, proxy: URL, options: { signal: AbortSignal; ca?: string | Buffer }): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const authority = `${url.hostname}:${defaultPort(url)}`;
    const host = url.hostname.replace(/^\[|\]$/g, "");
    let settled = false;
    let tunnel: { destroy(): void } | undefined;
    const finish = (error: unknown, socket?: tls.TLSSocket): void => {
      if (settled) return;
      settled = true;
      options.signal.removeEventListener("abort", onAbort);
      if (socket) resolve(socket);
      else {
        tunnel?.destroy();
        reject(error);
      }
    };
    const req = http.request({
      host: proxy.hostname.replace(/^\[|\]$/g, ""),
      port: Number(defaultPort(proxy)),
      method: "CONNECT",
      path: authority,
      headers: { host: authority, ...proxyAuthorization(proxy) },
    });
    const onAbort = (): void => {
      req.destroy();
      finish(options.signal.reason);
    };
    options.signal.addEventListener("abort", onAbort, { once: true });
    req.on("error", (error) => finish(error));
    req.once("connect", (res, socket) => {
      tunnel = socket;
      if (res.statusCode !== 200) {
        finish(new Error(`proxy ${proxy.host} refused CONNECT ${authority}: HTTP ${res.statusCode}`));
        return;
      }
      try {
        // SNI carries host names only; for an IP the certificate is checked against the IP.
        const secure = tls.connect({ socket, host, ...(isIP(host) ? {} : { servername: host }), ...(options.ca ? { ca: options.ca } : {}) });
        tunnel = secure;
        secure.once("secureConnect", () => finish(undefined, secure));
        secure.on("error", (error) => finish(error));
      } catch (error) {
        finish(error);
      }
    });
    req.end();
  });
}

/** Chunked transfer coding → the body; undefined when malformed or cut short. */
export function decodeChunked(data: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = data.indexOf("\r\n", at);
    if (eol < 0) return undefined;
    const size = Number.parseInt(data.subarray(at, eol).toString("latin1").split(";")[0]!.trim(), 16);
    if (!Number.isFinite(size) || size < 0) return undefined;
    if (size === 0) return Buffer.concat(parts);
    if (eol + 2 + size + 2 > data.length) return undefined;
    parts.push(data.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

/** A raw HTTP/1.1 answer (status line, headers, body) → its parts; throws when it is not one. */
export function parseRawResponse(data: Buffer): { status: number; headers: Record<string, string>; body: Buffer } {
  const end = data.indexOf("\r\n\r\n");
  if (end < 0) throw new Error("connection closed before the answer's headers ended");
  const [statusLine, ...lines] = data.subarray(0, end).toString("latin1").split("\r\n");
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? "");
  if (!m) throw new Error(`not an HTTP answer: ${JSON.stringify((statusLine ?? "").slice(0, 40))}`);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = data.subarray(end + 4);
  if (/chunked/i.test(headers["transfer-encoding"] ?? "")) {
    const decoded = decodeChunked(body);
    if (!decoded) throw new Error("connection closed mid-answer (chunked body cut short)");
    body = decoded;
  } else if (headers["content-length"] !== undefined) {
    const length = Number(headers["content-length"]);
    if (!Number.isInteger(length) || length < 0 || body.length < length) throw new Error("connection closed mid-answer");
    body = body.subarray(0, length);
  }
  return { status: Number(m[1]), headers, body };
}

/**
 * One request over an established TLS tunnel, `Connection: close`, the answer read to the end.
 * Written by hand because node:http cannot be handed a ready socket on every runtime.
 */
export function exchangeOverTls(
  socket: tls.TLSSocket,
  request: { method: string; url: URL; headers: Readonly<Record<string, string>>; body?: Buffer; signal: AbortSignal; maxBytes: number },
): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (error: unknown, answer?: ReturnType<typeof parseRawResponse>): void => {
      if (settled) return;
      settled = true;
      request.signal.removeEventListener("abort", onAbort);
      socket.destroy();
      if (answer) resolve(answer);
      else reject(error);
    };
    const onAbort = (): void => finish(request.signal.reason);
    request.signal.addEventListener("abort", onAbort, { once: true });
    socket.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > request.maxBytes) finish(new Error(`answer larger than ${request.maxBytes} bytes`));
      else chunks.push(chunk);
    });
    socket.on("error", (error) => finish(error));
    socket.on("end", () => {
      try {
        finish(undefined, parseRawResponse(Buffer.concat(chunks)));
      } catch (error) {
        finish(error);
      }
    });
    const headers = { host: request.url.host, ...request.headers, connection: "close" };
    const head = [`${request.method} ${request.url.pathname}${request.url.search} HTTP/1.1`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)].join("\r\n");
    socket.write(`${head}\r\n\r\n`);
    if (request.body) socket.write(request.body);
  });
}
