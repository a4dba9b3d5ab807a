/**
 * What to change in a GCP project's routes so that every destination in each of our networks
 * goes to this instance, pure (docs/cloud-routes.md §GCP). Routes are immutable, so as in Go:
 * keep a route of ours that matches (name, next hop, priority, tags), insert it when missing,
 * delete every other route for that destination and network. Unlike Go the route name carries a
 * hash of this instance and the destination, so the partners' names never collide and ours is
 * inserted *before* the others are deleted (no moment without a route). An adopted range
 * (adopt_partner_routes) is narrower: only the partner's routes with our tags are replaced,
 * every other route for it (a VPN tunnel's, another priority's, another tag's) is left alone.
 */
import { createHash } from "node:crypto";
import { canonicalHop, withAdopted, type AdoptedTable, type HopTable } from "../adopt.ts";
import { canonicalDestination, type Destination } from "../aws/plan.ts";
import type { GceRoute, NewRoute } from "./compute.ts";

export interface GcpDesired {
  readonly prefix: string;
  readonly priority: number;
  readonly tags: readonly string[];
  /** `projects/p/zones/z/instances/n`. */
  readonly instance: string;
  /** The instance's addresses (adopt_partner_routes: a route to one of them is ours). */
  readonly addresses?: readonly string[];
  /** Short network names of our interfaces (bridge first). */
  readonly networks: readonly string[];
  readonly destinations: readonly Destination[];
  /** adopt_partner_routes: what was learned, by network (src/cloud/adopt.ts). */
  readonly adopted?: Readonly<Record<string, AdoptedTable>>;
}

/**
 * The configured destinations, then those adopted in `network` that a route with our tags still
 * sends to the partner or to us; each with the routes it is about: every route for a configured
 * one, only ours and the partner's (our tags) for an adopted one.
 */
function destinationsIn(desired: GcpDesired, network: string, routes: readonly GceRoute[]): Array<{ cidr: string; found: GceRoute[] }> {
  const adopted = desired.adopted?.[network];
  const all = adopted ? withAdopted(desired.destinations, adopted, gcpHops(routes, network, { instance: desired.instance, addresses: desired.addresses ?? [] }, desired.tags)) : desired.destinations;
  const configured = new Set(desired.destinations.map((d) => d.cidr));
  const hops = new Set([...(adopted?.partners ?? []), desired.instance, ...(desired.addresses ?? [])].map(canonicalHop));
  return all.map(({ cidr }) => {
    const found = routesFor(routes, network, cidr);
    if (configured.has(cidr)) return { cidr, found };
    const name = routeName(desired.prefix, network, desired.instance, cidr);
    return { cidr, found: found.filter((r) => r.name === name || (sameTags(r.tags, desired.tags) && hops.has(canonicalHop(hopOf(r) ?? "")))) };
  });
}

/** A route's next hop as adopting sees it: its instance, else its IP. */
const hopOf = (r: GceRoute): string | undefined => r.nextHopInstance ?? r.nextHopIp;

export type GcpStep = { readonly action: "insert"; readonly route: NewRoute } | { readonly action: "delete"; readonly name: string; readonly before: string };

/** A valid route name (`[a-z]([-a-z0-9]{0,61}[a-z0-9])?`), unique per instance, network and destination. */
export function routeName(prefix: string, network: string, instance: string, destination: string): string {
  const hash = createHash("sha256").update(`${instance} ${destination}`).digest("hex").slice(0, 8);
  let head = `${prefix}-${network}`.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/-+/g, "-");
  if (!/^[a-z]/.test(head)) head = `r-${head}`;
  head = head.slice(0, 63 - 9).replace(/-+$/, "");
  return `${head}-${hash}`;
}

const sameTags = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && [...a].sort().every((t, i) => t === [...b].sort()[i]);

function wanted(desired: GcpDesired, network: string, destination: string): NewRoute {
  return {
    name: routeName(desired.prefix, network, desired.instance, destination),
    network,
    destRange: destination,
    priority: desired.priority,
    tags: desired.tags,
    nextHopInstance: desired.instance,
    description: "vpnham: this instance is the active VPN bridge",
  };
}

const matches = (route: GceRoute, want: NewRoute): boolean =>
  route.name === want.name && route.nextHopInstance === want.nextHopInstance && route.priority === want.priority && sameTags(route.tags, want.tags);

function routesFor(routes: readonly GceRoute[], network: string, destination: string): GceRoute[] {
  return routes.filter((r) => r.network === network && canonicalDestination(r.destRange) === destination);
}

export function planGcpRoutes(desired: GcpDesired, routes: readonly GceRoute[]): GcpStep[] {
  const steps: GcpStep[] = [];
  for (const network of desired.networks) {
    for (const { cidr, found } of destinationsIn(desired, network, routes)) {
      const want = wanted(desired, network, cidr);
      const match = found.find((r) => matches(r, want));
      if (!match) {
        // Our name taken by a stale version of ours (other priority or tags): it must go first.
        const stale = found.find((r) => r.name === want.name);
        if (stale) steps.push({ action: "delete", name: stale.name, before: stale.target });
        steps.push({ action: "insert", route: want });
      }
      for (const other of found) if (other !== match && other.name !== want.name) steps.push({ action: "delete", name: other.name, before: other.target || "?" });
    }
  }
  return steps;
}

export function describeGcpStep(step: GcpStep): string {
  if (step.action === "delete") return `routes.delete name=${step.name} (was ${step.before})`;
  const r = step.route;
  return `routes.insert name=${r.name} network=${r.network} destRange=${r.destRange} nextHopInstance=${r.nextHopInstance} priority=${r.priority} tags=[${r.tags.join(",")}]`;
}

/** For the split-brain rule (src/cloud/claim.ts): destinations at us, missing, and who holds the rest. */
export function viewGcpRoutes(desired: GcpDesired, routes: readonly GceRoute[]): { ours: number; missing: number; others: Array<{ target: string; blackhole: boolean }> } {
  let ours = 0;
  let missing = 0;
  const others: Array<{ target: string; blackhole: boolean }> = [];
  for (const network of desired.networks) {
    for (const { cidr, found } of destinationsIn(desired, network, routes)) {
      const want = wanted(desired, network, cidr);
      if (found.length === 0) missing++;
      else if (found.length === 1 && matches(found[0]!, want)) ours++;
      else if (found.every((r) => matches(r, want) || r.nextHopInstance === desired.instance)) missing++; // a stale version of ours: fix it, nobody to yield to
      else for (const r of found) if (!matches(r, want) && r.nextHopInstance !== desired.instance) others.push({ target: r.target || r.name, blackhole: r.dead });
    }
  }
  return { ours, missing, others };
}

/**
 * For adopt_partner_routes (src/cloud/adopt.ts): the routes of `network` whose tags are `tags`
 * (route_tags: a route for other instances is not the pair's), their next hop the instance or
 * else the IP; ours are this instance and its addresses.
 */
export function gcpHops(routes: readonly GceRoute[], network: string, place: { readonly instance: string; readonly addresses: readonly string[] }, tags: readonly string[]): HopTable {
  return {
    routes: routes
      .filter((r) => r.network === network && sameTags(r.tags, tags))
      .map((r) => {
        const hop = hopOf(r);
        return { destination: r.destRange, ...(hop ? { hop } : {}) };
      }),
    ours: [place.instance, ...place.addresses],
  };
}
