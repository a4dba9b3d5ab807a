// The EC2 Query client (src/cloud/aws/ec2.ts): the exact form bodies the SDK sends, reading
// real answer and error shapes, and calls against the loopback fake that verifies signatures.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createEc2Client, formBody, isEc2Error, parseEc2Error, parseRouteTables, routeParams } from "../../../src/cloud/aws/ec2.ts";
import { createCredentialsProvider } from "../../../src/cloud/aws/credentials.ts";
import { createHttpClient } from "../../../src/cloud/http.ts";
import { isRetryable } from "../../../src/reconcile/action.ts";
import { EXAMPLE_KEY_ID, EXAMPLE_SECRET, FakeEc2 } from "../../support/fake-aws.ts";

const here = import.meta.dirname ?? new URL(".", import.meta.url).pathname;
const captured = readFileSync(join(here, "../fixtures/aws-sdk-requests.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { body: string });

describe("form bodies", () => {
  test("ReplaceRoute is byte for byte what the AWS SDK sent", () => {
    const body = formBody("ReplaceRoute", routeParams({ routeTableId: "rtb-0a1b2c3d4e5f60718", destination: "172.16.0.0/12", family: 4, networkInterfaceId: "eni-0ccccccccccccccc2" }));
    assert.equal(body, captured[1]!.body);
  });

  test("IPv6 destinations use DestinationIpv6CidrBlock; DeleteRoute names no target", () => {
    assert.equal(
      formBody("DeleteRoute", routeParams({ routeTableId: "rtb-1", destination: "2001:db8::/56", family: 6 })),
      "Action=DeleteRoute&Version=2016-11-15&RouteTableId=rtb-1&DestinationIpv6CidrBlock=2001%3Adb8%3A%3A%2F56",
    );
  });
});

describe("reading answers", () => {
  test("DescribeRouteTables: routes of every kind, IPv6, blackholes, prefix lists skipped, nextToken", () => {
    const { tables, nextToken } = parseRouteTables(`<?xml version="1.0" encoding="UTF-8"?>
<DescribeRouteTablesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
    <requestId>6f570b0b-9c18-4b07-bdec-73740dcf861a</requestId>
    <routeTableSet>
        <item>
            <routeTableId>rtb-0a1b2c3d4e5f60718</routeTableId>
            <vpcId>vpc-0123456789abcdef0</vpcId>
            <ownerId>111122223333</ownerId>
            <routeSet>
                <item><destinationCidrBlock>10.0.0.0/16</destinationCidrBlock><gatewayId>local</gatewayId><state>active</state><origin>CreateRouteTable</origin></item>
                <item><destinationCidrBlock>172.16.0.0/12</destinationCidrBlock><instanceId>i-0aaaaaaaaaaaaaaa1</instanceId><instanceOwnerId>111122223333</instanceOwnerId><networkInterfaceId>eni-0bbbbbbbbbbbbbbb1</networkInterfaceId><state>blackhole</state><origin>CreateRoute</origin></item>
                <item><destinationIpv6CidrBlock>2001:DB8:1::/56</destinationIpv6CidrBlock><networkInterfaceId>eni-0ccccccccccccccc2</networkInterfaceId><state>active</state><origin>CreateRoute</origin></item>
                <item><destinationPrefixListId>pl-63a5400a</destinationPrefixListId><gatewayId>vpce-1234</gatewayId><state>active</state><origin>CreateRoute</origin></item>
                <item><destinationCidrBlock>0.0.0.0/0</destinationCidrBlock><natGatewayId>nat-0123</natGatewayId><state>active</state><origin>CreateRoute</origin></item>
            </routeSet>
            <associationSet><item><routeTableAssociationId>rtbassoc-1</routeTableAssociationId><routeTableId>rtb-0a1b2c3d4e5f60718</routeTableId><main>true</main></item></associationSet>
            <propagatingVgwSet/>
            <tagSet><item><key>Name</key><value>private &amp; vpn</value></item></tagSet>
        </item>
    </routeTableSet>
    <nextToken>eyJ2IjoiMiJ9</nextToken>
</DescribeRouteTablesResponse>`);
    assert.equal(nextToken, "eyJ2IjoiMiJ9");
    assert.deepEqual(tables, [
      {
        routeTableId: "rtb-0a1b2c3d4e5f60718",
        vpcId: "vpc-0123456789abcdef0",
        routes: [
          { destination: "10.0.0.0/16", family: 4, target: "local", state: "active", origin: "CreateRouteTable" },
          { destination: "172.16.0.0/12", family: 4, networkInterfaceId: "eni-0bbbbbbbbbbbbbbb1", target: "eni-0bbbbbbbbbbbbbbb1", state: "blackhole", origin: "CreateRoute" },
          { destination: "2001:DB8:1::/56", family: 6, networkInterfaceId: "eni-0ccccccccccccccc2", target: "eni-0ccccccccccccccc2", state: "active", origin: "CreateRoute" },
          { destination: "0.0.0.0/0", family: 4, target: "nat-0123", state: "active", origin: "CreateRoute" },
        ],
      },
    ]);
  });

  const errorXml = (code: string) =>
    `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code><Message>m</Message></Error></Errors><RequestID>ea966190-f9aa-478e-9ede-example</RequestID></Response>`;
  for (const [code, status, retryable] of [
    ["RequestLimitExceeded", 503, true],
    ["Throttling", 400, true],
    ["InternalError", 500, true],
    ["Unavailable", 503, true],
    ["RouteAlreadyExists", 400, true],
    ["InvalidRoute.NotFound", 400, true],
    ["ExpiredToken", 400, true],
    ["UnauthorizedOperation", 403, false],
    ["AuthFailure", 401, false],
    ["InvalidRouteTableID.NotFound", 400, false],
    ["InvalidParameterValue", 400, false],
  ] as const) {
    test(`error ${code} (HTTP ${status}) is ${retryable ? "" : "not "}retryable`, () => {
      const error = parseEc2Error("ReplaceRoute", status, errorXml(code));
      assert.equal(error.code, code);
      assert.equal(error.requestId, "ea966190-f9aa-478e-9ede-example");
      assert.equal(isRetryable(error), retryable);
      assert.match(error.message, new RegExp(`^ReplaceRoute: ${code.replace(".", "\\.")}: m$`));
    });
  }

  test("a 503 that is not XML is retryable; a 400 that is not XML is not", () => {
    assert.equal(isRetryable(parseEc2Error("X", 503, "<html>busy")), true);
    assert.equal(parseEc2Error("X", 503, "").code, "HTTP503");
    assert.equal(isRetryable(parseEc2Error("X", 400, "bad")), false);
  });
});

describe("the client against the fake EC2", () => {
  const fake = new FakeEc2();
  const http = createHttpClient();
  const signal = () => AbortSignal.timeout(5000);
  const client = () =>
    createEc2Client({
      place: async () => ({ endpoint: fake.url, region: "eu-west-1" }),
      credentials: createCredentialsProvider({ env: { AWS_ACCESS_KEY_ID: EXAMPLE_KEY_ID, AWS_SECRET_ACCESS_KEY: EXAMPLE_SECRET } }),
      fetch: http.fetch,
    });
  before(() => fake.start());
  after(async () => {
    http.close();
    await fake.stop();
  });

  test("create, replace, delete, read back; every request's signature verified", async () => {
    fake.addTable("rtb-0000000000000000a", "vpc-a");
    const ec2 = client();
    await ec2.call("CreateRoute", { routeTableId: "rtb-0000000000000000a", destination: "10.9.0.0/16", family: 4, networkInterfaceId: "eni-01" }, signal());
    await ec2.call("CreateRoute", { routeTableId: "rtb-0000000000000000a", destination: "2001:db8::/56", family: 6, networkInterfaceId: "eni-01" }, signal());
    await ec2.call("ReplaceRoute", { routeTableId: "rtb-0000000000000000a", destination: "10.9.0.0/16", family: 4, networkInterfaceId: "eni-02" }, signal());
    let table = await ec2.describeRouteTable("rtb-0000000000000000a", signal());
    assert.deepEqual(table.routes.map((r) => `${r.destination}→${r.target}`), ["10.0.0.0/16→local", "10.9.0.0/16→eni-02", "2001:db8::/56→eni-01"]);
    assert.equal(table.vpcId, "vpc-a");
    await ec2.call("DeleteRoute", { routeTableId: "rtb-0000000000000000a", destination: "2001:db8::/56", family: 6 }, signal());
    table = await ec2.describeRouteTable("rtb-0000000000000000a", signal());
    assert.equal(table.routes.length, 2);
    assert.deepEqual(fake.signatureFailures, []);
  });

  test("EC2's errors come back with their code; a missing table is not retryable", async () => {
    const ec2 = client();
    fake.addTable("rtb-0000000000000000b", "vpc-a", [{ destination: "10.9.0.0/16", networkInterfaceId: "eni-01" }]);
    await assert.rejects(
      ec2.call("CreateRoute", { routeTableId: "rtb-0000000000000000b", destination: "10.9.0.0/16", family: 4, networkInterfaceId: "eni-01" }, signal()),
      (e: unknown) => isEc2Error(e) && e.code === "RouteAlreadyExists" && isRetryable(e),
    );
    await assert.rejects(ec2.describeRouteTable("rtb-00000000000000404", signal()), /not found/);
    fake.faults.push({ code: "RequestLimitExceeded", status: 503, message: "Request limit exceeded." });
    await assert.rejects(ec2.describeRouteTable("rtb-0000000000000000b", signal()), (e: unknown) => isEc2Error(e) && e.code === "RequestLimitExceeded" && isRetryable(e));
  });

  test("a wrong secret is refused by the fake as AWS would", async () => {
    const ec2 = createEc2Client({
      place: async () => ({ endpoint: fake.url, region: "eu-west-1" }),
      credentials: createCredentialsProvider({ env: { AWS_ACCESS_KEY_ID: EXAMPLE_KEY_ID, AWS_SECRET_ACCESS_KEY: "wrong" } }),
      fetch: http.fetch,
    });
    await assert.rejects(ec2.describeRouteTable("rtb-0000000000000000a", signal()), (e: unknown) => isEc2Error(e) && e.code === "SignatureDoesNotMatch");
    fake.signatureFailures.length = 0;
  });

  test("paging: pages are followed with NextToken", async () => {
    fake.pageSize = 1;
    try {
      const ec2 = client();
      const table = await ec2.describeRouteTable("rtb-0000000000000000b", signal());
      assert.equal(table.routeTableId, "rtb-0000000000000000b");
    } finally {
      fake.pageSize = 1000;
    }
  });
});
