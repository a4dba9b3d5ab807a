/**
 * `adopt_partner_routes` (docs/cloud-routes.md §Adopting the partner's routes), pure and the
 * same for every cloud: VNS3's "take over every route that targets the partner", for prefixes
 * the partner learned over BGP-over-IPsec and wrote itself. While standby, each read of a table
 * tells who the partner is (the next hops our configured destinations route to, when they are not
 * ours) and which other routes go to those next hops; at activation those destinations join the
 * configured ones. What was learned is kept per table (adopt-state.ts saves it), replaced at
 * every read, so a withdrawn prefix is forgotten.
 *
 * What a cloud tells apart is only its next hop (aws/plan.ts `awsHops`: the ENI; gcp/plan.ts
 * `gcpHops`: the instance or the IP; azure/plan.ts `azureHops`: a VirtualAppliance's IP).
 */
import { formatIp, parseIp } from "../config/address.ts";
import { canonicalDestination, destinationsOf, type Destination } from "./aws/plan.ts";

/** One route as adopting sees it: its destination as the cloud wrote it, and its next hop when that can be a host. */
export interface HopRoute {
  readonly destination: string;
  /** An ENI, an instance, an appliance's IP; undefined for a gateway, a peering, a blackhole without a target… */
  readonly hop?: string;
}

/** One table (AWS or Azure route table, GCP network) read by the standby. */
export interface HopTable {
  readonly routes: readonly HopRoute[];
  /** Our own next hops in this table (an ENI; an instance and its IPs; our appliance IPs). */
  readonly ours: readonly string[];
}

export interface AdoptedTable {
  /** The partner's next hops seen at the last read. */
  readonly partners: readonly string[];
  /** Destinations (canonical) routed to them, the configured ones excluded. */
  readonly destinations: readonly string[];
}

/** An IP in canonical text (Azure echoes what was written: `FD00::5`, `fd00:0::5`); anything else as is. */
export function canonicalHop(hop: string): string {
  const ip = parseIp(hop.trim());
  return ip ? formatIp(ip) : hop;
}

/** Next hops our configured destinations route to that are not ours: the partner, while it is active. */
export function partnerHops(configured: readonly Destination[], table: HopTable): string[] {
  const wanted = new Set(configured.map((d) => d.cidr));
  const ours = new Set(table.ours.map(canonicalHop));
  const found = new Set<string>();
  for (const route of table.routes) {
    if (route.hop === undefined) continue;
    const hop = canonicalHop(route.hop);
    if (!ours.has(hop) && wanted.has(canonicalDestination(route.destination))) found.add(hop);
  }
  return [...found].sort();
}

/**
 * What a standby's read of a table teaches. `previous` is kept when the read shows no partner
 * (every configured destination missing or ours: nothing to learn from, e.g. a manual edit).
 */
export function learnAdopted(configured: readonly Destination[], table: HopTable, previous: AdoptedTable | undefined): AdoptedTable | undefined {
  const partners = partnerHops(configured, table);
  if (partners.length === 0) return previous;
  const skip = new Set(configured.map((d) => d.cidr));
  const destinations = new Set<string>();
  for (const route of table.routes) {
    const cidr = canonicalDestination(route.destination);
    if (route.hop !== undefined && partners.includes(canonicalHop(route.hop)) && !skip.has(cidr)) destinations.add(cidr);
  }
  return { partners, destinations: [...destinations].sort() };
}

/** The configured destinations, then the adopted ones (each once) that `keep` accepts. */
export function withAdopted(configured: readonly Destination[], adopted: AdoptedTable | undefined, keep: (d: Destination) => boolean = () => true): Destination[] {
  const have = new Set(configured.map((d) => d.cidr));
  const extra = destinationsOf((adopted?.destinations ?? []).filter((cidr) => !have.has(cidr))).filter(keep);
  return [...configured, ...extra];
}
