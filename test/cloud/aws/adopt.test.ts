// adopt_partner_routes as a pure planner extension (src/cloud/aws/adopt.ts) and its state file
// (src/cloud/aws/adopt-state.ts), table-tested.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Ec2Route } from "../../../src/cloud/aws/ec2.ts";
import { learnAdopted, partnerEnis, withAdopted, type AdoptedTable } from "../../../src/cloud/aws/adopt.ts";
import { loadAdoptedState, parseAdoptedState, saveAdoptedState } from "../../../src/cloud/aws/adopt-state.ts";
import { destinationsOf, describeStep, planRoutes } from "../../../src/cloud/aws/plan.ts";

const me = "eni-0me";
const partner = "eni-0partner";
const route = (destination: string, target: string, state = "active"): Ec2Route => ({
  destination,
  family: destination.includes(":") ? 6 : 4,
  ...(target.startsWith("eni-") ? { networkInterfaceId: target } : {}),
  target,
  state,
});
const table = (...routes: Ec2Route[]) => ({ routeTableId: "rtb-1", vpcId: "vpc-1", routes: [route("10.0.0.0/16", "local"), ...routes] });
const configured = destinationsOf(["10.1.0.0/16"]);

describe("learnAdopted: what a standby's read teaches", () => {
  const previous: AdoptedTable = { partners: [partner], destinations: ["10.50.0.0/24"] };
  const cases: Array<[string, Ec2Route[], AdoptedTable | undefined, AdoptedTable | undefined]> = [
    ["the partner holds ours and a BGP prefix → that prefix", [route("10.1.0.0/16", partner), route("10.60.0.0/24", partner)], undefined, { partners: [partner], destinations: ["10.60.0.0/24"] }],
    ["routes to other targets are not the partner's", [route("10.1.0.0/16", partner), route("10.61.0.0/24", "eni-0else"), route("10.62.0.0/24", "tgw-1")], undefined, { partners: [partner], destinations: [] }],
    ["IPv6 prefixes in canonical text", [route("10.1.0.0/16", partner), route("2001:DB8:5:0::/64", partner)], undefined, { partners: [partner], destinations: ["2001:db8:5::/64"] }],
    ["a dead partner's blackholes still count", [route("10.1.0.0/16", partner, "blackhole"), route("10.60.0.0/24", partner, "blackhole")], undefined, { partners: [partner], destinations: ["10.60.0.0/24"] }],
    ["a withdrawn prefix is forgotten (the read replaces)", [route("10.1.0.0/16", partner)], previous, { partners: [partner], destinations: [] }],
    ["ours at us (we are still active): nothing to learn, keep the previous", [route("10.1.0.0/16", me), route("10.60.0.0/24", me)], previous, previous],
    ["ours missing: keep the previous", [route("10.60.0.0/24", partner)], previous, previous],
    ["nothing known, nothing to learn", [], undefined, undefined],
  ];
  for (const [name, routes, before, want] of cases) {
    test(name, () => assert.deepEqual(learnAdopted(configured, me, table(...routes), before), want));
  }
  test("partnerEnis: every non-ours ENI our destinations route to", () => {
    assert.deepEqual(partnerEnis(destinationsOf(["10.1.0.0/16", "10.2.0.0/16"]), me, table(route("10.1.0.0/16", "eni-0b"), route("10.2.0.0/16", "eni-0a"), route("10.3.0.0/16", "eni-0c"))), ["eni-0a", "eni-0b"]);
  });
});

describe("withAdopted + planRoutes: adopted destinations are planned like configured ones", () => {
  test("configured first, adopted after, each once; the plan takes them over", () => {
    const all = withAdopted(configured, { partners: [partner], destinations: ["10.1.0.0/16", "10.60.0.0/24", "2001:db8:5::/64"] });
    assert.deepEqual(all.map((d) => `${d.cidr}/${d.family}`), ["10.1.0.0/16/4", "10.60.0.0/24/4", "2001:db8:5::/64/6"]);
    const steps = planRoutes(all, me, table(route("10.1.0.0/16", partner, "blackhole"), route("10.60.0.0/24", partner, "blackhole"), route("10.70.0.0/24", "eni-0else"))).map(describeStep);
    assert.deepEqual(steps, [
      `ReplaceRoute RouteTableId=rtb-1 DestinationCidrBlock=10.1.0.0/16 NetworkInterfaceId=${me} (was ${partner})`,
      `ReplaceRoute RouteTableId=rtb-1 DestinationCidrBlock=10.60.0.0/24 NetworkInterfaceId=${me} (was ${partner})`,
      `CreateRoute RouteTableId=rtb-1 DestinationIpv6CidrBlock=2001:db8:5::/64 NetworkInterfaceId=${me} (was no route)`,
    ]);
  });
  test("nothing adopted: the configured ones", () => assert.deepEqual(withAdopted(configured, undefined), configured));
});

describe("the state file", () => {
  const cases: Array<[string, string, object]> = [
    ["a good file", JSON.stringify({ version: 1, tables: { "rtb-1": { partners: [partner], destinations: ["10.60.0.0/24"] } } }), { "rtb-1": { partners: [partner], destinations: ["10.60.0.0/24"] } }],
    ["not JSON", "{", {}],
    ["no tables", "{}", {}],
    ["a malformed table is dropped", JSON.stringify({ tables: { "rtb-1": { partners: "x" }, "rtb-2": { partners: [], destinations: [] } } }), { "rtb-2": { partners: [], destinations: [] } }],
  ];
  for (const [name, text, want] of cases) test(`parse: ${name}`, () => assert.deepEqual(parseAdoptedState(text), want));

  test("saved atomically (no temporary left), loaded back; a missing file is empty", async () => {
    const dir = mkdtempSync(join(tmpdir(), "h14b-adopt-"));
    try {
      const path = join(dir, "sub", "state.json");
      assert.deepEqual(loadAdoptedState(path), {});
      const state = { "rtb-1": { partners: [partner], destinations: ["10.60.0.0/24"] } };
      await saveAdoptedState(path, state);
      assert.deepEqual(loadAdoptedState(path), state);
      assert.deepEqual(readdirSync(join(dir, "sub")), ["state.json"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
