import { promisify } from "node:util";
import { gzip } from "node:zlib";
import { logger } from "../util/log.ts";
import { errorMessage } from "../util/errors.ts";
import { startHttpServer, type HttpAddr, type HttpRequest, type RunningHttpServer } from "../http/server.ts";
import { textResponse, type HttpResponse } from "../http/response.ts";
import type { Metrics } from "./registry.ts";
import { renderMetricsBytes } from "./render.ts";

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
  let collecting: Promise<Collected> | undefined;
  // Rendered in slices (render.ts): a scrape of 1 000 tunnels never holds up a probe.
  const collect = (): Promise<Collected> =>
    (collecting ??= renderMetricsBytes(metrics.registry)
      .then((bytes) => new Collected(bytes))
      .finally(() => {
        collecting = undefined;
      }));
  return startHttpServer(opts.addr, {
    name: "metrics",
    onResponse: (code) => metrics.httpRequests.inc({ server: "metrics", code: String(code) }),
    onShed: (action, limit) => metrics.httpConnectionsShed.inc({ server: "metrics", action, limit }),
    handler: (req) => handle(metrics, collect, req),
  });
}

const gzipAsync = promisify(gzip);

/** One collection's text (UTF-8), and its gzip form made once, off the event loop, when asked for. */
class Collected {
  private gzipped: Promise<Buffer> | undefined;
  constructor(readonly bytes: Buffer) {}
  gzip(): Promise<Buffer> {
    // zlib's async form runs in the thread pool: a 13 MB scrape never stalls probes to compress.
    // Level 1 (nginx's default too): 4–5× less CPU than level 6 on metrics text for a body ~1.6×
    // larger, still ~12× smaller than the text (docs/performance.md §Scrapes).
    return (this.gzipped ??= gzipAsync(this.bytes, { level: 1 }));
  }
}

/** Prometheus sends `Accept-Encoding: gzip`; honour it unless the client ruled it out (q=0). */
export function acceptsGzip(header: string | undefined): boolean {
  if (header === undefined) return false;
  return header.split(",").some((part) => {
    const [coding, ...params] = part.trim().toLowerCase().split(";");
    if (coding !== "gzip" && coding !== "*") return false;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

const METHOD_NOT_ALLOWED = textResponse(405, "method not allowed\n", { Allow: "GET, HEAD" });

async function handle(metrics: Metrics, collect: () => Promise<Collected>, req: HttpRequest): Promise<HttpResponse> {
  const readOnly = req.method === "GET" || req.method === "HEAD";
  if (req.path === "/") return readOnly ? textResponse(200, "ok\n") : METHOD_NOT_ALLOWED;
  if (req.path !== "/metrics") return textResponse(404, "not found\n");
  if (!readOnly) return METHOD_NOT_ALLOWED;
  try {
    const collected = await collect();
    const contentType = metrics.registry.contentType;
    if (acceptsGzip(req.headers["accept-encoding"])) {
      return { status: 200, headers: { "Content-Type": contentType, "Content-Encoding": "gzip", Vary: "Accept-Encoding" }, body: await collected.gzip() };
    }
    return { status: 200, headers: { "Content-Type": contentType, Vary: "Accept-Encoding" }, body: collected.bytes };
  } catch (error) {
    log.warn("collecting metrics failed", { error: errorMessage(error) });
    return textResponse(500, "collecting metrics failed\n");
  }
}
