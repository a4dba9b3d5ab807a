import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer as createHttpsServer } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { probeHttp, probeTcp } from "../../src/checks/probe-net.ts";
import type { HttpTarget } from "../../src/checks/schema.ts";
import { blackhole, closedPort, httpServer, listener, loopback } from "./support.ts";

const ua = "vpnham-test";

function http(url: string, extra: Partial<HttpTarget> = {}): HttpTarget {
  return { kind: "http", url, expectedStatus: [{ min: 200, max: 399 }], maxBodyBytes: 65536, tlsSkipVerify: false, ...extra };
}

async function timed<T>(work: Promise<T>): Promise<{ value: T; ms: number }> {
  const startMs = performance.now();
  const value = await work;
  return { value, ms: performance.now() - startMs };
}

describe("tcp probe", () => {
  test("listening port: good", async () => {
    const l = await listener();
    try {
      assert.deepEqual(await probeTcp(loopback(l.port), AbortSignal.timeout(2000)), { ok: true });
    } finally {
      await l.close();
    }
  });

  test("closed port: refused, at once", async () => {
    const port = await closedPort();
    const { value, ms } = await timed(probeTcp(loopback(port), AbortSignal.timeout(2000)));
    assert.deepEqual(value, { ok: false, reason: "refused", detail: "connection refused" });
    assert.ok(ms < 1000, `${ms} ms`);
  });

  test("blackhole (SYNs dropped): timeout when the signal fires, not later", async () => {
    const hole = await blackhole();
    try {
      const { value, ms } = await timed(probeTcp(loopback(hole.port), AbortSignal.timeout(300)));
      assert.equal(value.ok, false);
      assert.equal(!value.ok && value.reason, "timeout");
      assert.ok(ms >= 250 && ms < 1500, `${ms} ms`);
    } finally {
      await hole.close();
    }
  });

  test("an already aborted signal: timeout without connecting", async () => {
    const l = await listener();
    try {
      const controller = new AbortController();
      controller.abort();
      const value = await probeTcp(loopback(l.port), controller.signal);
      assert.equal(!value.ok && value.reason, "timeout");
    } finally {
      await l.close();
    }
  });
});

describe("http probe", () => {
  let server: Awaited<ReturnType<typeof httpServer>>;
  let base = "";
  before(async () => {
    server = await httpServer((req, res) => {
      res.on("error", () => {});
      switch (req.url) {
        case "/ok":
          return res.end("all is ok here");
        case "/redirect":
          return res.writeHead(302, { location: "/ok" }).end();
        case "/fail":
          return res.writeHead(500).end("broken");
        case "/slow":
          return void setTimeout(() => res.end("late"), 5000).unref?.();
        case "/endless": {
          res.writeHead(200, { "content-type": "text/plain" });
          const chunk = Buffer.alloc(16 * 1024, "x");
          const pump = (): void => {
            while (!res.destroyed && res.write(chunk));
            if (!res.destroyed) res.once("drain", pump);
          };
          return pump();
        }
        case "/ua":
          return res.end(String(req.headers["user-agent"]));
        default:
          return res.writeHead(404).end();
      }
    });
    base = server.url;
  });
  after(() => server.close());

  test("200: good; 302 is in the default 200-399", async () => {
    assert.deepEqual(await probeHttp(http(`${base}ok`), AbortSignal.timeout(2000), ua), { ok: true });
    assert.deepEqual(await probeHttp(http(`${base}redirect`), AbortSignal.timeout(2000), ua), { ok: true });
  });

  test("500 and 404: bad, reason status", async () => {
    assert.deepEqual(await probeHttp(http(`${base}fail`), AbortSignal.timeout(2000), ua), { ok: false, reason: "status", detail: "HTTP 500" });
    assert.deepEqual(await probeHttp(http(`${base}nope`), AbortSignal.timeout(2000), ua), { ok: false, reason: "status", detail: "HTTP 404" });
  });

  test("configured status list: 500 expected, 200 not", async () => {
    const only500 = { expectedStatus: [{ min: 500, max: 500 }] };
    assert.deepEqual(await probeHttp(http(`${base}fail`, only500), AbortSignal.timeout(2000), ua), { ok: true });
    assert.equal((await probeHttp(http(`${base}ok`, only500), AbortSignal.timeout(2000), ua)).ok, false);
  });

  test("body substring and regex", async () => {
    const signal = () => AbortSignal.timeout(2000);
    assert.deepEqual(await probeHttp(http(`${base}ok`, { bodyMatch: "is ok" }), signal(), ua), { ok: true });
    assert.deepEqual(await probeHttp(http(`${base}ok`, { bodyRegex: "^all\\b" }), signal(), ua), { ok: true });
    assert.deepEqual(await probeHttp(http(`${base}ok`, { bodyMatch: "healthy" }), signal(), ua), {
      ok: false,
      reason: "body",
      detail: 'body does not contain "healthy"',
    });
    assert.equal((await probeHttp(http(`${base}ok`, { bodyRegex: "^ok$" }), signal(), ua)).ok, false);
  });

  test("body match sees only the first max_body_bytes", async () => {
    const cut = await probeHttp(http(`${base}ok`, { bodyMatch: "here", maxBodyBytes: 8 }), AbortSignal.timeout(2000), ua);
    assert.equal(!cut.ok && cut.reason, "body");
  });

  test("slow server: timeout when the signal fires", async () => {
    const { value, ms } = await timed(probeHttp(http(`${base}slow`), AbortSignal.timeout(300), ua));
    assert.equal(!value.ok && value.reason, "timeout");
    assert.ok(ms >= 250 && ms < 1500, `${ms} ms`);
  });

  test("endless body: read up to the limit, judged, connection closed", async () => {
    const { value, ms } = await timed(probeHttp(http(`${base}endless`, { bodyMatch: "y", maxBodyBytes: 100_000 }), AbortSignal.timeout(3000), ua));
    assert.deepEqual(value, { ok: false, reason: "body", detail: 'body does not contain "y"' });
    assert.ok(ms < 2000, `${ms} ms`);
    const good = await probeHttp(http(`${base}endless`, { bodyMatch: "xxx" }), AbortSignal.timeout(3000), ua);
    assert.deepEqual(good, { ok: true });
  });

  test("endless body without a body match: status alone, the body is not read", async () => {
    assert.deepEqual(await probeHttp(http(`${base}endless`), AbortSignal.timeout(3000), ua), { ok: true });
  });

  test("refused", async () => {
    const port = await closedPort();
    const value = await probeHttp(http(`http://127.0.0.1:${port}/`), AbortSignal.timeout(2000), ua);
    assert.equal(!value.ok && value.reason, "refused");
  });

  test("sends our user agent", async () => {
    assert.deepEqual(await probeHttp(http(`${base}ua`, { bodyRegex: "^vpnham-test$" }), AbortSignal.timeout(2000), ua), { ok: true });
  });
});

function selfSignedCert(dir: string): { key: string; cert: string } | undefined {
  try {
    execFileSync(
      "openssl",
      ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-days", "1", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")],
      { stdio: "ignore" },
    );
    return { key: readFileSync(join(dir, "key.pem"), "utf8"), cert: readFileSync(join(dir, "cert.pem"), "utf8") };
  } catch {
    return undefined;
  }
}

describe("https probe", () => {
  const dir = mkdtempSync(join(tmpdir(), "h-checks-"));
  const pair = selfSignedCert(dir);
  after(() => rmSync(dir, { recursive: true, force: true }));
  const skip = pair ? false : "openssl is not installed (needed to make a test certificate)";

  test("self-signed certificate: refused unless tls_skip_verify", { skip }, async () => {
    const server = createHttpsServer({ key: pair!.key, cert: pair!.cert }, (_req, res) => res.end("tls ok"));
    await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, resolve));
    const url = `https://127.0.0.1:${(server.address() as { port: number }).port}/`;
    try {
      const target = { ...http(url), kind: "https" as const, bodyMatch: "tls ok" };
      const strict = await probeHttp(target, AbortSignal.timeout(3000), ua);
      assert.equal(!strict.ok && strict.reason, "connect", JSON.stringify(strict));
      assert.deepEqual(await probeHttp({ ...target, tlsSkipVerify: true }, AbortSignal.timeout(3000), ua), { ok: true });
    } finally {
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
