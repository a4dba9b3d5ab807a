import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { logger } from "../util/log.ts";
import { errorMessage } from "../util/errors.ts";
import { DEFAULT_HEAD_LIMITS, type RequestHeadLimits } from "./request-head.ts";
import { Connection, type ConnectionSettings, type HttpHandler } from "./connection.ts";

export type { HttpHandler, HttpRequest } from "./connection.ts";

/**
 * The small bounded HTTP/1.1 server behind the metrics and partner status endpoints, on
 * node:net with our own request parser (request-head.ts), so that it behaves the same on
 * Bun and Deno and every request — well-formed or not — is answered by us and counted.
 *
 * Bounds, all per connection:
 * - the head within headersTimeoutMs of connecting (keepAliveTimeoutMs + headersTimeoutMs
 *   after the previous answer), at most limits.maxHeadBytes; past either, 408/431 and close;
 * - the handler's answer within requestTimeoutMs, else 503 and close; the client then has
 *   requestTimeoutMs to take the answer, and the keep-alive wait starts once it has;
 * - a request body is skipped, never stored: up to maxBodyBytes and the connection lives
 *   on; larger, chunked, or still on its way when we answer, and the connection closes
 *   after the answer: what still comes is dropped (up to LINGER_MAX_BYTES, then reading
 *   pauses) until LINGER_MS after the answer is sent, so the client sees it, not a reset;
 * - requests on one connection are answered in order, one at a time; reading pauses while
 *   answers pile up unread;
 * - at most maxConnections open connections; one more gets 503 and a close.
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

export interface HttpServerOptions {
  /** Tag for logs. */
  name: string;
  handler: HttpHandler;
  /** Status code of every answer, including those to malformed, slow or surplus requests. */
  onResponse?: (status: number) => void;
  /** The handler threw, rejected, or did not answer in time (the client got 500/503). */
  onHandlerError?: (error: unknown) => void;
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
  maxBodyBytes?: number;
  maxConnections?: number;
  limits?: RequestHeadLimits;
}

const log = logger.withTag("http");

export async function startHttpServer(addr: HttpAddr, opts: HttpServerOptions): Promise<RunningHttpServer> {
  const settings: ConnectionSettings = {
    name: opts.name,
    handler: opts.handler,
    report: (status) => {
      try {
        opts.onResponse?.(status);
      } catch (error) {
        log.warn(`${opts.name}: response counter failed`, { error: errorMessage(error) });
      }
    },
    handlerFailed: (error) => {
      log.warn(`${opts.name}: handler failed`, { error: errorMessage(error) });
      try {
        opts.onHandlerError?.(error);
      } catch {
        // counting must not break answering
      }
    },
    headersTimeoutMs: opts.headersTimeoutMs ?? 10_000,
    requestTimeoutMs: opts.requestTimeoutMs ?? 15_000,
    keepAliveTimeoutMs: opts.keepAliveTimeoutMs ?? 65_000,
    maxBodyBytes: opts.maxBodyBytes ?? 64 * 1024,
    limits: opts.limits ?? DEFAULT_HEAD_LIMITS,
  };
  const maxConnections = opts.maxConnections ?? 256;
  const sockets = new Set<Socket>();

  const server: Server = createServer({ allowHalfOpen: true }, (socket: Socket) => {
    // An 'error' without a listener would throw; 'close' follows it anyway.
    socket.on("error", () => {});
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    const connection = new Connection(socket, settings);
    if (sockets.size > maxConnections) connection.refuse();
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
