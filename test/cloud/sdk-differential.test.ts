/**
 * The official AWS SDK (dev dependency only; never at run time) against our EC2 fake: the fake
 * accepts the SDK's signatures and the SDK reads the fake's XML as AWS's own — so the fake our
 * cloud-route tests rely on speaks EC2, not only what our client expects (docs/cloud-routes.md).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { CreateRouteCommand, DescribeRouteTablesCommand, EC2Client, ReplaceRouteCommand } from "@aws-sdk/client-ec2";
import { EXAMPLE_KEY_ID, EXAMPLE_SECRET, FakeEc2 } from "../support/fake-aws.ts";

describe("@aws-sdk/client-ec2 against the EC2 fake", () => {
  const fake = new FakeEc2();
  let ec2: EC2Client;
  before(async () => {
    await fake.start();
    fake.addTable("rtb-0aaa", "vpc-1", [{ destination: "10.1.0.0/16", networkInterfaceId: "eni-partner" }]);
    ec2 = new EC2Client({
      endpoint: fake.url,
      region: "eu-west-1",
      credentials: { accessKeyId: EXAMPLE_KEY_ID, secretAccessKey: EXAMPLE_SECRET },
      maxAttempts: 1,
    });
  });
  after(async () => {
    ec2?.destroy();
    await fake.stop();
  });

  test("DescribeRouteTables: the SDK parses the fake's answer", async () => {
    const out = await ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: ["rtb-0aaa"] }));
    const routes = out.RouteTables?.[0]?.Routes ?? [];
    assert.equal(out.RouteTables?.[0]?.RouteTableId, "rtb-0aaa");
    assert.deepEqual(
      routes.map((r) => [r.DestinationCidrBlock, r.NetworkInterfaceId ?? r.GatewayId]),
      [
        ["10.0.0.0/16", "local"],
        ["10.1.0.0/16", "eni-partner"],
      ],
    );
    assert.deepEqual(fake.signatureFailures, [], "the fake verified the SDK's SigV4");
  });

  test("ReplaceRoute and CreateRoute change the model; a duplicate create is RouteAlreadyExists", async () => {
    await ec2.send(new ReplaceRouteCommand({ RouteTableId: "rtb-0aaa", DestinationCidrBlock: "10.1.0.0/16", NetworkInterfaceId: "eni-ours" }));
    assert.equal(fake.targetOf("rtb-0aaa", "10.1.0.0/16"), "eni-ours");
    await ec2.send(new CreateRouteCommand({ RouteTableId: "rtb-0aaa", DestinationIpv6CidrBlock: "fd00:1::/64", NetworkInterfaceId: "eni-ours" }));
    assert.equal(fake.targetOf("rtb-0aaa", "fd00:1::/64"), "eni-ours");
    await assert.rejects(
      ec2.send(new CreateRouteCommand({ RouteTableId: "rtb-0aaa", DestinationCidrBlock: "10.1.0.0/16", NetworkInterfaceId: "eni-ours" })),
      (error: { name?: string; Code?: string }) => (error.name ?? error.Code) === "RouteAlreadyExists",
    );
    assert.deepEqual(fake.signatureFailures, []);
  });

  test("a wrong secret is refused by the fake the way EC2 refuses it", async () => {
    const wrong = new EC2Client({
      endpoint: fake.url,
      region: "eu-west-1",
      credentials: { accessKeyId: EXAMPLE_KEY_ID, secretAccessKey: "not-the-secret" },
      maxAttempts: 1,
    });
    try {
      await assert.rejects(wrong.send(new DescribeRouteTablesCommand({})), (error: { name?: string }) => /Signature|AuthFailure/.test(error.name ?? ""));
    } finally {
      wrong.destroy();
    }
  });
});
