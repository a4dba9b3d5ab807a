// adopt_partner_routes, pure (src/cloud/adopt.ts) and its state (src/cloud/adopt-state.ts),
// table-tested: what a standby's read teaches, the same for every cloud; how each cloud tells its
// next hops apart (aws/gcp/azure plan.ts `*Hops`); adopted destinations planned like configured
// ones; the state file and the learning over several tables; the keys under each cloud.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { canonicalHop, learnAdopted, partnerHops, withAdopted, type AdoptedTable, type HopRoute, type HopTable } from "../../src/cloud/adopt.ts";
import { createAdopter, defaultAdoptStateFile, loadAdoptedState, parseAdoptedState, saveAdoptedState } from "../../src/cloud/adopt-state.ts";
import type { Ec2Route } from "../../src/cloud/aws/ec2.ts";
import { awsHops, destinationsOf, describeStep, planRoutes } from "../../src/cloud/aws/plan.ts";
import type { AzureRoute } from "../../src/cloud/azure/arm.ts";
import { azureHops } from "../../src/cloud/azure/plan.ts";
import type { GceRoute } from "../../src/cloud/gcp/compute.ts";
import { describeGcpStep, gcpHops, planGcpRoutes, routeName, viewGcpRoutes, type GcpDesired } from "../../src/cloud/gcp/plan.ts";
import { parseConfigWith } from "../../src/config/index.ts";
import { cloudBridgeYaml } from "./bridge-yaml.ts";

const me = "me";
const partner = "partner";
const configured = destinationsOf(["10.1.0.0/16"]);
const hops = (...routes: Array<[string, string?]>): HopTable => ({ routes: routes.map(([destination, hop]): HopRoute => ({ destination, ...(hop ? { hop } : {}) })), ours: [me] });

describe("learnAdopted: what a standby's read teaches", () => {
  const previous: AdoptedTable = { partners: [partner], destinations: ["10.50.0.0/24"] };
  const cases: Array<[string, HopTable, AdoptedTable | undefined, AdoptedTable | undefined]> = [
    ["the partner holds ours and a BGP prefix → that prefix", hops(["10.1.0.0/16", partner], ["10.60.0.0/24", partner]), undefined, { partners: [partner], destinations: ["10.60.0.0/24"] }],
    ["routes to other hops, or to none (a gateway), are not the partner's", hops(["10.1.0.0/16", partner], ["10.61.0.0/24", "else"], ["10.62.0.0/24"]), undefined, { partners: [partner], destinations: [] }],
    ["IPv6 prefixes in canonical text", hops(["10.1.0.0/16", partner], ["2001:DB8:5:0::/64", partner]), undefined, { partners: [partner], destinations: ["2001:db8:5::/64"] }],
    ["a withdrawn prefix is forgotten (the read replaces)", hops(["10.1.0.0/16", partner]), previous, { partners: [partner], destinations: [] }],
    ["ours at us (we are still active): nothing to learn, keep the previous", hops(["10.1.0.0/16", me], ["10.60.0.0/24", me]), previous, previous],
    ["ours missing: keep the previous", hops(["10.60.0.0/24", partner]), previous, previous],
    ["ours via a gateway: no partner, keep the previous", hops(["10.1.0.0/16"], ["10.60.0.0/24", partner]), previous, previous],
    ["nothing known, nothing to learn", hops(), undefined, undefined],
    [
      "addresses compared canonically (Azure echoes what was written)",
      { routes: [{ destination: "10.1.0.0/16", hop: "FD00:0::5" }, { destination: "10.60.0.0/24", hop: "fd00::5" }, { destination: "10.1.0.0/16", hop: "fd00:0:0::4" }], ours: ["fd00::4"] },
      undefined,
      { partners: ["fd00::5"], destinations: ["10.60.0.0/24"] },
    ],
  ];
  for (const [name, table, before, want] of cases) test(name, () => assert.deepEqual(learnAdopted(configured, table, before), { adopted: want }));

  test("partnerHops: every next hop not ours that our destinations route to", () => {
    assert.deepEqual(partnerHops(destinationsOf(["10.1.0.0/16", "10.2.0.0/16"]), hops(["10.1.0.0/16", "b"], ["10.2.0.0/16", "a"], ["10.3.0.0/16", "c"])), ["a", "b"]);
  });

  test("canonicalHop: IPs in canonical text, anything else as it is", () => {
    assert.deepEqual(["10.0.0.5", "FD00:0:0::5", "eni-0Ab", "projects/p/zones/z/instances/n"].map(canonicalHop), ["10.0.0.5", "fd00::5", "eni-0Ab", "projects/p/zones/z/instances/n"]);
  });
});

describe("each cloud's next hops", () => {
  test("AWS: the ENI; instances, gateways and blackholes without one are no one's", () => {
    const route = (destination: string, target: string, state = "active"): Ec2Route => ({ destination, family: 4, ...(target.startsWith("eni-") ? { networkInterfaceId: target } : {}), target, state });
    const table = { routeTableId: "rtb-1", routes: [route("10.1.0.0/16", "eni-0b", "blackhole"), route("10.60.0.0/24", "eni-0b", "blackhole"), route("10.61.0.0/24", "tgw-1"), route("10.62.0.0/24", "eni-0a")] };
    assert.deepEqual(awsHops(table, "eni-0a"), { routes: [{ destination: "10.1.0.0/16", hop: "eni-0b" }, { destination: "10.60.0.0/24", hop: "eni-0b" }, { destination: "10.61.0.0/24" }, { destination: "10.62.0.0/24", hop: "eni-0a" }], ours: ["eni-0a"] });
    assert.deepEqual(learnAdopted(configured, awsHops(table, "eni-0a"), undefined).adopted, { partners: ["eni-0b"], destinations: ["10.60.0.0/24"] }, "a dead partner's blackholes still count");
  });

  const inst = (n: string) => `projects/p/zones/z/instances/${n}`;
  const gce = (destRange: string, hop: { instance?: string; ip?: string; gateway?: string }, network = "default"): GceRoute => ({
    name: `r-${destRange}`,
    network,
    destRange,
    priority: 1000,
    tags: [],
    ...(hop.instance ? { nextHopInstance: inst(hop.instance) } : {}),
    ...(hop.ip ? { nextHopIp: hop.ip } : {}),
    target: hop.instance ? inst(hop.instance) : (hop.ip ?? hop.gateway ?? ""),
    dead: false,
  });
  const place = { instance: inst("vpn-a"), addresses: ["10.132.0.2"] };
  const gcpCases: Array<[string, GceRoute[], AdoptedTable | undefined]> = [
    ["the partner's instance", [gce("10.1.0.0/16", { instance: "vpn-b" }), gce("10.60.0.0/24", { instance: "vpn-b" }), gce("10.61.0.0/24", { instance: "other" })], { partners: [inst("vpn-b")], destinations: ["10.60.0.0/24"] }],
    ["the partner's IP", [gce("10.1.0.0/16", { ip: "10.132.0.3" }), gce("10.60.0.0/24", { ip: "10.132.0.3" }), gce("10.61.0.0/24", { ip: "10.132.0.9" })], { partners: ["10.132.0.3"], destinations: ["10.60.0.0/24"] }],
    ["a route to our own IP is ours, not the partner's", [gce("10.1.0.0/16", { ip: "10.132.0.2" }), gce("10.60.0.0/24", { ip: "10.132.0.2" })], undefined],
    ["gateways are no one's", [gce("10.1.0.0/16", { instance: "vpn-b" }), gce("0.0.0.0/0", { gateway: "default-internet-gateway" })], { partners: [inst("vpn-b")], destinations: [] }],
    ["another network's routes are not this network's", [gce("10.1.0.0/16", { instance: "vpn-b" }), gce("10.60.0.0/24", { instance: "vpn-b" }, "other")], { partners: [inst("vpn-b")], destinations: [] }],
  ];
  for (const [name, routes, want] of gcpCases) test(`GCP: ${name}`, () => assert.deepEqual(learnAdopted(configured, gcpHops(routes, "default", place, []), undefined).adopted, want));

  const va = (addressPrefix: string, nextHopIpAddress: string): AzureRoute => ({ name: addressPrefix, addressPrefix, nextHopType: "VirtualAppliance", nextHopIpAddress });
  const azureCases: Array<[string, AzureRoute[], AdoptedTable | undefined]> = [
    ["the partner's appliance address", [va("10.1.0.0/16", "10.0.0.5"), va("10.60.0.0/24", "10.0.0.5"), va("10.61.0.0/24", "10.0.0.9")], { partners: ["10.0.0.5"], destinations: ["10.60.0.0/24"] }],
    ["other next hop types are no one's", [va("10.1.0.0/16", "10.0.0.5"), { name: "gw", addressPrefix: "10.62.0.0/24", nextHopType: "VirtualNetworkGateway" }], { partners: ["10.0.0.5"], destinations: [] }],
    ["our IPv6 address is ours too", [va("10.1.0.0/16", "fd00::4"), va("10.60.0.0/24", "fd00::4")], undefined],
  ];
  for (const [name, routes, want] of azureCases) test(`Azure: ${name}`, () => assert.deepEqual(learnAdopted(configured, azureHops(routes, { 4: "10.0.0.4", 6: "fd00::4" }), undefined).adopted, want));
});

describe("adopted destinations are planned like configured ones", () => {
  test("withAdopted: configured first, adopted after, each once, only those still at the partner (or us); `keep` filters the adopted only", () => {
    const adopted = { partners: [partner], destinations: ["10.1.0.0/16", "10.60.0.0/24", "10.61.0.0/24", "10.62.0.0/24", "2001:db8:5::/64"] };
    const table = hops(["10.60.0.0/24", partner], ["10.61.0.0/24", me], ["10.62.0.0/24", "else"], ["2001:DB8:5::/64", partner]);
    assert.deepEqual(withAdopted(configured, adopted, table).map((d) => `${d.cidr}/${d.family}`), ["10.1.0.0/16/4", "10.60.0.0/24/4", "10.61.0.0/24/4", "2001:db8:5::/64/6"]);
    assert.deepEqual(withAdopted(configured, adopted, table, (d) => d.family === 6).map((d) => d.cidr), ["10.1.0.0/16", "2001:db8:5::/64"]);
    assert.deepEqual(withAdopted(configured, undefined, table), configured);
  });

  test("AWS: the plan takes over those still at the partner", () => {
    const route = (destination: string, target: string): Ec2Route => ({ destination, family: 4, networkInterfaceId: target, target, state: "blackhole" });
    const adopted = { partners: ["eni-0b"], destinations: ["10.60.0.0/24", "2001:db8:5::/64"] };
    const steps = planRoutes(configured, "eni-0a", { routeTableId: "rtb-1", routes: [route("10.1.0.0/16", "eni-0b"), route("10.60.0.0/24", "eni-0b"), route("10.70.0.0/24", "eni-0else")] }, adopted).map(describeStep);
    assert.deepEqual(steps, [
      "ReplaceRoute RouteTableId=rtb-1 DestinationCidrBlock=10.1.0.0/16 NetworkInterfaceId=eni-0a (was eni-0b)",
      "ReplaceRoute RouteTableId=rtb-1 DestinationCidrBlock=10.60.0.0/24 NetworkInterfaceId=eni-0a (was eni-0b)",
    ]);
  });

  test("GCP: adopted per network, planned and viewed only in that network", () => {
    const a = "projects/p/zones/z/instances/vpn-a";
    const b = "projects/p/zones/z/instances/vpn-b";
    const desired: GcpDesired = { prefix: "vpnham-v", priority: 1000, tags: [], instance: a, networks: ["default", "other"], destinations: configured, adopted: { default: { partners: [b], destinations: ["10.60.0.0/24"] } } };
    const theirs = (destRange: string, network: string): GceRoute => ({ name: `p-${network}-${destRange.split("/")[0]!.replace(/\./g, "-")}`, network, destRange, priority: 1000, tags: [], nextHopInstance: b, target: b, dead: false });
    const routes = [theirs("10.1.0.0/16", "default"), theirs("10.60.0.0/24", "default"), theirs("10.1.0.0/16", "other"), theirs("10.60.0.0/24", "other")];
    const insert = (network: string, cidr: string) => `routes.insert name=${routeName("vpnham-v", network, a, cidr)} network=${network} destRange=${cidr} nextHopInstance=${a} priority=1000 tags=[]`;
    assert.deepEqual(planGcpRoutes(desired, routes).map(describeGcpStep), [
      insert("default", "10.1.0.0/16"),
      `routes.delete name=p-default-10-1-0-0 (was ${b})`,
      insert("default", "10.60.0.0/24"),
      `routes.delete name=p-default-10-60-0-0 (was ${b})`,
      insert("other", "10.1.0.0/16"),
      `routes.delete name=p-other-10-1-0-0 (was ${b})`,
    ]);
    assert.deepEqual(viewGcpRoutes(desired, routes), { ours: 0, missing: 0, others: [1, 2, 3].map(() => ({ target: b, blackhole: false })) });
  });
});

describe("the state file", () => {
  const cases: Array<[string, string, object]> = [
    ["a good file", JSON.stringify({ version: 1, tables: { "rtb-1": { partners: [partner], destinations: ["10.60.0.0/24"] } } }), { "rtb-1": { partners: [partner], destinations: ["10.60.0.0/24"] } }],
    ["not JSON", "{", {}],
    ["no tables", "{}", {}],
    ["a malformed table is dropped", JSON.stringify({ tables: { "rtb-1": { partners: "x" }, "rtb-2": { partners: [], destinations: [] } } }), { "rtb-2": { partners: [], destinations: [] } }],
  ];
  for (const [name, text, want] of cases) test(`parse: ${name}`, () => assert.deepEqual(parseAdoptedState(text).state, want));

  test("one default file per bridge and cloud", () => {
    assert.equal(defaultAdoptStateFile("vpn-left", "gcp"), "/var/lib/vpnham/cloud-vpn-left-gcp.json");
  });

  test("saved atomically (no temporary left), loaded back; a missing file is empty", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vpnham-adopt-"));
    try {
      const path = join(dir, "sub", "state.json");
      assert.deepEqual(loadAdoptedState(path), { state: {}, invalid: [] });
      const state = { "rtb-1": { partners: [partner], destinations: ["10.60.0.0/24"] } };
      await saveAdoptedState(path, state);
      assert.deepEqual(loadAdoptedState(path), { state, invalid: [] });
      assert.deepEqual(readdirSync(join(dir, "sub")), ["state.json"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("createAdopter: learning over several tables", () => {
  const signal = new AbortController().signal;
  const read = (key: string, table: HopTable) => ({ name: key, read: () => Promise.resolve([[key, table] as const]) });
  const failing = { name: "t3", read: () => Promise.reject(new Error("HTTP 503")) };

  test("each table learned, a failed read named (the others still learned), a failed write tried again at the next read", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vpnham-adopt-"));
    try {
      const blocker = join(dir, "blocker");
      writeFileSync(blocker, "");
      const path = join(blocker, "state.json"); // a file where a directory must be: the write fails
      const adopter = createAdopter(path, configured);
      const sources = [read("t1", hops(["10.1.0.0/16", partner], ["10.60.0.0/24", partner])), read("t2", hops(["10.1.0.0/16", me])), failing];
      await assert.rejects(adopter.learn(sources, signal), /learning the partner's routes: t3: HTTP 503; adopt_state_file: cannot write .*blocker\/state\.json/);
      assert.deepEqual(adopter.known(), { t1: { partners: [partner], destinations: ["10.60.0.0/24"] } });
      assert.deepEqual(adopter.table("t1"), { partners: [partner], destinations: ["10.60.0.0/24"] });
      rmSync(blocker);
      await adopter.learn(sources.slice(0, 2), signal); // nothing new, but the last write failed
      assert.deepEqual(loadAdoptedState(path).state, adopter.known());
      assert.deepEqual(createAdopter(path, configured).known(), adopter.known(), "a restart starts from the file");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test("config: the same two keys under every cloud, off by default, the file relative to the config", () => {
  const clouds = {
    aws: "aws: { route_tables: [rtb-0a1b2c3d4e5f60718]",
    gcp: "gcp: {",
    azure: "azure: { subscription_id: s, resource_group: g, route_tables: [rt-a]",
  };
  for (const [cloud, head] of Object.entries(clouds)) {
    const load = (extra: string) => {
      const { config, warnings } = parseConfigWith(cloudBridgeYaml(`${head}${head.endsWith("{") ? "" : ", "}${extra} }`), { baseDir: "/etc/vpnham" });
      assert.deepEqual(warnings, [], cloud);
      return config.bridges[0]!.hooks.bridge_activate!.cloud![cloud as "aws"]!;
    };
    const off = load("");
    assert.equal(off.adoptPartnerRoutes, undefined, cloud);
    assert.equal(off.adoptStateFile, undefined, cloud);
    const on = load("adopt_partner_routes: true, adopt_state_file: state/adopted.json");
    assert.equal(on.adoptPartnerRoutes, true, cloud);
    assert.equal(on.adoptStateFile, "/etc/vpnham/state/adopted.json", cloud);
  }
});
