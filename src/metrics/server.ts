import type { IncomingMessage, ServerResponse } from "node:http";
import { logger } from "../util/log.ts";
import { errorMessage } from "../util/errors.ts";
import { requestPath, sendText, startBoundedServer, type HttpAddr, type RunningHttpServer } from "./http-server.ts";
import type { Metrics } from "./registry.ts";

const log = logger.withTag("metrics");

/**
 * Serves `GET /metrics` (Prometheus text format). `GET /` answers 200 as a liveness check,
 * as the Go vpnham's metrics server does; other paths are 404, other methods on /metrics 405.
 * Every response is counted in vpnham_http_requests_total{server="metrics"}.
 */
export async function startMetricsServer(opts: { addr: HttpAddr; metrics: Metrics }): Promise<RunningHttpServer> {
  const { metrics } = opts;
  return startBoundedServer(opts.addr, {
    name: "metrics",
    onResponse: (code) => metrics.httpRequests.inc({ server: "metrics", code: String(code) }),
    handler: (req, res) => handle(metrics, req, res),
  });
}

function handle(metrics: Metrics, req: IncomingMessage, res: ServerResponse): void {
  const path = requestPath(req);
  const readOnly = req.method === "GET" || req.method === "HEAD";
  if (path === "/") {
    if (readOnly) sendText(res, 200, "ok\n");
    else sendText(res, 405, "method not allowed\n", { Allow: "GET, HEAD" });
    return;
  }
  if (path !== "/metrics") {
    sendText(res, 404, "not found\n");
    return;
  }
  if (!readOnly) {
    sendText(res, 405, "method not allowed\n", { Allow: "GET, HEAD" });
    return;
  }
  metrics.registry
    .metrics()
    .then((body) => {
      res.writeHead(200, { "Content-Type": metrics.registry.contentType, "Content-Length": Buffer.byteLength(body) });
      res.end(body);
    })
    .catch((error: unknown) => {
      log.warn("collecting metrics failed", { error: errorMessage(error) });
      try {
        if (!res.headersSent) sendText(res, 500, "collecting metrics failed\n");
        else res.destroy();
      } catch {
        res.destroy();
      }
    });
}
