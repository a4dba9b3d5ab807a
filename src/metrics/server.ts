import { logger } from "../util/log.ts";
import { errorMessage } from "../util/errors.ts";
import { startHttpServer, type HttpAddr, type HttpRequest, type RunningHttpServer } from "../http/server.ts";
import { textResponse, type HttpResponse } from "../http/response.ts";
import type { Metrics } from "./registry.ts";

const log = logger.withTag("metrics");

/**
 * Serves `GET /metrics` (Prometheus text format). `GET /` answers 200 as a liveness check,
 * as the Go vpnham's metrics server does; other paths are 404, other methods on /metrics 405.
 * Every response is counted in vpnham_http_requests_total{server="metrics"}.
 */
export async function startMetricsServer(opts: { addr: HttpAddr; metrics: Metrics }): Promise<RunningHttpServer> {
  const { metrics } = opts;
  // One collection at a time: requests that come while one runs share its text, so that a
  // flood of scrapes costs one collection per turn, not one each (docs/hardening.md).
  let collecting: Promise<string> | undefined;
  const collect = (): Promise<string> =>
    (collecting ??= metrics.registry.metrics().finally(() => {
      collecting = undefined;
    }));
  return startHttpServer(opts.addr, {
    name: "metrics",
    onResponse: (code) => metrics.httpRequests.inc({ server: "metrics", code: String(code) }),
    onShed: (action, limit) => metrics.httpConnectionsShed.inc({ server: "metrics", action, limit }),
    handler: (req) => handle(metrics, collect, req),
  });
}

const METHOD_NOT_ALLOWED = textResponse(405, "method not allowed\n", { Allow: "GET, HEAD" });

async function handle(metrics: Metrics, collect: () => Promise<string>, req: HttpRequest): Promise<HttpResponse> {
  const readOnly = req.method === "GET" || req.method === "HEAD";
  if (req.path === "/") return readOnly ? textResponse(200, "ok\n") : METHOD_NOT_ALLOWED;
  if (req.path !== "/metrics") return textResponse(404, "not found\n");
  if (!readOnly) return METHOD_NOT_ALLOWED;
  try {
    const body = await collect();
    return { status: 200, headers: { "Content-Type": metrics.registry.contentType }, body };
  } catch (error) {
    log.warn("collecting metrics failed", { error: errorMessage(error) });
    return textResponse(500, "collecting metrics failed\n");
  }
}
