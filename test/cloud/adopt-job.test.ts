// adopt_partner_routes, the same scenario against each cloud's loopback fakes (test/support/
// fake-{aws,gcp,azure}.ts, which check every request's signature or token): while standby the
// job learns the routes that target its partner and keeps them in its state file; after a
// restart from that file it takes them over with its own at activation, and leaves routes to
// anyone else alone — a learned prefix that moved to someone else since, and on GCP the other
// routes of an adopted range; the configured-active host, back as standby, learns them in turn
// and takes them back. A read that shows two candidate partners teaches nothing
// (docs/cloud-routes.md §Adopting the partner's routes).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AwsRoutesComponent, AzureRoutesComponent, GcpRoutesComponent, type CloudJobOptions, type CloudRoutesComponent } from "../../src/cloud/job.ts";
import type { JobContext } from "../../src/daemon/component.ts";
import { createMetrics } from "../../src/metrics/registry.ts";
import { waitFor } from "../../src/util/wait.ts";
import { FakeEc2, FakeImds } from "../support/fake-aws.ts";
import { FakeArm, FakeAzureTokens } from "../support/fake-azure.ts";
import { FakeCompute, FakeGceMetadata } from "../support/fake-gcp.ts";
import { metricSum, quietLogs } from "../robustness/support.ts";

type Host = "a" | "b";
type Label = Host | "else";

/** One cloud with two hosts: `a` configured-active, `b` configured-standby, and someone else. */
interface World {
  /** How the state file names the table, and the hosts as next hops. */
  readonly key: string;
  readonly hop: Record<Host, string>;
  /** Routes `cidr` to a host (someone's console or the partner's BGP speaker writing it). */
  seed(cidr: string, to: Label): void;
  /** The route to `cidr` now goes to `to` instead (a console edit, a transit gateway taking the prefix over). */
  move(cidr: string, to: Label): void;
  /** Who the routes to `cidr` go to, comma-separated (GCP: not counting `others`). */
  at(cidr: string): string;
  /** GCP: other routes for a range beside the partner's, which taking the range over must leave alone. */
  others?: { seed(cidr: string): void; intact(): void };
  host(name: Host, stateFile: string, active: () => boolean, extra?: HostExtra): CloudRoutesComponent;
  writes(): unknown[];
  /** Every request was signed or carried a valid token. */
  clean(): void;
  stop(): Promise<void>;
}

const peerCidrs = ["10.99.0.0/16"];
const common = { bridge: "vpn", interfaces: ["eth0"] };
/** Another job context (to read its metrics), other destinations. */
type HostExtra = { context?: JobContext; peerCidrs?: string[] };
const commonOf = (extra: HostExtra | undefined) => ({ ...common, peerCidrs: extra?.peerCidrs ?? peerCidrs });
const role = (name: Host) => (name === "a" ? "active" : "standby");
const timing = { driftIntervalMs: 0, partnerClaimHoldMaxMs: 60_000 };

function context(active: () => boolean): JobContext {
  return { metrics: createMetrics({ latencyBucketsCount: 2, maxLatencyUs: 10, version: "test" }), dryRun: false, bridgeActive: active, partnerActive: () => undefined };
}

function options(ipv4: string): CloudJobOptions {
  return { env: {}, watchIntervalMs: 10, learnIntervalMs: 20, pollIntervalMs: 10, retry: { retries: 6, initialMs: 20, maxMs: 100 }, localAddresses: (ifname) => (ifname === "eth0" ? { ipv4: [ipv4], ipv6: [] } : { ipv4: [], ipv6: [] }) };
}

const labelOf = (names: Record<string, Label>) => (hop: string | undefined) => (hop === undefined ? "" : (names[hop] ?? hop));

async function awsWorld(): Promise<World> {
  const T1 = "rtb-0000000000000001a";
  const eni = { a: "eni-0aaaaaaaaaaaaaaa1", b: "eni-0bbbbbbbbbbbbbbb2", else: "eni-0ccccccccccccccc3" };
  const ip = { a: "10.0.1.10", b: "10.0.1.11" };
  const ec2 = await new FakeEc2().start();
  const imds = { a: new FakeImds(ec2), b: new FakeImds(ec2) };
  for (const h of ["a", "b"] as const) {
    imds[h].nics = [{ mac: `0e:00:00:00:00:0${h === "a" ? 1 : 2}`, eni: eni[h], vpcId: "vpc-a", ipv4s: [ip[h]] }];
    await imds[h].start();
  }
  ec2.addTable(T1, "vpc-a");
  const label = labelOf({ [eni.a]: "a", [eni.b]: "b", [eni.else]: "else" });
  return {
    key: T1,
    hop: { a: eni.a, b: eni.b },
    seed: (cidr, to) => ec2.setTarget(T1, cidr, eni[to]),
    move: (cidr, to) => ec2.setTarget(T1, cidr, eni[to]),
    at: (cidr) => label(ec2.targetOf(T1, cidr)),
    host: (name, stateFile, active, extra) =>
      new AwsRoutesComponent(
        { ...commonOf(extra), role: role(name), aws: { ...timing, timeoutMs: 2000, routeTables: [T1], endpoint: ec2.url, metadataEndpoint: imds[name].url, adoptPartnerRoutes: true, adoptStateFile: stateFile } },
        extra?.context ?? context(active),
        options(ip[name]),
      ),
    writes: () => ec2.writes(),
    clean: () => assert.deepEqual(ec2.signatureFailures, []),
    stop: async () => (await ec2.stop(), await imds.a.stop(), await imds.b.stop()),
  };
}

async function gcpWorld(): Promise<World> {
  const compute = await new FakeCompute().start();
  const instance = { a: "vpn-a", b: "vpn-b" };
  const ip = { a: "10.132.0.2", b: "10.132.0.3", else: "10.132.0.9" };
  const metadata = { a: new FakeGceMetadata(compute, instance.a), b: new FakeGceMetadata(compute, instance.b) };
  for (const h of ["a", "b"] as const) {
    metadata[h].nics = [{ ip: ip[h], network: "default" }];
    await metadata[h].start();
  }
  let n = 0;
  const label = labelOf({ "vpn-a": "a", "vpn-b": "b", [ip.else]: "else" });
  // Someone else is named by IP: a next hop that is an address, not an instance, is parsed too.
  const seed = (cidr: string, to: Label) => compute.addRoute({ name: `seed-${++n}`, destRange: cidr, ...(to === "else" ? { ip: ip.else } : { instance: instance[to] }) });
  const others = ["keep-tunnel", "keep-tagged"];
  const isOther = (name: string) => others.includes(name);
  return {
    key: "default",
    hop: { a: "projects/vpn-project/zones/europe-west1-b/instances/vpn-a", b: "projects/vpn-project/zones/europe-west1-b/instances/vpn-b" },
    seed,
    move: (cidr, to) => {
      for (const r of [...compute.routes.values()]) if (r.destRange === cidr && !isOther(r.name)) compute.routes.delete(r.name);
      seed(cidr, to);
    },
    at: (cidr) => [...compute.routes.values()].filter((r) => r.destRange === cidr && !isOther(r.name)).map((r) => label(r.nextHopInstance?.split("/").pop() ?? r.nextHopIp)).join(),
    // The review's case: a VPN tunnel's route at priority 2000, and a route for tagged instances only.
    others: {
      seed(cidr) {
        compute.addRoute({ name: "keep-tunnel", destRange: cidr, priority: 2000, tunnel: "t" });
        compute.addRoute({ name: "keep-tagged", destRange: cidr, ip: "10.0.0.77", tags: ["groupb"] });
      },
      intact: () => assert.deepEqual(others.map((name) => compute.routes.has(name)), [true, true], "the other routes of an adopted range are left alone"),
    },
    host: (name, stateFile, active, extra) =>
      new GcpRoutesComponent(
        { ...commonOf(extra), role: role(name), gcp: { ...timing, routePriority: 1000, routeTags: [], timeoutMs: 3000, endpoint: compute.url, metadataEndpoint: metadata[name].url, adoptPartnerRoutes: true, adoptStateFile: stateFile } },
        extra?.context ?? context(active),
        options(ip[name]),
      ),
    writes: () => compute.writes(),
    clean: () => assert.deepEqual(compute.unauthorized, []),
    stop: async () => (await compute.stop(), await metadata.a.stop(), await metadata.b.stop()),
  };
}

async function azureWorld(): Promise<World> {
  const SUB = "00000000-0000-0000-0000-000000000001";
  const RG = "vpn-rg";
  const arm = await new FakeArm().start();
  const tokens = await new FakeAzureTokens(arm).start();
  arm.addTable(SUB, RG, "rt-a");
  const ip = { a: "10.0.0.4", b: "10.0.0.5", else: "10.0.0.9" };
  let n = 0;
  const label = labelOf({ [ip.a]: "a", [ip.b]: "b", [ip.else]: "else" });
  return {
    key: "rt-a",
    hop: { a: ip.a, b: ip.b },
    seed: (cidr, to) => void arm.table(SUB, RG, "rt-a").set(`seed-${++n}`, { addressPrefix: cidr, nextHopType: "VirtualAppliance", nextHopIpAddress: ip[to] }),
    move: (cidr, to) => {
      for (const r of arm.table(SUB, RG, "rt-a").values()) if (r.addressPrefix === cidr) r.nextHopIpAddress = ip[to];
    },
    at: (cidr) => arm.hopsTo(SUB, RG, "rt-a", cidr).map(label).join(),
    host: (name, stateFile, active, extra) =>
      new AzureRoutesComponent(
        {
          ...commonOf(extra),
          role: role(name),
          azure: { ...timing, subscriptionId: SUB, resourceGroup: RG, routeTables: ["rt-a"], apiVersion: "2023-09-01", endpoint: arm.url, metadataEndpoint: tokens.url, authority: `${tokens.url}/`, timeoutMs: 3000, adoptPartnerRoutes: true, adoptStateFile: stateFile },
        },
        extra?.context ?? context(active),
        options(ip[name]),
      ),
    writes: () => arm.writes(),
    clean: () => assert.deepEqual(arm.unauthorized, []),
    stop: async () => (await arm.stop(), await tokens.stop()),
  };
}

let restoreLogs: () => void;
before(() => (restoreLogs = quietLogs()));
after(() => restoreLogs());

const worlds: Array<[string, () => Promise<World>]> = [
  ["aws", awsWorld],
  ["gcp", gcpWorld],
  ["azure", azureWorld],
];

for (const [cloud, makeWorld] of worlds) {
  test(`${cloud}: learned while standby, kept in the state file, taken over after a restart, handed back`, { timeout: 60_000 }, async () => {
    const w = await makeWorld();
    const dir = mkdtempSync(join(tmpdir(), `vpnham-adopt-${cloud}-`));
    const file = { a: join(dir, "a.json"), b: join(dir, "b.json") };
    const learned = (h: Host): { partners: string[]; destinations: string[] } | undefined => {
      try {
        return (JSON.parse(readFileSync(file[h], "utf8")) as { tables: Record<string, { partners: string[]; destinations: string[] }> }).tables[w.key];
      } catch {
        return undefined;
      }
    };
    const all = ["10.99.0.0/16", "10.60.0.0/24", "10.61.0.0/24"];
    const allAt = (h: Host) => () => all.every((c) => w.at(c) === h);
    const bridge = { a: false, b: false };
    const running: CloudRoutesComponent[] = [];
    const start = async (h: Host) => {
      const c = w.host(h, file[h], () => bridge[h]);
      running.push(c);
      await c.start();
      return c;
    };
    const stop = async (c: CloudRoutesComponent) => (await c.stop(), running.splice(running.indexOf(c), 1));
    w.seed("10.99.0.0/16", "a");
    w.seed("10.60.0.0/24", "a"); // learned by a over BGP and written by it
    w.seed("10.62.0.0/24", "a"); // likewise, but it moves to someone else before b activates
    w.seed("10.70.0.0/24", "else");
    w.others?.seed("10.60.0.0/24");
    try {
      // b, standby, learns a's routes; it only reads.
      let b = await start("b");
      await waitFor(() => learned("b")?.destinations.join() === "10.60.0.0/24,10.62.0.0/24", { timeoutMs: 15_000, what: "the partner's BGP prefixes learned" });
      w.seed("10.61.0.0/24", "a"); // a new prefix on the partner
      await waitFor(() => learned("b")?.destinations.join() === "10.60.0.0/24,10.61.0.0/24,10.62.0.0/24", { timeoutMs: 15_000, what: "the new prefix learned" });
      assert.deepEqual(w.writes(), [], "a standby only reads");
      assert.deepEqual(b.status()["adopted"], { [w.key]: { partners: [w.hop.a], destinations: ["10.60.0.0/24", "10.61.0.0/24", "10.62.0.0/24"] } });

      // a dies; b restarts before it learns anything more (the file is what it knows), while
      // 10.62.0.0/24 moves to someone else; b activates.
      await stop(b);
      w.move("10.62.0.0/24", "else");
      bridge.b = true;
      b = await start("b");
      await waitFor(allAt("b"), { timeoutMs: 15_000, what: "ours and the partner's routes at b" });
      await b.settled();
      assert.equal(w.at("10.70.0.0/24"), "else", "a route to someone else is not the partner's");
      assert.equal(w.at("10.62.0.0/24"), "else", "a learned prefix someone else holds now is left to them");
      w.others?.intact();

      // a comes back, standby at first: it learns b's routes, then takes them all back.
      const a = await start("a");
      await waitFor(() => learned("a")?.destinations.join() === "10.60.0.0/24,10.61.0.0/24" && learned("a")?.partners.join() === w.hop.b, { timeoutMs: 15_000, what: "a learned b's routes" });
      bridge.b = false;
      bridge.a = true;
      await waitFor(allAt("a"), { timeoutMs: 15_000, what: "every route back at a" });
      await a.settled();
      assert.equal(w.at("10.70.0.0/24"), "else");
      assert.equal(w.at("10.62.0.0/24"), "else");
      w.others?.intact();
      w.clean();
    } finally {
      for (const c of [...running]) await stop(c);
      await w.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

for (const [cloud, makeWorld] of worlds) {
  test(`${cloud}: a read that shows two candidate partners teaches nothing (counted), until there is one again`, { timeout: 60_000 }, async () => {
    const w = await makeWorld();
    const dir = mkdtempSync(join(tmpdir(), `vpnham-adopt-${cloud}-`));
    const file = join(dir, "b.json");
    const ctx = context(() => false);
    const ambiguous = () => metricSum(ctx.metrics.registry.getSingleMetric("vpnham_cloud_adopt_ignored_total") as never, { bridge: "vpn", cloud, reason: "ambiguous_partner" });
    // Two destinations of ours: one at the partner, one at someone else (a firewall, a test box).
    w.seed("10.99.0.0/16", "a");
    w.seed("10.98.0.0/16", "else");
    w.seed("10.60.0.0/24", "a");
    const b = w.host("b", file, () => false, { context: ctx, peerCidrs: ["10.99.0.0/16", "10.98.0.0/16"] });
    try {
      await b.start();
      await waitFor(async () => (await ambiguous()) >= 2, { timeoutMs: 15_000, what: "two reads refused" });
      assert.deepEqual(b.status()["adopted"], {}, "nothing learned");
      assert.throws(() => readFileSync(file), /ENOENT/, "nothing saved");
      w.move("10.98.0.0/16", "a");
      await waitFor(() => JSON.stringify(b.status()["adopted"]) === JSON.stringify({ [w.key]: { partners: [w.hop.a], destinations: ["10.60.0.0/24"] } }), { timeoutMs: 15_000, what: "learned once the partner is one" });
      assert.deepEqual(w.writes(), [], "a standby only reads");
      w.clean();
    } finally {
      await b.stop();
      await w.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
