import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { logger } from "../util/log.ts";
import { errorMessage } from "../util/errors.ts";
import { DEFAULT_HEAD_LIMITS, type RequestHeadLimits } from "./request-head.ts";
import { Connection, type ConnectionSettings, type HttpHandler } from "./connection.ts";
import { admit, normalizeAddress, type ShedLimit } from "./admission.ts";
import { TurnBudget } from "./turn-budget.ts";

export type { HttpHandler, HttpRequest } from "./connection.ts";

/**
 * The small bounded HTTP/1.1 server behind the metrics and partner status endpoints, on
 * node:net with our own request parser (request-head.ts), so that it behaves the same on
 * Bun and Deno and every request — well-formed or not — is answered by us and counted.
 *
 * Bounds, per connection:
 * - the head within headersTimeoutMs of connecting (keepAliveTimeoutMs + headersTimeoutMs
 *   after the previous answer), at most limits.maxHeadBytes; past either, 408/431 and close;
 *   a stranger (not from a reserved address, never answered 2xx) gets strangerTimeoutMs at
 *   most for either wait;
 * - the handler's answer within requestTimeoutMs, else 503 and close; the client then has
 *   requestTimeoutMs to take the answer, and the keep-alive wait starts once it has;
 * - a request body is skipped, never stored: up to maxBodyBytes and the connection lives
 *   on; larger, chunked, or still on its way when we answer, and the connection closes
 *   after the answer: what still comes is dropped (up to LINGER_MAX_BYTES, then reading
 *   pauses) until LINGER_MS after the answer is sent, so the client sees it, not a reset;
 * - requests on one connection are answered in order, one at a time; reading pauses while
 *   answers pile up unread, and while the turn's budget is spent.
 * And in all (docs/hardening.md, "Connections and floods on the HTTP ports"):
 * - HTTP work per event-loop turn is bounded, process-wide (TURN_LIMITS, turn-budget.ts);
 * - at most maxConnectionsPerSource connections from one address and maxConnections from
 *   addresses not reserved; a newcomer over either displaces the idlest connection that
 *   counts against it (admission.ts) and gets 503 only if every one is being served.
 *   Reserved addresses (the partner's) only have the per-source limit.
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
  /** How long a stranger (not reserved, never answered 2xx) may take to send its next head. */
  strangerTimeoutMs?: number;
  maxBodyBytes?: number;
  /** Connections from addresses that are not reserved. */
  maxConnections?: number;
  maxConnectionsPerSource?: number;
  /** Addresses (normalized: admission.ts) with capacity of their own: the partner's. */
  isReserved?: (address: string) => boolean;
  /** A connection displaced by a newcomer ("evicted"), or a newcomer refused with 503, and which limit it hit. */
  onShed?: (action: "evicted" | "refused", limit: ShedLimit) => void;
  limits?: RequestHeadLimits;
}

/**
 * HTTP work per event-loop turn, all servers of the process together (measured in
 * docs/hardening.md): a status answer costs ~30 µs, so 1 ms is some 30 requests, a few per
 * connection; 64 KiB is ~4 scrapes. Well under a probe interval's slack, ample for the
 * partner's poll and a scrape.
 */
const TURN_LIMITS = { maxRequests: 64, maxPerHolder: 4, maxMs: 1, maxBytes: 64 * 1024 };
const turnBudget = new TurnBudget(TURN_LIMITS);

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
    strangerTimeoutMs: opts.strangerTimeoutMs ?? 2000,
    maxBodyBytes: opts.maxBodyBytes ?? 64 * 1024,
    limits: opts.limits ?? DEFAULT_HEAD_LIMITS,
    budget: turnBudget,
  };
  const limits = { maxConnections: opts.maxConnections ?? 256, maxPerSource: opts.maxConnectionsPerSource ?? 16 };
  const sockets = new Set<Socket>();
  /** Admitted connections, not yet closed or evicted. */
  const open = new Map<Connection, { source: string; reserved: boolean }>();
  const shed = (action: "evicted" | "refused", limit: ShedLimit): void => {
    try {
      opts.onShed?.(action, limit);
    } catch (error) {
      log.warn(`${opts.name}: shed counter failed`, { error: errorMessage(error) });
    }
  };
  const isReserved = (source: string): boolean => {
    try {
      return opts.isReserved?.(source) ?? false;
    } catch {
      return false;
    }
  };

  const server: Server = createServer({ allowHalfOpen: true }, (socket: Socket) => {
    // An 'error' without a listener would throw; 'close' follows it anyway.
    socket.on("error", () => {});
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    const source = normalizeAddress(socket.remoteAddress);
    const reserved = isReserved(source);
    const views = [...open].map(([key, meta]) => ({ key, ...meta, ...key.state() }));
    const decision = admit({ source, reserved }, views, limits);
    const connection = new Connection(socket, settings, reserved);
    if (decision.kind === "refuse") {
      shed("refused", decision.limit);
      connection.refuse();
      return;
    }
    if (decision.kind === "evict") {
      open.delete(decision.victim);
      decision.victim.evict();
      shed("evicted", decision.limit);
    }
    open.set(connection, { source, reserved });
    socket.once("close", () => open.delete(connection));
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
