/**
 * What to change in one Azure route table so that every destination's next hop is this host,
 * pure (docs/cloud-routes.md §Azure). Azure routes are mutable and named: no route → create ours;
 * one → keep it if it is `VirtualAppliance` at our address, else update it in place (PUT, same
 * name: Azure's ReplaceRoute); more than one → delete the extra ones, update the first. With
 * adopt_partner_routes the adopted prefixes the table still sends to the partner join the
 * configured ones (src/cloud/adopt.ts `withAdopted`).
 */
import { withAdopted, type AdoptedTable, type HopTable } from "../adopt.ts";
import { canonicalDestination, type Destination } from "../aws/plan.ts";
import type { AzureRoute } from "./arm.ts";

export interface AzureDesired {
  readonly prefix: string;
  readonly destinations: readonly Destination[];
  /** Our address per family (bridge_interface's, or next_hop_ip). */
  readonly nextHop: { readonly 4?: string; readonly 6?: string };
  /** adopt_partner_routes: what was learned for this table. */
  readonly adopted?: AdoptedTable;
}

/**
 * The configured destinations, then the adopted ones the table still routes to the partner or to
 * us — but not one of a family we have no address for (an IPv6 prefix without bridge_interface
 * IPv6): left out rather than failing the table, while a configured one says so in its plan.
 */
function destinationsIn(desired: AzureDesired, routes: readonly AzureRoute[]): Destination[] {
  if (!desired.adopted) return [...desired.destinations];
  return withAdopted(desired.destinations, desired.adopted, azureHops(routes, desired.nextHop), (d) => desired.nextHop[d.family] !== undefined);
}

export type AzureStep =
  | { readonly action: "put"; readonly name: string; readonly addressPrefix: string; readonly nextHopIpAddress: string; readonly before: string }
  | { readonly action: "delete"; readonly name: string; readonly before: string };

/** A valid route name (1–80 of letters, digits, `_ . -`) for a destination. */
export function azureRouteName(prefix: string, destination: string): string {
  const name = `${prefix}-${destination}`.replace(/[^A-Za-z0-9_.-]+/g, "-").replace(/-{2,}/g, "-").replace(/^[^A-Za-z0-9]+/, "");
  return name.slice(0, 80).replace(/[.-]+$/, "");
}

const hopOf = (r: AzureRoute): string => (r.nextHopType === "VirtualAppliance" ? (r.nextHopIpAddress ?? "?") : r.nextHopType);

export function planAzureRoutes(desired: AzureDesired, routes: readonly AzureRoute[]): AzureStep[] {
  const steps: AzureStep[] = [];
  for (const { cidr, family } of destinationsIn(desired, routes)) {
    const ours = desired.nextHop[family];
    if (ours === undefined) throw new Error(`no IPv${family} address to route ${cidr} to (bridge_interface has none; set next_hop_ip)`);
    const found = routes.filter((r) => canonicalDestination(r.addressPrefix) === cidr);
    if (found.length === 0) {
      steps.push({ action: "put", name: azureRouteName(desired.prefix, cidr), addressPrefix: cidr, nextHopIpAddress: ours, before: "no route" });
      continue;
    }
    const [first, ...rest] = found as [AzureRoute, ...AzureRoute[]];
    for (const extra of rest) steps.push({ action: "delete", name: extra.name, before: hopOf(extra) });
    if (first.nextHopType !== "VirtualAppliance" || first.nextHopIpAddress !== ours) {
      steps.push({ action: "put", name: first.name, addressPrefix: first.addressPrefix, nextHopIpAddress: ours, before: hopOf(first) });
    }
  }
  return steps;
}

export function describeAzureStep(table: string, step: AzureStep): string {
  if (step.action === "delete") return `routes.delete routeTable=${table} name=${step.name} (was ${step.before})`;
  return `routes.createOrUpdate routeTable=${table} name=${step.name} addressPrefix=${step.addressPrefix} nextHopType=VirtualAppliance nextHopIpAddress=${step.nextHopIpAddress} (was ${step.before})`;
}

export function viewAzureRoutes(desired: AzureDesired, routes: readonly AzureRoute[]): { ours: number; missing: number; others: Array<{ target: string; blackhole: boolean }> } {
  let ours = 0;
  let missing = 0;
  const others: Array<{ target: string; blackhole: boolean }> = [];
  for (const { cidr, family } of destinationsIn(desired, routes)) {
    const found = routes.filter((r) => canonicalDestination(r.addressPrefix) === cidr);
    if (found.length === 0) missing++;
    else if (found.length === 1 && found[0]!.nextHopType === "VirtualAppliance" && found[0]!.nextHopIpAddress === desired.nextHop[family]) ours++;
    else for (const r of found) if (r.nextHopIpAddress !== desired.nextHop[family]) others.push({ target: hopOf(r), blackhole: r.nextHopType === "None" });
  }
  return { ours, missing, others };
}

/** For adopt_partner_routes (src/cloud/adopt.ts): a route's next hop is a VirtualAppliance's IP; ours are `nextHop`'s. */
export function azureHops(routes: readonly AzureRoute[], nextHop: AzureDesired["nextHop"]): HopTable {
  return {
    routes: routes.map((r) => ({ destination: r.addressPrefix, ...(r.nextHopType === "VirtualAppliance" && r.nextHopIpAddress ? { hop: r.nextHopIpAddress } : {}) })),
    ours: [nextHop[4], nextHop[6]].filter((ip): ip is string => ip !== undefined),
  };
}
