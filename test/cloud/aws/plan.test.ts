// Go vpnham's route rules as a pure plan (src/cloud/aws/plan.ts), table-tested.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Ec2Route } from "../../../src/cloud/aws/ec2.ts";
import { canonicalDestination, describeStep, destinationsOf, planRoutes, viewTable } from "../../../src/cloud/aws/plan.ts";

const me = "eni-0000000000000000m";
const route = (destination: string, target: string, state = "active"): Ec2Route => ({
  destination,
  family: destination.includes(":") ? 6 : 4,
  ...(target.startsWith("eni-") ? { networkInterfaceId: target } : {}),
  target,
  state,
});
const local = route("10.0.0.0/16", "local");
const table = (...routes: Ec2Route[]) => ({ routeTableId: "rtb-1", vpcId: "vpc-1", routes: [local, ...routes] });
const plan = (cidrs: string[], ...routes: Ec2Route[]) => planRoutes(destinationsOf(cidrs), me, table(...routes)).map(describeStep);

describe("planRoutes: Go's rules per destination × table", () => {
  const cases: Array<[string, string[], Ec2Route[], string[]]> = [
    ["no route → create", ["10.1.0.0/16"], [], [`CreateRoute RouteTableId=rtb-1 DestinationCidrBlock=10.1.0.0/16 NetworkInterfaceId=${me} (was no route)`]],
    ["one route to us → nothing", ["10.1.0.0/16"], [route("10.1.0.0/16", me)], []],
    ["one route elsewhere → replace", ["10.1.0.0/16"], [route("10.1.0.0/16", "eni-0partner")], [`ReplaceRoute RouteTableId=rtb-1 DestinationCidrBlock=10.1.0.0/16 NetworkInterfaceId=${me} (was eni-0partner)`]],
    ["a route to a gateway → replace", ["10.1.0.0/16"], [route("10.1.0.0/16", "tgw-0123")], [`ReplaceRoute RouteTableId=rtb-1 DestinationCidrBlock=10.1.0.0/16 NetworkInterfaceId=${me} (was tgw-0123)`]],
    ["a blackhole to a dead ENI → replace", ["10.1.0.0/16"], [route("10.1.0.0/16", "eni-0dead", "blackhole")], [`ReplaceRoute RouteTableId=rtb-1 DestinationCidrBlock=10.1.0.0/16 NetworkInterfaceId=${me} (was eni-0dead)`]],
    [
      "more than one → delete all, create",
      ["10.1.0.0/16"],
      [route("10.1.0.0/16", "eni-0a"), route("10.1.0.0/16", me)],
      [
        "DeleteRoute RouteTableId=rtb-1 DestinationCidrBlock=10.1.0.0/16 (was eni-0a)",
        `DeleteRoute RouteTableId=rtb-1 DestinationCidrBlock=10.1.0.0/16 (was ${me})`,
        `CreateRoute RouteTableId=rtb-1 DestinationCidrBlock=10.1.0.0/16 NetworkInterfaceId=${me} (was no route)`,
      ],
    ],
    [
      "IPv6 and extra_peer_cidrs too (Go only did peer_cidr, IPv4)",
      ["10.1.0.0/16", "192.168.7.0/24", "2001:db8:1::/56"],
      [route("192.168.7.0/24", "eni-0partner"), route("2001:DB8:1::/56", "eni-0partner")],
      [
        `CreateRoute RouteTableId=rtb-1 DestinationCidrBlock=10.1.0.0/16 NetworkInterfaceId=${me} (was no route)`,
        `ReplaceRoute RouteTableId=rtb-1 DestinationCidrBlock=192.168.7.0/24 NetworkInterfaceId=${me} (was eni-0partner)`,
        `ReplaceRoute RouteTableId=rtb-1 DestinationIpv6CidrBlock=2001:DB8:1::/56 NetworkInterfaceId=${me} (was eni-0partner)`,
      ],
    ],
    ["other destinations are not touched", ["10.1.0.0/16"], [route("10.1.0.0/16", me), route("10.2.0.0/16", "eni-0other")], []],
  ];
  for (const [name, cidrs, routes, want] of cases) {
    test(name, () => assert.deepEqual(plan(cidrs, ...routes), want));
  }
});

describe("viewTable", () => {
  test("counts ours, missing, and who holds the rest", () => {
    const view = viewTable(destinationsOf(["10.1.0.0/16", "10.2.0.0/16", "10.3.0.0/16"]), me, table(route("10.1.0.0/16", me), route("10.2.0.0/16", "eni-0p", "blackhole")));
    assert.deepEqual(view, { ours: 1, missing: 1, others: [{ target: "eni-0p", blackhole: true }] });
  });
});

test("canonicalDestination", () => {
  assert.equal(canonicalDestination("2001:DB8:0:0::/56"), "2001:db8::/56");
  assert.equal(canonicalDestination("10.1.0.0/16"), "10.1.0.0/16");
  assert.equal(canonicalDestination("junk"), "junk");
});
