// adopt_partner_routes' guards (docs/cloud-routes.md §Adopting the partner's routes), table-tested:
// an adopted destination is taken over only while a route to it still goes to the partner (or to
// us); on GCP only the partner's routes are deleted and only routes with our tags count; a read
// with more than one candidate partner teaches nothing; other bridges' destinations and default
// routes are never learned; a corrupt stored entry is dropped; two writers of one state file are
// refused at config validation.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { learnAdopted, type AdoptedTable, type HopRoute, type HopTable } from "../../src/cloud/adopt.ts";
import { createAdopter, parseAdoptedState } from "../../src/cloud/adopt-state.ts";
import type { Ec2Route } from "../../src/cloud/aws/ec2.ts";
import { describeStep, destinationsOf, planRoutes, viewTable } from "../../src/cloud/aws/plan.ts";
import type { AzureRoute } from "../../src/cloud/azure/arm.ts";
import { azureHops, describeAzureStep, planAzureRoutes, viewAzureRoutes, type AzureDesired } from "../../src/cloud/azure/plan.ts";
import type { GceRoute } from "../../src/cloud/gcp/compute.ts";
import { describeGcpStep, gcpHops, planGcpRoutes, routeName, viewGcpRoutes, type GcpDesired } from "../../src/cloud/gcp/plan.ts";
import { makeCloudJob, type AwsRoutesSettings } from "../../src/cloud/job.ts";
import { parseConfigWith } from "../../src/config/index.ts";
import type { JobContext } from "../../src/daemon/component.ts";
import { createMetrics } from "../../src/metrics/registry.ts";

const configured = destinationsOf(["10.1.0.0/16"]);
/** Six adopted prefixes, each in another state at activation (the comments of each cloud's table). */
const learned = ["10.60.0.0/24", "10.61.0.0/24", "10.62.0.0/24", "10.63.0.0/24", "10.64.0.0/24", "10.65.0.0/24"];

describe("at activation, an adopted destination is taken only while a route to it goes to the partner (or to us)", () => {
  test("AWS: the partner's blackhole is replaced; a TGW, another ENI, a missing route, a targetless blackhole left alone", () => {
    const route = (destination: string, target: string, state = "active"): Ec2Route => ({ destination, family: 4, ...(target.startsWith("eni-") ? { networkInterfaceId: target } : {}), target, state });
    const table = {
      routeTableId: "rtb-1",
      routes: [
        route("10.1.0.0/16", "eni-0b", "blackhole"),
        route("10.60.0.0/24", "eni-0b", "blackhole"), // the dead partner's: taken
        route("10.61.0.0/24", "tgw-1"), // moved to a transit gateway since the last read
        route("10.62.0.0/24", "eni-0fw"), // moved to another appliance
        // 10.63.0.0/24: gone (withdrawn or deleted): not created
        route("10.64.0.0/24", "eni-0a"), // already ours
        route("10.65.0.0/24", "pcx-1", "blackhole"), // a dead peering's
      ],
    };
    const adopted: AdoptedTable = { partners: ["eni-0b"], destinations: learned };
    assert.deepEqual(planRoutes(configured, "eni-0a", table, adopted).map(describeStep), [
      "ReplaceRoute RouteTableId=rtb-1 DestinationCidrBlock=10.1.0.0/16 NetworkInterfaceId=eni-0a (was eni-0b)",
      "ReplaceRoute RouteTableId=rtb-1 DestinationCidrBlock=10.60.0.0/24 NetworkInterfaceId=eni-0a (was eni-0b)",
    ]);
    assert.deepEqual(viewTable(configured, "eni-0a", table, adopted), { ours: 1, missing: 0, others: [{ target: "eni-0b", blackhole: true }, { target: "eni-0b", blackhole: true }] });
  });

  test("Azure: the partner's appliance route is updated; a gateway, another appliance, a missing or None route left alone", () => {
    const va = (addressPrefix: string, nextHopIpAddress: string): AzureRoute => ({ name: `r-${addressPrefix}`, addressPrefix, nextHopType: "VirtualAppliance", nextHopIpAddress });
    const routes: AzureRoute[] = [
      va("10.1.0.0/16", "10.0.0.5"),
      va("10.60.0.0/24", "10.0.0.5"),
      { name: "gw", addressPrefix: "10.61.0.0/24", nextHopType: "VirtualNetworkGateway" },
      va("10.62.0.0/24", "10.0.0.9"),
      va("10.64.0.0/24", "10.0.0.4"),
      { name: "none", addressPrefix: "10.65.0.0/24", nextHopType: "None" },
    ];
    const desired: AzureDesired = { prefix: "vpnham-v", destinations: configured, nextHop: { 4: "10.0.0.4" }, adopted: { partners: ["10.0.0.5"], destinations: learned } };
    assert.deepEqual(planAzureRoutes(desired, routes).map((s) => describeAzureStep("rt", s)), [
      "routes.createOrUpdate routeTable=rt name=r-10.1.0.0/16 addressPrefix=10.1.0.0/16 nextHopType=VirtualAppliance nextHopIpAddress=10.0.0.4 (was 10.0.0.5)",
      "routes.createOrUpdate routeTable=rt name=r-10.60.0.0/24 addressPrefix=10.60.0.0/24 nextHopType=VirtualAppliance nextHopIpAddress=10.0.0.4 (was 10.0.0.5)",
    ]);
    assert.deepEqual(viewAzureRoutes(desired, routes), { ours: 1, missing: 0, others: [{ target: "10.0.0.5", blackhole: false }, { target: "10.0.0.5", blackhole: false }] });
  });

  test("Azure: an adopted prefix of a family we have no address for is left out, not an error", () => {
    const desired: AzureDesired = { prefix: "v", destinations: configured, nextHop: { 4: "10.0.0.4" }, adopted: { partners: ["fd00::5"], destinations: ["2001:db8:5::/64"] } };
    const routes: AzureRoute[] = [{ name: "p6", addressPrefix: "2001:db8:5::/64", nextHopType: "VirtualAppliance", nextHopIpAddress: "fd00::5" }];
    assert.deepEqual(planAzureRoutes(desired, routes).map((s) => describeAzureStep("rt", s)), [
      "routes.createOrUpdate routeTable=rt name=v-10.1.0.0-16 addressPrefix=10.1.0.0/16 nextHopType=VirtualAppliance nextHopIpAddress=10.0.0.4 (was no route)",
    ]);
  });

  const inst = (n: string) => `projects/p/zones/z/instances/${n}`;
  const a = inst("vpn-a");
  const b = inst("vpn-b");
  const gce = (name: string, destRange: string, hop: { instance?: string; ip?: string; tunnel?: string }, extra: Partial<GceRoute> = {}): GceRoute => ({
    name,
    network: "default",
    destRange,
    priority: 1000,
    tags: [],
    ...(hop.instance ? { nextHopInstance: hop.instance } : {}),
    ...(hop.ip ? { nextHopIp: hop.ip } : {}),
    target: hop.instance ?? hop.ip ?? hop.tunnel ?? "",
    dead: false,
    ...extra,
  });
  const desiredGcp = (adopted: AdoptedTable, tags: string[] = []): GcpDesired => ({ prefix: "v", priority: 1000, tags, instance: a, addresses: ["10.132.0.2"], networks: ["default"], destinations: configured, adopted: { default: adopted } });
  const insert = (cidr: string, tags = "") => `routes.insert name=${routeName("v", "default", a, cidr)} network=default destRange=${cidr} nextHopInstance=${a} priority=1000 tags=[${tags}]`;

  test("GCP: only the partner's routes for an adopted range are deleted; a VPN tunnel's, another IP's, another tag's stay", () => {
    const routes = [
      gce(routeName("v", "default", a, "10.1.0.0/16"), "10.1.0.0/16", { instance: a }),
      gce("pb", "10.50.0.0/16", { instance: b }),
      gce("tun", "10.50.0.0/16", { tunnel: "projects/p/regions/r/vpnTunnels/t" }, { priority: 2000 }),
      gce("tagged", "10.50.0.0/16", { ip: "10.0.0.77" }, { tags: ["groupb"] }),
      gce("pb-tagged", "10.50.0.0/16", { instance: b }, { tags: ["groupb"] }),
    ];
    const desired = desiredGcp({ partners: [b], destinations: ["10.50.0.0/16"] });
    assert.deepEqual(planGcpRoutes(desired, routes).map(describeGcpStep), [insert("10.50.0.0/16"), `routes.delete name=pb (was ${b})`]);
    assert.deepEqual(viewGcpRoutes(desired, routes), { ours: 1, missing: 0, others: [{ target: b, blackhole: false }] });
    const after = [routes[0]!, gce(routeName("v", "default", a, "10.50.0.0/16"), "10.50.0.0/16", { instance: a }), ...routes.slice(2)];
    assert.deepEqual(planGcpRoutes(desired, after), [], "taken: the others are not ours to delete");
    assert.deepEqual(viewGcpRoutes(desired, after), { ours: 2, missing: 0, others: [] });
  });

  test("GCP: a range that moved to another hop, is gone, or has the partner only under other tags is left alone", () => {
    const routes = [
      gce(routeName("v", "default", a, "10.1.0.0/16"), "10.1.0.0/16", { instance: a }),
      gce("moved", "10.61.0.0/24", { ip: "10.132.0.9" }),
      gce("pb-tagged", "10.62.0.0/24", { instance: b }, { tags: ["groupb"] }),
    ];
    const desired = desiredGcp({ partners: [b], destinations: ["10.61.0.0/24", "10.62.0.0/24", "10.63.0.0/24"] });
    assert.deepEqual(planGcpRoutes(desired, routes), []);
    assert.deepEqual(viewGcpRoutes(desired, routes), { ours: 1, missing: 0, others: [] });
  });

  test("GCP: with route_tags, the partner's routes carrying the same tags are the ones taken", () => {
    const routes = [gce(routeName("v", "default", a, "10.1.0.0/16"), "10.1.0.0/16", { instance: a }, { tags: ["vpn"] }), gce("pb", "10.50.0.0/16", { instance: b }, { tags: ["vpn"] }), gce("pb-all", "10.50.0.0/16", { instance: b })];
    assert.deepEqual(planGcpRoutes(desiredGcp({ partners: [b], destinations: ["10.50.0.0/16"] }, ["vpn"]), routes).map(describeGcpStep), [insert("10.50.0.0/16", "vpn"), `routes.delete name=pb (was ${b})`]);
  });
});

const hops = (ours: string[], ...routes: Array<[string, string?]>): HopTable => ({ routes: routes.map(([destination, hop]): HopRoute => ({ destination, ...(hop ? { hop } : {}) })), ours });

describe("what a read may teach", () => {
  const previous: AdoptedTable = { partners: ["b"], destinations: ["10.50.0.0/24"] };
  const two = destinationsOf(["10.1.0.0/16", "10.2.0.0/16"]);

  test("more than one candidate partner (a firewall ENI, a test box on one of ours): nothing learned, the previous kept, the hops named", () => {
    assert.deepEqual(learnAdopted(two, hops(["a"], ["10.1.0.0/16", "b"], ["10.2.0.0/16", "fw"], ["10.60.0.0/24", "b"], ["0.0.0.0/0", "fw"]), previous), { adopted: previous, ambiguous: ["b", "fw"] });
    assert.deepEqual(learnAdopted(configured, hops(["a"], ["10.1.0.0/16", "b"], ["10.1.0.0/16", "10.0.0.9"]), undefined), { adopted: undefined, ambiguous: ["10.0.0.9", "b"] }, "GCP: an instance and an IP");
  });

  test("one address per family is one partner (Azure, dual stack)", () => {
    const dual = destinationsOf(["10.1.0.0/16", "2001:db8:1::/56"]);
    assert.deepEqual(learnAdopted(dual, hops(["10.0.0.4", "fd00::4"], ["10.1.0.0/16", "10.0.0.5"], ["2001:db8:1::/56", "fd00::5"], ["10.60.0.0/24", "10.0.0.5"]), undefined), {
      adopted: { partners: ["10.0.0.5", "fd00::5"], destinations: ["10.60.0.0/24"] },
    });
    assert.deepEqual(learnAdopted(dual, hops(["10.0.0.4"], ["10.1.0.0/16", "10.0.0.5"], ["2001:db8:1::/56", "10.0.0.6"]), undefined).ambiguous, ["10.0.0.5", "10.0.0.6"]);
  });

  test("another bridge's destinations (reserved) and default routes are never learned", () => {
    const reserved = destinationsOf(["10.1.0.0/16", "10.7.0.0/16"]);
    const table = hops(["a"], ["10.1.0.0/16", "b"], ["10.7.0.0/16", "b"], ["0.0.0.0/0", "b"], ["::/0", "b"], ["10.60.0.0/24", "b"]);
    assert.deepEqual(learnAdopted(configured, table, undefined, reserved), { adopted: { partners: ["b"], destinations: ["10.60.0.0/24"] } });
  });

  test("GCP: only routes whose tags are route_tags count, for the partner and for what it holds", () => {
    const place = { instance: "projects/p/zones/z/instances/vpn-a", addresses: ["10.132.0.2"] };
    const b = "projects/p/zones/z/instances/vpn-b";
    const r = (destRange: string, hop: string, tags: string[]): GceRoute => ({ name: `r-${destRange}-${tags.join()}`, network: "default", destRange, priority: 1000, tags, ...(hop.startsWith("projects/") ? { nextHopInstance: hop } : { nextHopIp: hop }), target: hop, dead: false });
    const routes = [r("10.1.0.0/16", b, ["vpn"]), r("10.1.0.0/16", "10.132.0.50", ["test"]), r("10.60.0.0/24", b, ["vpn"]), r("10.61.0.0/24", b, [])];
    assert.deepEqual(learnAdopted(configured, gcpHops(routes, "default", place, ["vpn"]), undefined), { adopted: { partners: [b], destinations: ["10.60.0.0/24"] } });
  });
});

describe("the state file's entries are checked", () => {
  test("a destination that is no CIDR is dropped and reported; the others kept, in canonical text", () => {
    const text = JSON.stringify({ version: 1, tables: { "rtb-1": { partners: ["eni-0b"], destinations: ["10.60.0.0/24", "bogus", "2001:DB8:5:0::/64", "10.61.0.0/33"] }, "rtb-2": { partners: "x" } } });
    const { state, invalid } = parseAdoptedState(text);
    assert.deepEqual(state, { "rtb-1": { partners: ["eni-0b"], destinations: ["10.60.0.0/24", "2001:db8:5::/64"] } });
    assert.equal(invalid.length, 3);
    assert.match(invalid.join("\n"), /rtb-1: "bogus"/);
    assert.match(invalid.join("\n"), /rtb-1: "10\.61\.0\.0\/33"/);
    assert.match(invalid.join("\n"), /rtb-2/);
  });

  test("createAdopter: bad entries reported once at load; reserved and default destinations of an old file never given out", () => {
    const dir = mkdtempSync(join(tmpdir(), "vpnham-adopt-guard-"));
    try {
      const path = join(dir, "state.json");
      writeFileSync(path, JSON.stringify({ version: 1, tables: { t: { partners: ["b"], destinations: ["10.60.0.0/24", "10.7.0.0/16", "0.0.0.0/0", "nope"] } } }));
      const reports: string[] = [];
      const adopter = createAdopter(path, configured, { reserved: destinationsOf(["10.7.0.0/16"]), report: (reason, message) => reports.push(`${reason}: ${message}`) });
      assert.deepEqual(reports.length, 1);
      assert.match(reports[0]!, /^invalid_entry: .*"nope"/);
      assert.deepEqual(adopter.table("t"), { partners: ["b"], destinations: ["10.60.0.0/24"] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("createAdopter: an ambiguous read is refused (the error names it), counted, and what was known kept", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vpnham-adopt-guard-"));
    try {
      const two = destinationsOf(["10.1.0.0/16", "10.2.0.0/16"]);
      const reports: string[] = [];
      const adopter = createAdopter(join(dir, "state.json"), two, { report: (reason) => reports.push(reason) });
      const read = (table: HopTable) => [{ name: "t", read: () => Promise.resolve([["t", table] as const]) }];
      await adopter.learn(read(hops(["a"], ["10.1.0.0/16", "b"], ["10.2.0.0/16", "b"], ["10.60.0.0/24", "b"])), new AbortController().signal);
      await assert.rejects(adopter.learn(read(hops(["a"], ["10.1.0.0/16", "b"], ["10.2.0.0/16", "fw"], ["10.61.0.0/24", "fw"])), new AbortController().signal), /t: more than one next hop .*\(b, fw\)/);
      assert.deepEqual(adopter.table("t"), { partners: ["b"], destinations: ["10.60.0.0/24"] });
      assert.deepEqual(reports, ["ambiguous_partner"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("config: one writer per state file", () => {
  const bridge = (name: string, address: string, cloud: string) => `  ${name}:
    role: active
    bridge_interface: eth0
    peer_cidr: 10.${address}.0.0/16
    status_addr: 127.0.0.${address}:8080
    partner_url: http://127.0.1.${address}:8080/
    probe_location: a
    tunnel_interfaces:
      t0: { role: active, addr: 127.0.0.${address}:3003, probe_addr: 127.0.1.${address}:3003 }
    reconcile:
      bridge_activate:
${cloud}
`;
  const aws = (file: string) => `        aws: { route_tables: [rtb-0a1b2c3d4e5f60718], adopt_partner_routes: true, adopt_state_file: ${file} }`;
  const gcp = (file: string) => `        gcp: { adopt_partner_routes: true, adopt_state_file: ${file} }`;
  const parse = (yaml: string) => parseConfigWith(yaml, { baseDir: "/etc/vpnham" });

  test("two bridges naming one file: refused, naming both keys", () => {
    assert.throws(
      () => parse(`bridges:\n${bridge("x", "1", aws("state/a.json"))}${bridge("y", "2", aws("/etc/vpnham/state/a.json"))}`),
      (error: Error) =>
        error.name === "UserError" &&
        /bridges\.y\.reconcile\.bridge_activate\.aws\.adopt_state_file: \/etc\/vpnham\/state\/a\.json is also bridges\.x\.reconcile\.bridge_activate\.aws\.adopt_state_file's/.test(error.message),
    );
  });

  test("the job gives each cloud component every bridge's destinations, never to adopt", () => {
    const { config } = parse(`bridges:\n${bridge("x", "1", aws("/a.json"))}${bridge("y", "2", aws("/b.json"))}`);
    const context: JobContext = { metrics: createMetrics({ latencyBucketsCount: 2, maxLatencyUs: 10, version: "test" }), dryRun: false, bridgeActive: () => false, partnerActive: () => undefined };
    const specs = makeCloudJob()(context)(config);
    assert.deepEqual(specs.map((spec) => [spec.key, (spec.settings as AwsRoutesSettings).reservedCidrs]), [
      ["cloud:x/aws", ["10.1.0.0/16", "10.2.0.0/16"]],
      ["cloud:y/aws", ["10.1.0.0/16", "10.2.0.0/16"]],
    ]);
  });

  test("two clouds of one bridge, or a cloud and announce.state_file: refused; distinct files, or adopting off, are fine", () => {
    assert.throws(() => parse(`bridges:\n${bridge("x", "1", `${aws("/s.json")}\n${gcp("/s.json")}`)}`), /bridges\.x\.reconcile\.bridge_activate\.gcp\.adopt_state_file: \/s\.json is also bridges\.x\.reconcile\.bridge_activate\.aws\.adopt_state_file's/);
    const announce = `checks:\n  web: { kind: tcp, address: "127.0.0.1:1" }\nannounce:\n  kernel: {}\n  state_file: /var/lib/vpnham/announce-state.json\n  services:\n    web: { prefixes: [192.0.2.1/32], checks: [web] }\n`;
    assert.throws(() => parse(`bridges:\n${bridge("x", "1", aws("/var/lib/vpnham/announce-state.json"))}${announce}`), /adopt_state_file: \/var\/lib\/vpnham\/announce-state\.json is also announce\.state_file's/);
    parse(`bridges:\n${bridge("x", "1", `${aws("/a.json")}\n${gcp("/b.json")}`)}${bridge("y", "2", "        aws: { route_tables: [rtb-0a1b2c3d4e5f60718], adopt_state_file: /a.json }")}`);
  });
});
