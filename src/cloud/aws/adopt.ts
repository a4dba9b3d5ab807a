/**
 * `adopt_partner_routes` (docs/cloud-routes.md §Adopting the partner's routes), pure: VNS3's
 * "take over every route that targets the partner", for prefixes the partner learned over
 * BGP-over-IPsec and wrote itself. While standby, each read of a table tells who the partner is
 * (the ENI our configured destinations route to, when it is not ours) and which other routes
 * target that ENI; at activation those destinations join the configured ones. What was learned is
 * kept per table (state.ts saves it), replaced at every read, so a withdrawn prefix is forgotten.
 */
import type { Ec2RouteTable } from "./ec2.ts";
import { canonicalDestination, destinationsOf, type Destination } from "./plan.ts";

export interface AdoptedTable {
  /** The partner's ENIs seen at the last read. */
  readonly partners: readonly string[];
  /** Destinations (canonical) routed to them, the configured ones excluded. */
  readonly destinations: readonly string[];
}

/** ENIs our configured destinations route to that are not ours: the partner, while it is active. */
export function partnerEnis(configured: readonly Destination[], ourEni: string, table: Ec2RouteTable): string[] {
  const wanted = new Set(configured.map((d) => d.cidr));
  const found = new Set<string>();
  for (const route of table.routes) {
    const eni = route.networkInterfaceId;
    if (eni && eni !== ourEni && wanted.has(canonicalDestination(route.destination))) found.add(eni);
  }
  return [...found].sort();
}

/**
 * What a standby's read of the table teaches. `previous` is kept when the read shows no partner
 * (every configured destination missing or ours: nothing to learn from, e.g. a manual edit).
 */
export function learnAdopted(configured: readonly Destination[], ourEni: string, table: Ec2RouteTable, previous: AdoptedTable | undefined): AdoptedTable | undefined {
  const partners = partnerEnis(configured, ourEni, table);
  if (partners.length === 0) return previous;
  const skip = new Set(configured.map((d) => d.cidr));
  const destinations = new Set<string>();
  for (const route of table.routes) {
    const cidr = canonicalDestination(route.destination);
    if (route.networkInterfaceId && partners.includes(route.networkInterfaceId) && !skip.has(cidr)) destinations.add(cidr);
  }
  return { partners, destinations: [...destinations].sort() };
}

/** The configured destinations, then the adopted ones (each once). */
export function withAdopted(configured: readonly Destination[], adopted: AdoptedTable | undefined): Destination[] {
  const have = new Set(configured.map((d) => d.cidr));
  const extra = (adopted?.destinations ?? []).filter((cidr) => !have.has(cidr));
  return [...configured, ...destinationsOf(extra)];
}
