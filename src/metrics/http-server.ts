import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { clearTimeout as clearNodeTimeout, setTimeout as setNodeTimeout } from "node:timers";
import { logger } from "../util/log.ts";
import { errorMessage } from "../util/errors.ts";

/**
 * Small bounded HTTP/1.1 server shell shared by the metrics and the partner status servers:
 * timeouts on headers and whole requests, request bodies drained but capped, malformed
 * requests answered (400/431) instead of thrown, and a close() that does not hang on
 * keep-alive connections. Nothing a client sends can crash the process.
 *
 * Bun and Deno accept but do not enforce `headersTimeout`/`requestTimeout` (measured: a
 * client dripping a header keeps its socket for ever), so each connection also carries
 * its own deadline: headers within headersTimeoutMs of connecting, the whole exchange
 * within requestTimeoutMs of the headers, the next request's headers within
 * keepAliveTimeoutMs + headersTimeoutMs of the previous answer. Past it, the socket is
 * destroyed.
 */
export interface HttpAddr {
  host: string;
  port: number;
}

export interface RunningHttpServer {
  /** The bound port (useful with port 0). */
  readonly port: number;
  close(): Promise<void>;
}

export interface BoundedServerOptions {
  /** Tag for logs. */
  name: string;
  handler: (req: IncomingMessage, res: ServerResponse) => void;
  /** Called with the status code of every response, including ones to malformed requests. */
  onResponse?: (code: number) => void;
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
  maxBodyBytes?: number;
}

const log = logger.withTag("http");

export async function startBoundedServer(addr: HttpAddr, opts: BoundedServerOptions): Promise<RunningHttpServer> {
  const maxBodyBytes = opts.maxBodyBytes ?? 64 * 1024;
  const report = (code: number): void => {
    try {
      opts.onResponse?.(code);
    } catch (error) {
      log.warn(`${opts.name}: response counter failed`, { error: errorMessage(error) });
    }
  };

  const headersTimeoutMs = opts.headersTimeoutMs ?? 10_000;
  const requestTimeoutMs = opts.requestTimeoutMs ?? 15_000;
  const keepAliveTimeoutMs = opts.keepAliveTimeoutMs ?? 65_000;
  const deadlines = new WeakMap<Socket, ReturnType<typeof setNodeTimeout>>();
  const setDeadline = (socket: Socket, ms: number): void => {
    clearDeadline(socket);
    const timer = setNodeTimeout(() => socket.destroy(), ms);
    timer.unref?.();
    deadlines.set(socket, timer);
  };
  const clearDeadline = (socket: Socket): void => {
    const timer = deadlines.get(socket);
    if (timer !== undefined) clearNodeTimeout(timer);
    deadlines.delete(socket);
  };

  const server: Server = createServer((req, res) => {
    const socket = req.socket;
    setDeadline(socket, requestTimeoutMs);
    // Count every answer once: on finish, or on close when the socket went first (a body
    // cut short, which Deno reports without a finish).
    let counted = false;
    const count = (): void => {
      if (counted || !res.headersSent) return;
      counted = true;
      report(res.statusCode);
    };
    res.once("finish", () => {
      count();
      if (!socket.destroyed) setDeadline(socket, keepAliveTimeoutMs + headersTimeoutMs);
    });
    res.once("close", count);
    discardBody(req, maxBodyBytes);
    try {
      opts.handler(req, res);
    } catch (error) {
      log.warn(`${opts.name}: handler failed`, { error: errorMessage(error) });
      if (!res.headersSent) sendText(res, 500, "internal error\n");
      else res.destroy();
    }
  });
  server.headersTimeout = headersTimeoutMs;
  server.requestTimeout = requestTimeoutMs;
  server.keepAliveTimeout = keepAliveTimeoutMs;

  server.on("clientError", (error: NodeJS.ErrnoException, socket: Socket) => {
    const code = clientErrorStatus(error.code);
    try {
      if (code !== undefined && socket.writable) {
        socket.end(`HTTP/1.1 ${code} ${reasonPhrase(code)}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
        report(code);
      }
    } catch {
      // the socket is going away anyway
    }
    socket.destroy();
  });

  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    setDeadline(socket, headersTimeoutMs);
    socket.once("close", () => {
      sockets.delete(socket);
      clearDeadline(socket);
    });
    // An 'error' without a listener would throw; the server sees the close anyway.
    socket.on("error", () => {});
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(addr.port, addr.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", (error) => log.warn(`${opts.name}: server error`, { error: errorMessage(error) }));

  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}

/** Answers with a short plain-text (or empty) body. */
export function sendText(res: ServerResponse, code: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(code, { "Content-Type": "text/plain; charset=utf-8", "Content-Length": Buffer.byteLength(body), ...headers });
  res.end(body);
}

/** Path part of a request target, without the query string. */
export function requestPath(req: IncomingMessage): string {
  const url = req.url ?? "/";
  const end = url.search(/[?#]/);
  return end === -1 ? url : url.slice(0, end);
}

// Our endpoints take no body: read and drop it, but never more than maxBodyBytes.
function discardBody(req: IncomingMessage, maxBodyBytes: number): void {
  let bytes = 0;
  req.on("data", (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes > maxBodyBytes) req.socket.destroy();
  });
  req.on("error", () => {});
}

function clientErrorStatus(code: string | undefined): number | undefined {
  // The client went away (Bun reports a close mid-request as HPE_INVALID_EOF_STATE): nobody to answer.
  if (code === "ECONNRESET" || code === "EPIPE" || code === "HPE_INVALID_EOF_STATE") return undefined;
  if (code === "HPE_HEADER_OVERFLOW") return 431;
  if (code === "ERR_HTTP_REQUEST_TIMEOUT") return 408;
  return 400;
}

function reasonPhrase(code: number): string {
  return code === 431 ? "Request Header Fields Too Large" : code === 408 ? "Request Timeout" : "Bad Request";
}
