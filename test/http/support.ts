/** Shared by the HTTP server's tests: a server on 127.0.0.1 for one test, and raw exchanges with it. */
import { exchange as exchangeWith } from "../support/raw-http.ts";
import { startHttpServer, type HttpHandler, type HttpServerOptions, type RunningHttpServer } from "../../src/http/server.ts";
import { textResponse } from "../../src/http/response.ts";

export const HOST = "127.0.0.1";

export const exchange = (port: number, data: string | Buffer, giveUpMs?: number, keptAnswers?: number) => exchangeWith({ host: HOST, port }, data, giveUpMs, keptAnswers);

export async function withServer(
  handler: HttpHandler,
  fn: (server: RunningHttpServer, codes: number[], handlerErrors: unknown[]) => Promise<void>,
  options: Partial<HttpServerOptions> = {},
): Promise<void> {
  const codes: number[] = [];
  const handlerErrors: unknown[] = [];
  const server = await startHttpServer(
    { host: HOST, port: 0 },
    { name: "test", handler, onResponse: (code) => codes.push(code), onHandlerError: (error) => handlerErrors.push(error), ...options },
  );
  try {
    await fn(server, codes, handlerErrors);
  } finally {
    await server.close();
  }
}

export const ok: HttpHandler = (req) => textResponse(200, `${req.method} ${req.path}\n`);
