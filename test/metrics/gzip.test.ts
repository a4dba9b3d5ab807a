import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { initBridge } from "../../src/metrics/bridge-series.ts";
import { createMetrics } from "../../src/metrics/registry.ts";
import { acceptsGzip, startMetricsServer } from "../../src/metrics/server.ts";
import { parsePromText } from "./support.ts";

describe("Accept-Encoding", () => {
  const table: [string | undefined, boolean][] = [
    [undefined, false],
    ["gzip", true],
    ["gzip, deflate", true],
    ["deflate, GZIP;q=0.5", true],
    ["gzip;q=0", false],
    ["identity", false],
    ["*", true],
    ["x-gzip-not", false],
  ];
  for (const [header, expected] of table) test(`${header ?? "(none)"} → ${expected}`, () => assert.equal(acceptsGzip(header), expected));
});

test("a scrape asking for gzip gets the same exposition, compressed; others get text", async () => {
  const metrics = createMetrics({ latencyBucketsCount: 33, maxLatencyUs: 1_000_000, version: "1.2.3" });
  initBridge(metrics, "b", ["t0", "t1"]);
  const server = await startMetricsServer({ addr: { host: "127.0.0.1", port: 0 }, metrics });
  try {
    const url = `http://127.0.0.1:${server.port}/metrics`;
    // fetch would decompress on its own: ask with node:http semantics via a raw header check.
    const zipped = await fetch(url, { headers: { "Accept-Encoding": "gzip" } });
    assert.equal(zipped.status, 200);
    const plain = await fetch(url, { headers: { "Accept-Encoding": "identity" } });
    assert.equal(plain.headers.get("content-encoding"), null);
    const plainText = await plain.text();
    assert.deepEqual(parsePromText(plainText).problems, []);
    // The decompressed gzip answer is a valid exposition with the same series.
    const zippedText = await zipped.text();
    assert.deepEqual(parsePromText(zippedText).problems, []);
    const bridgeLines = (text: string) => text.split("\n").filter((l) => l.startsWith("vpnham_tunnel_"));
    assert.deepEqual(bridgeLines(zippedText), bridgeLines(plainText));
    // And on the wire it really is gzip.
    const raw = await new Promise<Buffer>((resolve, reject) => {
      import("node:http").then(({ get }) =>
        get(url, { headers: { "Accept-Encoding": "gzip" } }, (res) => {
          assert.equal(res.headers["content-encoding"], "gzip");
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => resolve(Buffer.concat(chunks)));
        }).on("error", reject),
      );
    });
    assert.ok(raw.length < Buffer.byteLength(plainText), "smaller on the wire");
    assert.equal(gunzipSync(raw).toString("utf8").split("\n").filter((l) => l.startsWith("vpnham_bridge")).length > 0, true);
  } finally {
    await server.close();
  }
});
