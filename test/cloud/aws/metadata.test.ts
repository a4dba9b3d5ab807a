// Where the AWS job goes and who it is (src/cloud/aws/settings.ts, imds.ts, credentials.ts,
// eni.ts): endpoints from config and the SDK variables, IMDSv2 tokens and their expiry, role
// credentials refreshed before Expiration, ENIs found by address.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createCredentialsProvider, envCredentials, needsRefresh, parseRoleCredentials } from "../../../src/cloud/aws/credentials.ts";
import { bindInterfaces, eniForVpc, matchNic, readImdsNics, type ImdsNic } from "../../../src/cloud/aws/eni.ts";
import { createImdsClient, tokenStale } from "../../../src/cloud/aws/imds.ts";
import { configuredRegion, ec2Endpoint, metadataEndpoint } from "../../../src/cloud/aws/settings.ts";
import { createHttpClient } from "../../../src/cloud/http.ts";
import { FakeImds } from "../../support/fake-aws.ts";

describe("endpoints and region", () => {
  test("config, then AWS_ENDPOINT_URL_EC2, then AWS_ENDPOINT_URL, then the region's endpoint", () => {
    assert.equal(ec2Endpoint({ endpoint: "http://127.0.0.1:9" }, { AWS_ENDPOINT_URL_EC2: "http://x", AWS_ENDPOINT_URL: "http://y" }, "eu-west-1"), "http://127.0.0.1:9/");
    assert.equal(ec2Endpoint({}, { AWS_ENDPOINT_URL_EC2: "http://x/", AWS_ENDPOINT_URL: "http://y" }, "eu-west-1"), "http://x/");
    assert.equal(ec2Endpoint({}, { AWS_ENDPOINT_URL: "http://y" }, "eu-west-1"), "http://y/");
    assert.equal(ec2Endpoint({}, {}, "us-gov-west-1"), "https://ec2.us-gov-west-1.amazonaws.com/");
    assert.equal(ec2Endpoint({}, { AWS_ENDPOINT_URL: " " }, "cn-north-1"), "https://ec2.cn-north-1.amazonaws.com.cn/");
  });

  test("region: config, AWS_REGION, AWS_DEFAULT_REGION, else unknown (IMDS)", () => {
    assert.equal(configuredRegion({ region: "eu-central-1" }, { AWS_REGION: "us-east-1" }), "eu-central-1");
    assert.equal(configuredRegion({}, { AWS_REGION: "us-east-1", AWS_DEFAULT_REGION: "x" }), "us-east-1");
    assert.equal(configuredRegion({}, { AWS_DEFAULT_REGION: "ap-south-1" }), "ap-south-1");
    assert.equal(configuredRegion({}, {}), undefined);
  });

  test("metadata: config, AWS_EC2_METADATA_SERVICE_ENDPOINT, default; disabled by AWS_EC2_METADATA_DISABLED", () => {
    assert.equal(metadataEndpoint({ metadataEndpoint: "http://127.0.0.1:1/" }, { AWS_EC2_METADATA_DISABLED: "true" }), "http://127.0.0.1:1");
    assert.equal(metadataEndpoint({}, { AWS_EC2_METADATA_SERVICE_ENDPOINT: "http://[fd00:ec2::254]" }), "http://[fd00:ec2::254]");
    assert.equal(metadataEndpoint({}, {}), "http://169.254.169.254");
    assert.equal(metadataEndpoint({}, { AWS_EC2_METADATA_DISABLED: "TRUE" }), undefined);
  });
});

describe("credentials, pure parts", () => {
  test("environment credentials need both the id and the secret", () => {
    assert.equal(envCredentials({ AWS_ACCESS_KEY_ID: "A" }), undefined);
    assert.deepEqual(envCredentials({ AWS_ACCESS_KEY_ID: "A", AWS_SECRET_ACCESS_KEY: "S", AWS_SESSION_TOKEN: "T" }), { accessKeyId: "A", secretAccessKey: "S", sessionToken: "T" });
  });

  test("the IMDS role document", () => {
    const c = parseRoleCredentials(JSON.stringify({ Code: "Success", AccessKeyId: "ASIA1", SecretAccessKey: "s", Token: "t", Expiration: "2026-11-21T10:00:00Z" }));
    assert.deepEqual(c, { accessKeyId: "ASIA1", secretAccessKey: "s", sessionToken: "t", expiresAtMs: Date.UTC(2026, 10, 21, 10) });
    assert.throws(() => parseRoleCredentials("<html>"), /not JSON/);
    assert.throws(() => parseRoleCredentials(JSON.stringify({ Code: "Failed" })), /Code Failed/);
    assert.throws(() => parseRoleCredentials(JSON.stringify({ Code: "Success" })), /missing/);
  });

  test("refresh 5 min before expiry, or at half life when that is shorter", () => {
    const c = { accessKeyId: "a", secretAccessKey: "s", expiresAtMs: 6 * 3600_000 };
    assert.equal(needsRefresh(c, 0, 6 * 3600_000 - 301_000), false);
    assert.equal(needsRefresh(c, 0, 6 * 3600_000 - 299_000), true);
    const short = { ...c, expiresAtMs: 10_000 };
    assert.equal(needsRefresh(short, 0, 4_999), false);
    assert.equal(needsRefresh(short, 0, 5_000), true);
    assert.equal(needsRefresh({ accessKeyId: "a", secretAccessKey: "s" }, 0, 1e15), false);
  });

  test("IMDS tokens are replaced a minute early, or at half life", () => {
    assert.equal(tokenStale(0, 21_600, 21_539_000), false);
    assert.equal(tokenStale(0, 21_600, 21_540_000), true);
    assert.equal(tokenStale(0, 2, 999), false);
    assert.equal(tokenStale(0, 2, 1000), true);
  });
});

describe("ENI by address", () => {
  const nics: ImdsNic[] = [
    { mac: "0e:00:00:00:00:01", eni: "eni-01", vpcId: "vpc-a", ipv4s: ["10.0.1.10", "10.0.1.11"], ipv6s: [] },
    { mac: "0e:00:00:00:00:02", eni: "eni-02", vpcId: "vpc-b", ipv4s: ["10.1.1.10"], ipv6s: ["2001:db8::10"] },
    { mac: "0e:00:00:00:00:03", eni: "eni-03", vpcId: "vpc-c", ipv4s: [], ipv6s: ["2001:db8:c::10"] },
  ];
  const local: Record<string, { ipv4: string[]; ipv6: string[] }> = {
    eth0: { ipv4: ["10.0.1.11"], ipv6: [] },
    eth1: { ipv4: ["192.168.0.1"], ipv6: ["2001:DB8::10"] },
    eth2: { ipv4: [], ipv6: ["2001:db8:c::10"] },
    eth3: { ipv4: ["10.0.1.10"], ipv6: [] },
    lo9: { ipv4: [], ipv6: [] },
    eth9: { ipv4: ["172.31.0.1"], ipv6: [] },
  };
  const of = (n: string) => local[n]!;

  test("matchNic: secondary addresses count; IPv6 compares case-insensitively", () => {
    assert.equal(matchNic(of("eth0"), nics)?.eni, "eni-01");
    assert.equal(matchNic(of("eth1"), nics)?.eni, "eni-02");
    assert.equal(matchNic(of("eth9"), nics), undefined);
  });

  test("bridge and secondary interfaces bind one ENI per VPC; tables pick by VPC", () => {
    const bindings = bindInterfaces(["eth0", "eth1", "eth2"], of, nics);
    assert.deepEqual(bindings.map((b) => `${b.interface}:${b.eni}:${b.vpcId}`), ["eth0:eni-01:vpc-a", "eth1:eni-02:vpc-b", "eth2:eni-03:vpc-c"]);
    assert.equal(eniForVpc(bindings, "vpc-b"), "eni-02");
    assert.equal(eniForVpc(bindings, "vpc-z"), undefined);
    assert.equal(eniForVpc(bindings, undefined), "eni-01");
    assert.equal(eniForVpc([{ interface: "(config)", eni: "eni-given" }], "vpc-z"), "eni-given");
  });

  test("refusals name the interface", () => {
    assert.throws(() => bindInterfaces(["lo9"], of, nics), /lo9 has no address/);
    assert.throws(() => bindInterfaces(["eth9"], of, nics), /no ENI of this instance has eth9's addresses \(172\.31\.0\.1\)/);
    assert.throws(() => bindInterfaces(["eth0", "eth3"], of, nics), /eth3 and eth0 are both in vpc-a/);
  });
});

describe("IMDSv2 against the fake", () => {
  const imds = new FakeImds(undefined);
  const http = createHttpClient();
  before(() => imds.start());
  after(async () => {
    http.close();
    await imds.stop();
  });
  const signal = () => AbortSignal.timeout(5000);

  test("one token for many reads; NICs read by MAC", async () => {
    imds.nics = [{ mac: "0e:aa", eni: "eni-0aa", vpcId: "vpc-a", ipv4s: ["10.0.0.5"], ipv6s: ["2001:db8::5"] }, { mac: "0e:bb", eni: "eni-0bb", vpcId: "vpc-b", ipv4s: ["10.1.0.5"] }];
    const client = createImdsClient({ endpoint: imds.url, fetch: http.fetch });
    const before = imds.tokensIssued;
    assert.equal(await client.get("placement/region", signal()), "eu-west-1");
    assert.deepEqual(await readImdsNics(client, signal()), [
      { mac: "0e:aa", eni: "eni-0aa", vpcId: "vpc-a", ipv4s: ["10.0.0.5"], ipv6s: ["2001:db8::5"] },
      { mac: "0e:bb", eni: "eni-0bb", vpcId: "vpc-b", ipv4s: ["10.1.0.5"], ipv6s: [] },
    ]);
    assert.equal(imds.tokensIssued - before, 1);
    assert.equal(await client.get("no/such/thing", signal()), undefined);
  });

  test("a token IMDS expired (it granted less than asked) is replaced after the 401", async () => {
    const client = createImdsClient({ endpoint: imds.url, fetch: http.fetch });
    imds.maxTokenTtlSeconds = 1;
    try {
      assert.equal(await client.get("placement/region", signal()), "eu-west-1");
      const issued = imds.tokensIssued;
      // The granted TTL (1 s) is honoured: refreshed at half life, before the service refuses it.
      await new Promise((r) => setTimeout(r, 600));
      assert.equal(await client.get("placement/region", signal()), "eu-west-1");
      assert.equal(imds.tokensIssued, issued + 1);
      // A token revoked behind our back (IMDS restarted): 401, new token, same answer.
      imds.tokens.clear();
      assert.equal(await client.get("placement/region", signal()), "eu-west-1");
      assert.equal(imds.tokensIssued, issued + 2);
    } finally {
      imds.maxTokenTtlSeconds = 21_600;
    }
  });

  test("role credentials: fetched once, refreshed before Expiration, environment first", async () => {
    let now = Date.now();
    const client = createImdsClient({ endpoint: imds.url, fetch: http.fetch });
    const provider = createCredentialsProvider({ env: {}, imds: client, now: () => now });
    imds.credentialLifetimeMs = 3600_000;
    const first = await provider.get(signal());
    assert.match(first.accessKeyId, /^ASIA/);
    assert.ok(first.sessionToken);
    assert.equal(provider.source(), "instance role vpnham-routes");
    assert.equal((await provider.get(signal())).accessKeyId, first.accessKeyId);
    now += 3600_000 - 4 * 60_000; // within 5 min of Expiration
    const second = await provider.get(signal());
    assert.notEqual(second.accessKeyId, first.accessKeyId);
    provider.invalidate();
    assert.notEqual((await provider.get(signal())).accessKeyId, second.accessKeyId);
    const fromEnv = createCredentialsProvider({ env: { AWS_ACCESS_KEY_ID: "AKID", AWS_SECRET_ACCESS_KEY: "S" }, imds: client });
    assert.equal((await fromEnv.get(signal())).accessKeyId, "AKID");
    assert.equal(fromEnv.source(), "environment");
  });

  test("no role, no IMDS: errors that say what to set", async () => {
    imds.role = undefined;
    try {
      const provider = createCredentialsProvider({ env: {}, imds: createImdsClient({ endpoint: imds.url, fetch: http.fetch }) });
      await assert.rejects(provider.get(signal()), /no IAM role/);
    } finally {
      imds.role = "vpnham-routes";
    }
    await assert.rejects(createCredentialsProvider({ env: {} }).get(signal()), /set AWS_ACCESS_KEY_ID/);
  });
});
