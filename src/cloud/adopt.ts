/**
 * `adopt_partner_routes` (docs/cloud-routes.md §Adopting the partner's routes), pure and the
 * same for every cloud: VNS3's "take over every route that targets the partner", for prefixes
 * the partner learned over BGP-over-IPsec and wrote itself. While standby, each read of a table
 * tells who the partner is (the one next hop our configured destinations route to, when it is not
 * ours) and which other routes go to it; at activation those destinations join the configured
 * ones — each only while a route to it still goes to the partner (or already to us), judged on
 * the table as read at every run. What was learned is kept per table (adopt-state.ts saves it),
 * replaced at every read, so a withdrawn prefix is forgotten.
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
  /** The partner's next hops seen at the last read (one, or one address per family). */
  readonly partners: readonly string[];
  /** Destinations (canonical) routed to them, the configured ones excluded. */
  readonly destinations: readonly string[];
}

/** What one read teaches: the new knowledge, or — the partner not being one next hop — the previous, and the candidates. */
export interface Lesson {
  readonly adopted: AdoptedTable | undefined;
  /** More than one candidate partner: nothing was learned from this read. */
  readonly ambiguous?: readonly string[];
}

/** An IP in canonical text (Azure echoes what was written: `FD00::5`, `fd00:0::5`); anything else as is. */
export function canonicalHop(hop: string): string {
  const ip = parseIp(hop.trim());
  return ip ? formatIp(ip) : hop;
}

/** A default route is never adopted (only configured): taking it over would move every flow without a better route. */
export const isDefaultRoute = (cidr: string): boolean => cidr === "0.0.0.0/0" || cidr === "::/0";

/** Whether a destination may be adopted: not a default route, not one any bridge of this daemon configures. */
export function adoptable(cidr: string, reserved: ReadonlySet<string>): boolean {
  return !isDefaultRoute(cidr) && !reserved.has(cidr);
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
 * Whether `hops` can be one partner: one ENI or instance, or one address per family (Azure's
 * IPv4 and IPv6 next hops of one appliance). Two ENIs, two addresses of a family, or an instance
 * and an address, are two candidates (a firewall, a test box, another appliance): ambiguous.
 */
export function onePartner(hops: readonly string[]): boolean {
  const kinds = hops.map((hop) => parseIp(hop)?.family ?? "host");
  const count = (kind: 4 | 6 | "host") => kinds.filter((k) => k === kind).length;
  if (count("host") > 1 || count(4) > 1 || count(6) > 1) return false;
  return count("host") === 0 || hops.length === 1;
}

/**
 * What a standby's read of a table teaches. `previous` is kept when the read shows no partner
 * (every configured destination missing or ours: nothing to learn from, e.g. a manual edit) or
 * more than one candidate (`ambiguous`). `reserved`: every bridge's destinations of this daemon,
 * never adopted (another bridge's routes to a shared next hop are not the partner's).
 */
export function learnAdopted(configured: readonly Destination[], table: HopTable, previous: AdoptedTable | undefined, reserved: readonly Destination[] = []): Lesson {
  const partners = partnerHops(configured, table);
  if (partners.length === 0) return { adopted: previous };
  if (!onePartner(partners)) return { adopted: previous, ambiguous: partners };
  const skip = new Set([...configured, ...reserved].map((d) => d.cidr));
  const destinations = new Set<string>();
  for (const route of table.routes) {
    const cidr = canonicalDestination(route.destination);
    if (route.hop !== undefined && partners.includes(canonicalHop(route.hop)) && adoptable(cidr, skip)) destinations.add(cidr);
  }
  return { adopted: { partners, destinations: [...destinations].sort() } };
}

/**
 * The adopted destinations a route in `table` still sends to one of `adopted.partners`, or
 * already to us. Anything else is left alone: a prefix that moved to a gateway, a peering or
 * another appliance; one that is gone (withdrawn, or deleted: not recreated); a blackhole that
 * names no partner (docs/cloud-routes.md §Adopting the partner's routes).
 */
export function stillAdoptable(adopted: AdoptedTable | undefined, table: HopTable): Set<string> {
  const held = new Set<string>();
  if (!adopted) return held;
  const hops = new Set([...adopted.partners, ...table.ours].map(canonicalHop));
  for (const route of table.routes) if (route.hop !== undefined && hops.has(canonicalHop(route.hop))) held.add(canonicalDestination(route.destination));
  return held;
}

/**
 * The configured destinations, then the adopted ones (each once) that `table` — the table as
 * read now — still shows at the partner or at us (`stillAdoptable`), and that `keep` accepts.
 */
export function withAdopted(configured: readonly Destination[], adopted: AdoptedTable | undefined, table: HopTable, keep: (d: Destination) => boolean = () => true): Destination[] {
  const have = new Set(configured.map((d) => d.cidr));
  const held = stillAdoptable(adopted, table);
  const extra = destinationsOf((adopted?.destinations ?? []).filter((cidr) => !have.has(cidr) && !isDefaultRoute(cidr) && held.has(cidr))).filter(keep);
  return [...configured, ...extra];
}
