/** Loopback targets for the probe tests: listeners, a blackhole, HTTP servers. */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer, connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { HostPort } from "../../src/config/address.ts";

export const isDeno = "Deno" in globalThis;

export function loopback(port: number): HostPort {
  return { host: "127.0.0.1", port, family: 4, text: `127.0.0.1:${port}` };
}

/** A TCP listener that accepts and holds connections; close() ends it. */
export async function listener(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A loopback port nobody listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const l = await listener();
  await l.close();
  return l.port;
}

/**
 * A port whose SYNs are dropped: a listener in a child process, frozen with SIGSTOP, whose
 * accept queue we fill first (the kernel then drops new SYNs; the client keeps retrying).
 */
export async function blackhole(): Promise<{ port: number; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "h-checks-"));
  const script = join(dir, "listener.mjs");
  writeFileSync(
    script,
    `import { createServer } from "node:net";
const server = createServer(() => {});
server.listen({ host: "127.0.0.1", port: 0, backlog: 1 }, () => process.stdout.write(server.address().port + "\\n"));
`,
  );
  const child = spawn(process.execPath, isDeno ? ["run", "-A", script] : [script], { stdio: ["ignore", "pipe", "ignore"] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once("data", (data: Buffer) => resolve(Number(String(data).trim())));
    child.once("exit", () => reject(new Error("blackhole listener exited")));
  });
  process.kill(child.pid!, "SIGSTOP");
  const fillers: Socket[] = [];
  // Bun ignores the backlog (511 + 2 fit), Deno honours it (2 fit): connect until one hangs.
  for (let i = 0; i < 2000; i++) {
    const socket = connect({ host: "127.0.0.1", port });
    socket.on("error", () => {});
    fillers.push(socket);
    const connected = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 150);
      socket.once("connect", () => (clearTimeout(timer), resolve(true)));
    });
    if (!connected) break;
  }
  return {
    port,
    close: async () => {
      for (const socket of fillers) socket.destroy();
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill("SIGKILL");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** An HTTP server on loopback; close() drops open connections too. */
export async function httpServer(handler: Handler): Promise<{ url: string; port: number; close(): Promise<void> }> {
  const server: Server = createHttpServer(handler);
  const sockets = new Set<Socket>();
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
