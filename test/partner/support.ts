import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export { rawRequest, waitFor } from "../metrics/support.ts";

export interface TestServer {
  port: number;
  /** TCP connections accepted so far. */
  connections(): number;
  /** Request targets seen, with their headers. */
  readonly requests: { url: string; headers: IncomingMessage["headers"]; remoteAddress: string | undefined }[];
  close(): Promise<void>;
}

/** A plain node:http server on 127.0.0.1 standing in for a partner (Go or ours). */
export async function startTestServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<TestServer> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const requests: TestServer["requests"] = [];
  const server = createServer((req, res) => {
    requests.push({ url: req.url ?? "", headers: req.headers, remoteAddress: req.socket.remoteAddress });
    handler(req, res);
  });
  server.keepAliveTimeout = 30_000;
  server.on("connection", (socket: Socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on("error", () => {});
    socket.once("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => connections,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

/** A valid status body as the partner would send it. */
export function statusJson(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    name: "vpnham-dev-lft",
    role: "standby",
    active: false,
    active_since: "2026-11-21T05:13:57.68286216Z",
    up: true,
    up_since: "0001-01-01T00:00:00Z",
    interfaces: { eth1: { active: true, active_since: "2026-11-21T05:13:57.68286216Z", up: true, up_since: "2026-11-21T05:13:57Z" } },
    ...overrides,
  });
}
