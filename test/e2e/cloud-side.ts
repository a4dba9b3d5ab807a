/**
 * The cloud under the left side of the four-host world (docs/cloud-routes.md §Testing): the fake
 * EC2 and one fake IMDSv2 per left host, in the test process, listening on root-namespace ends of
 * veth links into the two left namespaces (198.18.0.0/15, the benchmarking range, one /29 per run
 * chosen by pid). The links are made here and go with the namespaces; `close()` also removes them.
 * The left hosts' configs are the examples' with `reconcile.bridge_activate.aws` route tables;
 * for the GCP scenario, `gcp:` routes on the fake Compute API and one fake metadata server per host.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { waitFor } from "../../src/util/wait.ts";
import { FakeEc2, FakeImds, type FakeCall } from "../support/fake-aws.ts";
import { FakeCompute, FakeGceMetadata } from "../support/fake-gcp.ts";
import { REPO, type World } from "./harness.ts";
import { HOST_FILES, run } from "./netns.ts";

export type LeftHost = "la" | "ls";
export const LEFT: readonly LeftHost[] = ["la", "ls"];

export const BRIDGE = "vpnham-dev-lft";
export const TABLES = ["rtb-0e2e00000000000a1", "rtb-0e2e00000000000a2"] as const;
/** The left side's destinations: the examples' peer_cidr, and an IPv6 one added here. */
export const DESTINATIONS = ["10.1.0.0/16", "2001:db8:1::/56"] as const;
/** bridge_interface (eth0) ENI of each left host, found through its IMDS by eth0's address. */
export const ENI: Record<LeftHost, string> = { la: "eni-0e2e0000000000la0", ls: "eni-0e2e0000000000ls0" };
const VPC_ADDR: Record<LeftHost, string> = { la: "10.0.0.2", ls: "10.0.0.3" };
/** Also a NIC of each instance (the tunnel side), so the match by address is not trivial. */
const TUNNEL_ENI: Record<LeftHost, { eni: string; addr: string }> = {
  la: { eni: "eni-0e2e000000000la1", addr: "192.168.255.2" },
  ls: { eni: "eni-0e2e000000000ls1", addr: "192.168.255.50" },
};
export const DRIFT_MS = 2_000;
/** GCP: each left host's instance name, and the left VPC network. */
export const GCE_INSTANCE: Record<LeftHost, string> = { la: "vpn-left-active", ls: "vpn-left-standby" };
export const GCE_NETWORK = "left-vpc";

export interface CloudSide {
  readonly ec2: FakeEc2;
  readonly imds: Record<LeftHost, FakeImds>;
  readonly compute: FakeCompute;
  readonly gceMetadata: Record<LeftHost, FakeGceMetadata>;
  /** GCP: every destination's routes in the left network have exactly this next hop instance. */
  gcpPointsAt(instance: string): boolean;
  describeGcp(): string;
  /** Every destination in every table targets `eni`. */
  pointsAt(eni: string): boolean;
  /** Destination → target, per table (for messages). */
  describe(): string;
  /** The example config of `h` with AWS route tables or GCP routes (and `dry_run` when asked), written to the run dir. */
  writeConfig(h: LeftHost, options?: { dryRun?: boolean; cloud?: "aws" | "gcp" }): string;
  writesSince(mark: number): FakeCall[];
  /** Back to the tables the run started with. */
  resetTables(): void;
  /** Every table's routes, sorted (to compare). */
  snapshot(): Record<string, string[]>;
  close(): Promise<void>;
}

/**
 * 198.(18|19).x.0/29 for this run: .1/.2 the la link, .5/.6 the ls link (root end first). x from
 * the pid, moved on while another run's root end holds it.
 */
async function subnet(): Promise<string> {
  const taken = await run("ip", ["-br", "-4", "addr", "show"]);
  for (let i = 0; i < 512; i++) {
    const n = (process.pid + i) % 512;
    const net = `198.${18 + (n >> 8)}.${n & 255}`;
    if (!taken.includes(` ${net}.1/`)) return net;
  }
  throw new Error("no free /29 in 198.18.0.0/15 for the cloud links");
}

async function linkToRoot(w: World, h: LeftHost, rootCidr: string, nsCidr: string): Promise<string> {
  const rootDev = `${w.topo.ns[h]}c`; // ≤ 15 characters: vh<pid><2 letters><host>c
  await run("ip", ["link", "add", rootDev, "type", "veth", "peer", "name", "cloud0", "netns", w.topo.ns[h]]);
  await run("ip", ["addr", "add", rootCidr, "dev", rootDev]);
  await run("ip", ["link", "set", rootDev, "up"]);
  await w.topo.ip(h, "addr", "add", nsCidr, "dev", "cloud0");
  await w.topo.ip(h, "link", "set", "cloud0", "up");
  await waitFor(async () => (await w.topo.ip(h, "-br", "link", "show", "cloud0")).includes(" UP "), { timeoutMs: 10_000, what: `${h} cloud0 carrier` });
  return rootDev;
}

export async function attachCloud(w: World): Promise<CloudSide> {
  const net = await subnet();
  const rootDevs: string[] = [];
  const ec2 = new FakeEc2(`${net}.1`);
  const imds = { la: new FakeImds(ec2, `${net}.1`), ls: new FakeImds(ec2, `${net}.5`) };
  const compute = new FakeCompute("vpn-project", `${net}.1`);
  const gceMetadata = { la: new FakeGceMetadata(compute, GCE_INSTANCE.la, `${net}.1`), ls: new FakeGceMetadata(compute, GCE_INSTANCE.ls, `${net}.5`) };
  const stopFakes = (): Promise<unknown> => Promise.all([ec2.stop(), imds.la.stop(), imds.ls.stop(), compute.stop(), gceMetadata.la.stop(), gceMetadata.ls.stop()]);
  const removeLinks = async (): Promise<void> => {
    for (const dev of rootDevs.splice(0)) await run("ip", ["link", "del", dev]).catch(() => {});
  };
  try {
    rootDevs.push(await linkToRoot(w, "la", `${net}.1/30`, `${net}.2/30`));
    rootDevs.push(await linkToRoot(w, "ls", `${net}.5/30`, `${net}.6/30`));
    // ls reaches the EC2 fake (on la's link address) through its own link: the root namespace routes it.
    await w.topo.ip("ls", "route", "add", `${net}.1/32`, "via", `${net}.5`, "dev", "cloud0");
    await ec2.start();
    for (const h of LEFT) {
      imds[h].nics = [
        { mac: `0e:2e:00:00:00:${h === "la" ? "02" : "03"}`, eni: ENI[h], vpcId: "vpc-0e2eleft", ipv4s: [VPC_ADDR[h]] },
        { mac: `0e:2e:00:00:01:${h === "la" ? "02" : "03"}`, eni: TUNNEL_ENI[h].eni, vpcId: "vpc-0e2etransit", ipv4s: [TUNNEL_ENI[h].addr] },
      ];
      await imds[h].start();
      gceMetadata[h].nics = [
        { ip: VPC_ADDR[h], network: GCE_NETWORK },
        { ip: TUNNEL_ENI[h].addr, network: "transit-vpc" },
      ];
      await gceMetadata[h].start();
    }
    await compute.start();
  } catch (error) {
    await stopFakes();
    await removeLinks();
    throw error;
  }
  // The left VPC's tables: T1 with a default route (never touched) and no route to the peer yet,
  // T2 with the peer routed at an ENI that is no host's.
  const resetTables = (): void => {
    ec2.tables.clear();
    ec2.addTable(TABLES[0], "vpc-0e2eleft", [{ destination: "0.0.0.0/0", gatewayId: "igw-0e2e0000000000001" }]);
    ec2.addTable(TABLES[1], "vpc-0e2eleft", [{ destination: DESTINATIONS[0], networkInterfaceId: "eni-0e2e000000000old" }]);
  };
  resetTables();
  // GCP: the network's default route (never touched) and a stale route to the peer at an old instance.
  compute.addRoute({ name: "default-internet", network: GCE_NETWORK, destRange: "0.0.0.0/0", gateway: "default-internet-gateway" });
  compute.addRoute({ name: "peer-via-old-vpn", network: GCE_NETWORK, destRange: DESTINATIONS[0], instance: "vpn-old" });

  return {
    ec2,
    imds,
    compute,
    gceMetadata,
    gcpPointsAt: (instance) => DESTINATIONS.every((d) => compute.hopsTo(d, GCE_NETWORK).join() === instance),
    describeGcp: () => DESTINATIONS.map((d) => `${d}→${compute.hopsTo(d, GCE_NETWORK).join("+") || "none"}`).join(", "),
    pointsAt: (eni) => TABLES.every((t) => DESTINATIONS.every((d) => ec2.targetOf(t, d) === eni)),
    describe: () => TABLES.map((t) => `${t}: ${DESTINATIONS.map((d) => `${d}→${ec2.targetOf(t, d) ?? "none"}`).join(", ")}`).join("; "),
    writeConfig(h, options = {}) {
      const config = parse(readFileSync(join(REPO, "examples/topology", `${HOST_FILES[h]}.yaml`), "utf8")) as Record<string, unknown>;
      const bridges = config.bridges as Record<string, Record<string, unknown>>;
      const bridge = bridges[BRIDGE]!;
      bridge.extra_peer_cidrs = [DESTINATIONS[1]];
      const drift_interval = `${DRIFT_MS}ms`;
      const aws = { timeout: "5s", route_tables: [...TABLES], endpoint: ec2.url, metadata_endpoint: imds[h].url, drift_interval };
      const gcp = { timeout: "5s", route_id_prefix: "vpnham-left", endpoint: compute.url, metadata_endpoint: gceMetadata[h].url, drift_interval };
      // `reconcile:` (Go's shape 2) carries the cloud key; it takes scripts_timeout along.
      bridge.reconcile = { scripts_timeout: bridge.scripts_timeout, bridge_activate: options.cloud === "gcp" ? { gcp } : { aws } };
      delete bridge.scripts_timeout;
      if (options.dryRun) config.dry_run = true;
      const path = join(w.runDir, `${h}.${options.cloud ?? "aws"}${options.dryRun ? ".dry-run" : ""}.yaml`);
      writeFileSync(path, stringify(config));
      return path;
    },
    resetTables,
    snapshot: () =>
      Object.fromEntries(
        [...ec2.tables].map(([id, t]) => [id, t.routes.map((r) => `${r.destination}→${r.networkInterfaceId ?? r.gatewayId ?? r.instanceId}`).sort()]),
      ),
    writesSince: (mark) => ec2.calls.slice(mark).filter((c) => c.action !== "DescribeRouteTables"),
    async close() {
      await stopFakes();
      await removeLinks();
    },
  };
}
