/**
 * What to change in one route table so that every destination targets our ENI, pure
 * (docs/cloud-routes.md §What it changes). Go vpnham's rules per destination: no route → create;
 * one to us → nothing; one elsewhere → replace; more than one → delete them all, create.
 * Unlike Go, IPv6 destinations count too (destinationIpv6CidrBlock), and so do extra_peer_cidrs;
 * with adopt_partner_routes, so do the adopted destinations the table still shows at the partner
 * (src/cloud/adopt.ts `withAdopted`).
 */
import { parseCidr } from "../../config/address.ts";
import { withAdopted, type AdoptedTable, type HopTable } from "../adopt.ts";
import type { Ec2Route, Ec2RouteTable, RouteChange } from "./ec2.ts";

export interface Destination {
  /** Canonical network text (peer_cidr, extra_peer_cidrs). */
  readonly cidr: string;
  readonly family: 4 | 6;
}

export type RouteAction = "CreateRoute" | "ReplaceRoute" | "DeleteRoute";

export interface RouteStep {
  readonly action: RouteAction;
  readonly change: RouteChange;
  /** The route's target before the step ("" when there was none): logs say before → after. */
  readonly before: string;
}

/** The destinations of a bridge (peer_cidr first), with their address family. */
export function destinationsOf(peerCidrs: readonly string[]): Destination[] {
  return peerCidrs.map((cidr) => ({ cidr, family: cidr.includes(":") ? 6 : 4 }));
}

/** A destination as EC2 writes it, in our canonical text (EC2 answers IPv6 compressed, maybe in capitals). */
export function canonicalDestination(text: string): string {
  const parsed = parseCidr(text);
  return parsed.ok ? parsed.value.text : text.trim().toLowerCase();
}

/** Routes of the table per destination, in our canonical text. */
function routesByDestination(routes: readonly Ec2Route[]): Map<string, Ec2Route[]> {
  const by = new Map<string, Ec2Route[]>();
  for (const route of routes) {
    const key = canonicalDestination(route.destination);
    by.set(key, [...(by.get(key) ?? []), route]);
  }
  return by;
}

/** The configured destinations, then the adopted ones the table still routes to the partner or to us. */
const destinationsIn = (configured: readonly Destination[], eni: string, table: Ec2RouteTable, adopted: AdoptedTable | undefined): Destination[] =>
  adopted ? withAdopted(configured, adopted, awsHops(table, eni)) : [...configured];

export function planRoutes(configured: readonly Destination[], eni: string, table: Ec2RouteTable, adopted?: AdoptedTable): RouteStep[] {
  const routeTableId = table.routeTableId;
  const by = routesByDestination(table.routes);
  const steps: RouteStep[] = [];
  for (const { cidr, family } of destinationsIn(configured, eni, table, adopted)) {
    const found = by.get(cidr) ?? [];
    const ours = { routeTableId, destination: cidr, family, networkInterfaceId: eni };
    if (found.length === 0) {
      steps.push({ action: "CreateRoute", change: ours, before: "" });
    } else if (found.length === 1) {
      const [route] = found as [Ec2Route];
      if (route.networkInterfaceId === eni) continue;
      // Replace keeps the destination as EC2 wrote it: the call names the existing route.
      steps.push({ action: "ReplaceRoute", change: { ...ours, destination: route.destination }, before: route.target || route.state });
    } else {
      for (const route of found) {
        steps.push({ action: "DeleteRoute", change: { routeTableId, destination: route.destination, family }, before: route.target || route.state });
      }
      steps.push({ action: "CreateRoute", change: ours, before: "" });
    }
  }
  return steps;
}

/** The exact call, then what it changes: `ReplaceRoute RouteTableId=rtb-1 DestinationCidrBlock=10.0.0.0/16 NetworkInterfaceId=eni-2 (was eni-1)`. */
export function describeStep(step: RouteStep): string {
  const { change } = step;
  const params = [
    `RouteTableId=${change.routeTableId}`,
    `${change.family === 4 ? "DestinationCidrBlock" : "DestinationIpv6CidrBlock"}=${change.destination}`,
    ...(change.networkInterfaceId ? [`NetworkInterfaceId=${change.networkInterfaceId}`] : []),
  ];
  return `${step.action} ${params.join(" ")} (was ${step.before || "no route"})`;
}

/** How the table stands for our destinations: how many are ours, and who holds the others. */
export interface TableView {
  readonly ours: number;
  readonly missing: number;
  /** Targets of our destinations' routes that are not us, with whether EC2 sees them dead. */
  readonly others: ReadonlyArray<{ readonly target: string; readonly blackhole: boolean }>;
}

export function viewTable(configured: readonly Destination[], eni: string, table: Ec2RouteTable, adopted?: AdoptedTable): TableView {
  const by = routesByDestination(table.routes);
  let ours = 0;
  let missing = 0;
  const others: Array<{ target: string; blackhole: boolean }> = [];
  for (const { cidr } of destinationsIn(configured, eni, table, adopted)) {
    const found = by.get(cidr) ?? [];
    if (found.length === 0) missing++;
    else if (found.length === 1 && found[0]!.networkInterfaceId === eni) ours++;
    else for (const route of found) if (route.networkInterfaceId !== eni) others.push({ target: route.target || "(none)", blackhole: route.state === "blackhole" });
  }
  return { ours, missing, others };
}

/** For adopt_partner_routes (src/cloud/adopt.ts): a route's next hop is its ENI; ours is the table's. */
export function awsHops(table: Ec2RouteTable, eni: string): HopTable {
  return { routes: table.routes.map((r) => ({ destination: r.destination, ...(r.networkInterfaceId ? { hop: r.networkInterfaceId } : {}) })), ours: [eni] };
}
