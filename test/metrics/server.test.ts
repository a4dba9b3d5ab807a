import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { initBridge } from "../../src/metrics/bridge-series.ts";
import { createMetrics } from "../../src/metrics/registry.ts";
import { startMetricsServer } from "../../src/metrics/server.ts";
import { parsePromText, rawRequest, waitFor } from "./support.ts";

const goScrape = readFileSync(new URL("./fixtures/go-vpnham-0.0.18-metrics-scrape.txt", (import.meta as unknown as { url: string }).url), "utf8");

async function withServer(fn: (port: number, metrics: ReturnType<typeof createMetrics>) => Promise<void>): Promise<void> {
  const metrics = createMetrics({ latencyBucketsCount: 33, maxLatencyUs: 1_000_000, version: "1.2.3" });
  initBridge(metrics, "vpnham-dev-lft", ["eth1", "eth2"]);
  metrics.latencyForward.observe({ bridge: "vpnham-dev-lft", tunnel: "eth1", probe_location_src: "left", probe_location_dst: "right" }, 321);
  const server = await startMetricsServer({ addr: { host: "127.0.0.1", port: 0 }, metrics });
  try {
    await fn(server.port, metrics);
  } finally {
    await server.close();
  }
}

describe("text-format checker", () => {
  test("accepts the Go vpnham's own scrape", () => {
    assert.deepEqual(parsePromText(goScrape).problems, []);
  });
  test("rejects what promtool would reject", () => {
    const bad = [
      "orphan_sample 1",
      "# HELP h_seconds help",
      "# TYPE h_seconds histogram",
      'h_seconds_bucket{le="2"} 3',
      'h_seconds_bucket{le="1"} 2',
      "h_seconds_sum 1",
      "h_seconds_count 3",
      "# HELP c help",
      "# TYPE c counter",
      "c 1",
      "c 2",
    ].join("\n");
    const { problems } = parsePromText(bad);
    assert.ok(problems.some((p) => p.includes("without HELP/TYPE")), "orphan sample");
    assert.ok(problems.some((p) => p.includes("le not ascending")), "le order");
    assert.ok(problems.some((p) => p.includes("no +Inf")), "+Inf");
    assert.ok(problems.some((p) => p.includes("should end in _total")), "counter name");
    assert.ok(problems.some((p) => p.includes("duplicate series")), "duplicate");
  });
});

describe("metrics server", () => {
  test("GET /metrics serves valid Prometheus text over real HTTP", async () => {
    await withServer(async (port) => {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
      const { families, problems } = parsePromText(await res.text());
      assert.deepEqual(problems, []);
      assert.equal(families.get("vpnham_probes_failed_total")?.samples.length, 2);
      assert.equal(families.get("vpnham_probes_latency_forward_microseconds")?.type, "histogram");
      assert.ok(families.has("process_resident_memory_bytes"));
    });
  });

  test("other paths 404, other methods 405, / is a liveness check, all counted by code", async () => {
    await withServer(async (port, metrics) => {
      const base = `http://127.0.0.1:${port}`;
      assert.equal((await fetch(`${base}/nope`)).status, 404);
      assert.equal((await fetch(`${base}/metrics/extra`)).status, 404);
      const post = await fetch(`${base}/metrics`, { method: "POST", body: "x" });
      assert.equal(post.status, 405);
      assert.match(post.headers.get("allow") ?? "", /GET/);
      assert.equal((await fetch(`${base}/`)).status, 200);
      assert.equal((await fetch(`${base}/metrics?x=1`)).status, 200);
      // Counted when the response finishes on the server side, which may trail the client by a tick.
      await waitFor(async () => /code="200"\} 2/.test(await metrics.registry.metrics()), 2000, "counts");
      const text = await metrics.registry.metrics();
      assert.match(text, /vpnham_http_requests_total\{server="metrics",code="404"\} 2/);
      assert.match(text, /vpnham_http_requests_total\{server="metrics",code="405"\} 1/);
      assert.match(text, /vpnham_http_requests_total\{server="metrics",code="200"\} 2/);
    });
  });

  test("bad requests get an error answer and the server keeps serving", async () => {
    await withServer(async (port) => {
      const huge = await rawRequest(port, `GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20 * 1024)}\r\n\r\n`);
      assert.match(huge, /^HTTP\/1\.1 4\d\d/, "oversized header refused");
      const garbage = await rawRequest(port, "NOT HTTP AT ALL\r\n\r\n");
      assert.ok(garbage === "" || /^HTTP\/1\.1 4\d\d/.test(garbage), `garbage refused: ${garbage.slice(0, 40)}`);
      const bigBody = await rawRequest(port, `POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\nConnection: close\r\n\r\n${"b".repeat(100_000)}`);
      assert.ok(bigBody === "" || /^HTTP\/1\.1 405/.test(bigBody), "big body refused or cut");
      const ok = await rawRequest(port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      assert.match(ok, /^HTTP\/1\.1 200/);
      assert.match(ok, /vpnham_version\{version="1\.2\.3"\} 1/);
    });
  });

  test("a port already in use is reported, not thrown later", async () => {
    await withServer(async (port, metrics) => {
      await assert.rejects(startMetricsServer({ addr: { host: "127.0.0.1", port }, metrics }), /EADDRINUSE|in use/i);
    });
  });
});
