import { chmodSync, lstatSync, mkdirSync, unlinkSync } from "node:fs";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { dirname } from "node:path";
import { UserError, errorMessage } from "../util/errors.ts";
import { logger } from "../util/log.ts";
import type { ControlHandler } from "./registry.ts";
import {
  LineSplitter,
  commandLabel,
  encodeResponse,
  parseRequest,
  type ControlCommand,
  type ControlResponse,
} from "./protocol.ts";

/**
 * The daemon's control socket (docs/operations.md §Control socket): a unix
 * socket, mode 0600, JSON lines. The shell is thin: limits on clients, line
 * size, idle time and handler time, so no client can block the daemon.
 */
export type ControlOutcome = "ok" | "error" | "bad_request" | "too_large" | "timeout" | "refused";

export interface ControlServerOptions {
  path: string;
  /** By command: the daemon's own (status, reload) and the jobs' (control/registry.ts). */
  handlers: Readonly<Record<ControlCommand, ControlHandler>>;
  /** Every request and refusal, for the metrics. */
  onRequest?(command: string, outcome: ControlOutcome): void;
  maxClients?: number;
  idleTimeoutMs?: number;
  handlerTimeoutMs?: number;
}

export interface ControlServer {
  readonly path: string;
  close(): Promise<void>;
}

const log = logger.withTag("control");

export async function startControlServer(options: ControlServerOptions): Promise<ControlServer> {
  const { path, handlers } = options;
  // Own keys only: a request for "__proto__" or "toString" is an unknown command.
  const commands = Object.keys(handlers);
  const maxClients = options.maxClients ?? 16;
  const idleTimeoutMs = options.idleTimeoutMs ?? 10_000;
  const handlerTimeoutMs = options.handlerTimeoutMs ?? 30_000;
  const count = (command: string, outcome: ControlOutcome): void => {
    try {
      options.onRequest?.(command, outcome);
    } catch (error) {
      log.error(`counting a control request failed: ${errorMessage(error)}`);
    }
  };
  await clearStaleSocket(path);
  const clients = new Set<Socket>();
  /** Every open connection, refused ones included, so close() never waits on a client. */
  const open = new Set<Socket>();

  const serve = (socket: Socket): void => {
    open.add(socket);
    socket.once("close", () => open.delete(socket));
    socket.on("error", () => {}); // a client vanishing mid-answer is its problem
    if (clients.size >= maxClients) {
      count("none", "refused");
      socket.end(encodeResponse({ id: null, ok: false, error: `too many clients (${maxClients})` }));
      socket.setTimeout(1000, () => socket.destroy());
      return;
    }
    clients.add(socket);
    socket.setEncoding("utf8");
    socket.setTimeout(idleTimeoutMs, () => socket.destroy());
    socket.once("close", () => clients.delete(socket));
    const splitter = new LineSplitter();
    // Requests of one client are answered in order, one at a time.
    let queue = Promise.resolve();
    socket.on("data", (chunk: string) => {
      const { lines, overflow } = splitter.push(chunk);
      for (const line of lines) queue = queue.then(() => answer(socket, line));
      if (overflow) {
        count("invalid", "too_large");
        queue = queue.then(() => {
          socket.end(encodeResponse({ id: null, ok: false, error: "request line too long" }));
        });
        socket.pause();
      }
    });
  };

  const answer = async (socket: Socket, line: string): Promise<void> => {
    const parsed = parseRequest(line, commands);
    let response: ControlResponse;
    if (!parsed.ok) {
      count(commandLabel(parsed), "bad_request");
      response = { id: parsed.id, ok: false, error: parsed.error };
    } else {
      const { id, command, args } = parsed.request;
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        const result = await Promise.race([
          handlers[command]!(args ?? {}),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new TimeoutError()), handlerTimeoutMs);
          }),
        ]);
        count(command, "ok");
        response = { id, ok: true, result };
      } catch (error) {
        const timedOut = error instanceof TimeoutError;
        count(command, timedOut ? "timeout" : "error");
        response = { id, ok: false, error: timedOut ? `${command} timed out after ${handlerTimeoutMs} ms` : errorMessage(error) };
      } finally {
        clearTimeout(timer);
      }
    }
    if (!socket.destroyed) socket.write(encodeResponse(response));
  };

  const server = createServer(serve);
  server.on("error", (error) => log.error(`control socket: ${errorMessage(error)}`));
  await listen(server, path);
  log.info(`control socket at ${path}`);
  return {
    path,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const c of open) c.destroy();
      }),
  };
}

class TimeoutError extends Error {}

/** Bind with a umask that leaves the socket 0600 from the first moment, then make sure. */
async function listen(server: Server, path: string): Promise<void> {
  let previousUmask: number | undefined;
  try {
    previousUmask = process.umask(0o177);
  } catch {
    /* a runtime without umask: chmod below still closes the gap quickly */
  }
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(path, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (error) {
    throw new UserError(`control.socket_path: cannot listen on ${path}: ${errorMessage(error)}`);
  } finally {
    if (previousUmask !== undefined) process.umask(previousUmask);
  }
  chmodSync(path, 0o600);
}

/**
 * A socket file left by a crashed daemon is removed; one a live daemon answers on is not
 * (two daemons must not share a socket), nor anything that is not a socket.
 */
async function clearStaleSocket(path: string): Promise<void> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return; // nothing there
  }
  if (!isSocket) throw new UserError(`control.socket_path: ${path} exists and is not a socket`);
  const live = await new Promise<boolean>((resolve) => {
    const probe = createConnection(path);
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
  if (live) throw new UserError(`control.socket_path: another process is listening on ${path} (is vpnham already running?)`);
  unlinkSync(path);
}
