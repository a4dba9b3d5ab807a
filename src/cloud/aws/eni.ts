/**
 * Which ENI is this host's in each VPC (docs/cloud-routes.md §Which ENI): the addresses of
 * `bridge_interface` (and of `secondary_interfaces`, one VPC each, as in Go) matched against
 * IMDS `network/interfaces/macs/<mac>/local-ipv4s` and `ipv6s`; the VPC from the same MAC's
 * `vpc-id` (IMDS, so no ec2:DescribeNetworkInterfaces permission is needed). The match is pure;
 * reading IMDS and the local interfaces is the edge.
 */
import { networkInterfaces } from "node:os";
import type { ImdsClient } from "./imds.ts";

export interface ImdsNic {
  readonly mac: string;
  readonly eni: string;
  readonly vpcId?: string;
  readonly ipv4s: readonly string[];
  readonly ipv6s: readonly string[];
}

export interface LocalAddresses {
  readonly ipv4: readonly string[];
  readonly ipv6: readonly string[];
}

export interface EniBinding {
  readonly interface: string;
  readonly eni: string;
  /** Absent when IMDS does not say (or the ENI was given in config): then it serves every table. */
  readonly vpcId?: string;
}

const lines = (text: string | undefined): string[] =>
  (text ?? "")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "");

/** The NIC whose private addresses include one of the interface's (IPv4 first, as Go). */
export function matchNic(local: LocalAddresses, nics: readonly ImdsNic[]): ImdsNic | undefined {
  const v4 = new Set(local.ipv4);
  const v6 = new Set(local.ipv6.map((a) => a.toLowerCase()));
  return nics.find((nic) => nic.ipv4s.some((a) => v4.has(a))) ?? nics.find((nic) => nic.ipv6s.some((a) => v6.has(a.toLowerCase())));
}

/**
 * ENI per interface (bridge first). Throws, naming the interface, when one has no address or
 * matches no NIC; refuses two interfaces in one VPC (which one would a table's route use?).
 */
export function bindInterfaces(interfaces: readonly string[], localOf: (ifname: string) => LocalAddresses, nics: readonly ImdsNic[]): EniBinding[] {
  const bindings: EniBinding[] = [];
  for (const ifname of interfaces) {
    const local = localOf(ifname);
    if (local.ipv4.length + local.ipv6.length === 0) throw new Error(`interface ${ifname} has no address to match an ENI by`);
    const nic = matchNic(local, nics);
    if (!nic) throw new Error(`no ENI of this instance has ${ifname}'s addresses (${[...local.ipv4, ...local.ipv6].join(", ")})`);
    const clash = bindings.find((b) => b.vpcId !== undefined && b.vpcId === nic.vpcId);
    if (clash) throw new Error(`${ifname} and ${clash.interface} are both in ${nic.vpcId}; list one interface per VPC`);
    bindings.push({ interface: ifname, eni: nic.eni, ...(nic.vpcId ? { vpcId: nic.vpcId } : {}) });
  }
  return bindings;
}

/** The ENI a route table's routes should target: the binding in the table's VPC, else the bridge interface's. */
export function eniForVpc(bindings: readonly EniBinding[], vpcId: string | undefined): string | undefined {
  if (bindings.length === 0) return undefined;
  if (vpcId !== undefined) {
    const same = bindings.find((b) => b.vpcId === vpcId);
    if (same) return same.eni;
    if (bindings.some((b) => b.vpcId !== undefined)) return undefined; // a VPC we have no interface in
  }
  return bindings[0]!.eni;
}

/** The instance's NICs as IMDS lists them. */
export async function readImdsNics(imds: ImdsClient, signal: AbortSignal): Promise<ImdsNic[]> {
  const macs = lines(await imds.get("network/interfaces/macs/", signal)).map((m) => m.replace(/\/$/, ""));
  return await Promise.all(
    macs.map(async (mac): Promise<ImdsNic> => {
      const base = `network/interfaces/macs/${mac}/`;
      const [eni, vpcId, ipv4s, ipv6s] = await Promise.all([
        imds.get(`${base}interface-id`, signal),
        imds.get(`${base}vpc-id`, signal),
        imds.get(`${base}local-ipv4s`, signal),
        imds.get(`${base}ipv6s`, signal),
      ]);
      if (!eni?.trim()) throw new Error(`IMDS: MAC ${mac} has no interface-id`);
      return { mac, eni: eni.trim(), ...(vpcId?.trim() ? { vpcId: vpcId.trim() } : {}), ipv4s: lines(ipv4s), ipv6s: lines(ipv6s) };
    }),
  );
}

/** This host's addresses on an interface (link-local IPv6 left out: IMDS never lists them). */
export function localAddresses(ifname: string): LocalAddresses {
  const list = networkInterfaces()[ifname] ?? [];
  return {
    ipv4: list.filter((a) => a.family === "IPv4").map((a) => a.address),
    ipv6: list.filter((a) => a.family === "IPv6" && !a.address.toLowerCase().startsWith("fe80")).map((a) => a.address),
  };
}
