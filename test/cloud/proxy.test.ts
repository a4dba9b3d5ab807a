// HTTPS_PROXY / HTTP_PROXY / NO_PROXY (src/cloud/proxy.ts, http.ts): the choice, table-tested;
// then real exchanges through a loopback proxy — absolute-form for http targets, a CONNECT
// tunnel with TLS for https ones (a throwaway self-signed certificate, trusted as AWS_CA_BUNDLE
// would make it) — and metadata requests that never take the proxy.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, request as httpRequest, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { connect, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHttpClient } from "../../src/cloud/http.ts";
import { proxyFor, proxySettings } from "../../src/cloud/proxy.ts";

describe("which requests take the proxy", () => {
  const settings = proxySettings({ HTTPS_PROXY: "http://proxy.corp:3128", http_proxy: "proxy.corp:8080", NO_PROXY: "localhost, .internal.example,10.0.0.5,vpce.amazonaws.com:8443,[fd00::1]" });
  const cases: Array<[string, string | undefined]> = [
    ["https://ec2.eu-west-1.amazonaws.com/", "http://proxy.corp:3128/"],
    ["http://ec2.eu-west-1.amazonaws.com/", "http://proxy.corp:8080/"],
    ["https://localhost/", undefined],
    ["https://api.internal.example/", undefined],
    ["https://internal.example/", undefined],
    ["https://notinternal.example/", "http://proxy.corp:3128/"],
    ["http://10.0.0.5:8080/", undefined],
    ["https://x.vpce.amazonaws.com:8443/", undefined],
    ["https://x.vpce.amazonaws.com/", "http://proxy.corp:3128/"],
    ["http://[fd00::1]/", undefined],
  ];
  for (const [url, want] of cases) test(url, () => assert.equal(proxyFor(new URL(url), settings)?.href, want));

  test("lower-case names win; * turns it off; no proxy set: none; bad URLs are refused", () => {
    assert.equal(proxySettings({ HTTPS_PROXY: "http://a:1", https_proxy: "http://b:2" }).httpsProxy?.host, "b:2");
    assert.equal(proxyFor(new URL("https://x/"), proxySettings({ HTTPS_PROXY: "http://a:1", NO_PROXY: "*" })), undefined);
    assert.equal(proxyFor(new URL("https://x/"), proxySettings({})), undefined);
    assert.throws(() => proxySettings({ HTTPS_PROXY: "socks5://a:1" }), /only http:\/\/ proxies/);
  });
});

function listen(server: Server, host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve) => server.listen(0, host, () => resolve((server.address() as AddressInfo).port)));
}

/** A forward proxy: absolute-form GET/POST and CONNECT tunnels, counting both. */
async function startProxy() {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url} auth=${req.headers["proxy-authorization"] ?? "-"}`);
    const target = new URL(req.url!);
    const upstream = httpRequest({ host: target.hostname, port: target.port, path: target.pathname + target.search, method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  const tunnels = new Set<{ destroy(): void }>();
  server.on("connect", (req, client, head) => {
    seen.push(`CONNECT ${req.url}`);
    tunnels.add(client);
    const [host, port] = [req.url!.slice(0, req.url!.lastIndexOf(":")), Number(req.url!.slice(req.url!.lastIndexOf(":") + 1))];
    const upstream = connect(port, host, () => {
      tunnels.add(upstream);
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
  });
  const port = await listen(server);
  return { seen, url: `http://user:p%40ss@127.0.0.1:${port}`, close: () => new Promise<void>((r) => {
      for (const socket of tunnels) socket.destroy(); // CONNECT sockets leave the server's bookkeeping
      server.closeAllConnections();
      server.close(() => r());
    }) };
}

describe("through a loopback proxy", () => {
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  const plain = createServer((req, res) => res.end(`plain ${req.method} ${req.url}`));
  let plainPort = 0;
  before(async () => {
    proxy = await startProxy();
    plainPort = await listen(plain);
  });
  after(async () => {
    await proxy.close();
    plain.closeAllConnections();
    plain.close();
  });
  const signal = () => AbortSignal.timeout(5000);

  test("an http target: absolute-form through the proxy, with Proxy-Authorization; direct requests bypass it", async () => {
    const client = createHttpClient({ proxy: proxySettings({ HTTP_PROXY: proxy.url }) });
    try {
      const res = await client.fetch({ method: "POST", url: `http://127.0.0.1:${plainPort}/x?y=1`, body: "a=b", signal: signal() });
      assert.equal(res.body, "plain POST /x?y=1");
      assert.deepEqual(proxy.seen, [`POST http://127.0.0.1:${plainPort}/x?y=1 auth=Basic ${Buffer.from("user:p@ss").toString("base64")}`]);
      const direct = await client.fetch({ method: "GET", url: `http://127.0.0.1:${plainPort}/meta`, signal: signal(), direct: true });
      assert.equal(direct.body, "plain GET /meta");
      assert.equal(proxy.seen.length, 1);
    } finally {
      client.close();
    }
  });

  const openssl = spawnSync("openssl", ["version"]).status === 0;
  test("an https target: a CONNECT tunnel, TLS to the target, its certificate checked", { skip: openssl ? false : "openssl not installed (needed to make a test certificate)" }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "vpnham-h-cloud-tls-"));
    try {
      const made = spawnSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")], { encoding: "utf8" });
      assert.equal(made.status, 0, made.stderr);
      const cert = readFileSync(join(dir, "cert.pem"));
      const secure = createHttpsServer({ key: readFileSync(join(dir, "key.pem")), cert }, (req, res) => res.end(`tls ${req.method} ${req.url}`));
      const port = await listen(secure as unknown as Server);
      const client = createHttpClient({ proxy: proxySettings({ HTTPS_PROXY: proxy.url }), ca: cert });
      const untrusting = createHttpClient({ proxy: proxySettings({ HTTPS_PROXY: proxy.url }) });
      try {
        const res = await client.fetch({ method: "POST", url: `https://127.0.0.1:${port}/`, body: "Action=DescribeRouteTables", signal: signal() });
        assert.equal(res.body, "tls POST /");
        assert.ok(proxy.seen.includes(`CONNECT 127.0.0.1:${port}`), proxy.seen.join("\n"));
        await assert.rejects(untrusting.fetch({ method: "GET", url: `https://127.0.0.1:${port}/`, signal: signal() }), /certificate|self.signed|verify/i);
      } finally {
        client.close();
        untrusting.close();
        secure.closeAllConnections();
        secure.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a proxy that refuses the tunnel: a retryable transport error naming it", async () => {
    const refusing = createServer();
    refusing.on("connect", (_req, socket) => void socket.end("HTTP/1.1 403 Forbidden\r\n\r\n", () => socket.destroy()));
    const port = await listen(refusing);
    const client = createHttpClient({ proxy: proxySettings({ HTTPS_PROXY: `http://127.0.0.1:${port}` }) });
    try {
      await assert.rejects(client.fetch({ method: "GET", url: "https://127.0.0.1:1/", signal: signal() }), (e: Error) => e.name === "HttpTransportError" && /refused CONNECT 127\.0\.0\.1:1: HTTP 403/.test(e.message));
    } finally {
      client.close();
      refusing.closeAllConnections();
      refusing.close();
    }
  });
});

describe("the AWS job behind a proxy", () => {
  test("EC2 calls go through HTTP_PROXY, IMDS never does", { timeout: 20_000 }, async () => {
    const { FakeEc2, FakeImds } = await import("../support/fake-aws.ts");
    const { AwsRoutesComponent } = await import("../../src/cloud/job.ts");
    const { createMetrics } = await import("../../src/metrics/registry.ts");
    const { waitFor } = await import("../../src/util/wait.ts");
    const { configureLogger } = await import("../../src/util/log.ts");
    configureLogger({ level: "error" });
    const proxy = await startProxy();
    const ec2 = await new FakeEc2().start();
    const imds = new FakeImds(ec2);
    await imds.start();
    ec2.addTable("rtb-0000000000000000p", "vpc-a");
    let active = false;
    const component = new AwsRoutesComponent(
      {
        bridge: "px",
        role: "active",
        peerCidrs: ["10.77.0.0/16"],
        interfaces: ["eth0"],
        aws: { timeoutMs: 2000, routeTables: ["rtb-0000000000000000p"], endpoint: ec2.url, metadataEndpoint: imds.url, networkInterfaceId: "eni-0p", driftIntervalMs: 0, partnerClaimHoldMaxMs: 60_000 },
      },
      { metrics: createMetrics({ latencyBucketsCount: 2, maxLatencyUs: 10, version: "t" }), dryRun: false, bridgeActive: () => active },
      { env: { HTTP_PROXY: proxy.url }, watchIntervalMs: 10 },
    );
    try {
      await component.start();
      active = true;
      await waitFor(() => ec2.targetOf("rtb-0000000000000000p", "10.77.0.0/16") === "eni-0p", { timeoutMs: 10_000, what: "route through the proxy" });
      assert.ok(proxy.seen.some((line) => line.startsWith(`POST ${ec2.url}`)), proxy.seen.join("\n"));
      assert.ok(!proxy.seen.some((line) => line.includes(imds.url)), "IMDS is never proxied");
      assert.ok(imds.requests.length > 0, "credentials and region came from IMDS");
      assert.deepEqual(ec2.signatureFailures, []);
    } finally {
      await component.stop();
      await Promise.all([ec2.stop(), imds.stop(), proxy.close()]);
      configureLogger({ level: "info" });
    }
  });
});
