/**
 * A bridge's GCP routes as one reconcile target (docs/cloud-routes.md §GCP): the instance,
 * project and networks resolved lazily from the metadata server (cached once known), the
 * project's routes read, the split-brain rule consulted, then Go's rules (plan.ts) as
 * insert/delete calls, each waited on until its Operation is DONE.
 */
import type { Action } from "../../reconcile/action.ts";
import type { Reconciler } from "../../reconcile/engine.ts";
import type { LocalAddresses } from "../aws/eni.ts";
import { matchNic } from "../aws/eni.ts";
import type { Destination } from "../aws/plan.ts";
import type { ClaimDecision, ClaimView } from "../claim.ts";
import type { HttpFetch } from "../http.ts";
import type { Env } from "../aws/settings.ts";
import { createComputeClient, defaultComputeEndpoint, type ComputeClient, type GceRoute } from "./compute.ts";
import { createGceMetadata, gceMetadataEndpoint, type GceInstance } from "./metadata.ts";
import { describeGcpStep, planGcpRoutes, viewGcpRoutes, type GcpDesired } from "./plan.ts";

export const GCP_ROUTE_KIND = "gcp_route";

export interface GcpPlace {
  readonly project: string;
  readonly instance: string;
  readonly networks: readonly string[];
  /** The instance's addresses, every NIC (adopt_partner_routes: a route to one of them is ours). */
  readonly addresses: readonly string[];
}

export interface GcpContext {
  readonly compute: ComputeClient;
  place(signal: AbortSignal): Promise<GcpPlace>;
  known(): GcpPlace | undefined;
}

export interface GcpContextOptions {
  readonly project?: string;
  readonly endpoint?: string;
  readonly metadataEndpoint?: string;
  /** bridge_interface, then secondary_interfaces: each gives its VPC network. */
  readonly interfaces: readonly string[];
  readonly env: Env;
  readonly fetch: HttpFetch;
  readonly localAddresses: (ifname: string) => LocalAddresses;
  readonly pollIntervalMs?: number;
}

/** Networks of the interfaces, matched by address against the instance's NICs. */
export function networksOf(interfaces: readonly string[], localOf: (ifname: string) => LocalAddresses, instance: GceInstance): string[] {
  const nics = instance.nics.map((n) => ({ mac: n.ip, eni: n.network, ipv4s: [n.ip], ipv6s: n.ipv6s }));
  return interfaces.map((ifname) => {
    const nic = matchNic(localOf(ifname), nics);
    if (!nic) throw new Error(`no network interface of instance ${instance.name} has ${ifname}'s addresses`);
    return nic.eni;
  });
}

export function createGcpContext(options: GcpContextOptions): GcpContext {
  const metadata = createGceMetadata({ endpoint: gceMetadataEndpoint(options.metadataEndpoint, options.env), fetch: options.fetch });
  let known: GcpPlace | undefined;
  let inFlight: Promise<GcpPlace> | undefined;
  const compute = createComputeClient({
    endpoint: options.endpoint ?? defaultComputeEndpoint,
    fetch: options.fetch,
    token: (signal) => metadata.token(signal),
    invalidateToken: () => metadata.invalidateToken(),
    ...(options.pollIntervalMs ? { pollIntervalMs: options.pollIntervalMs } : {}),
  });
  return {
    compute,
    async place(signal) {
      if (known) return known;
      inFlight ??= (async () => {
        const instance = await metadata.instance(signal);
        const place = {
          project: options.project ?? instance.project,
          instance: `projects/${instance.project}/zones/${instance.zone}/instances/${instance.name}`,
          networks: [...new Set(networksOf(options.interfaces, options.localAddresses, instance))],
          addresses: instance.nics.flatMap((n) => [n.ip, ...n.ipv6s]).filter((ip) => ip !== ""),
        };
        known = place;
        return place;
      })().finally(() => (inFlight = undefined));
      return await inFlight;
    },
    known: () => known,
  };
}

export interface GcpStatic {
  readonly prefix: string;
  readonly priority: number;
  readonly tags: readonly string[];
  readonly destinations: readonly Destination[];
  /** adopt_partner_routes: what was learned, by network, at activation. */
  readonly adopted?: GcpDesired["adopted"];
}

export interface GcpActual {
  readonly place: GcpPlace;
  readonly routes: readonly GceRoute[];
  readonly hold?: string;
}

const desiredOf = (s: GcpStatic, place: GcpPlace): GcpDesired => ({ ...s, instance: place.instance, addresses: place.addresses, networks: place.networks });

export function gcpReconciler(options: { target: string; gcp: GcpContext; static: GcpStatic; decide: (view: ClaimView) => ClaimDecision }): Reconciler<GcpStatic, GcpActual> {
  return {
    kind: GCP_ROUTE_KIND,
    target: options.target,
    async read(signal) {
      const place = await options.gcp.place(signal);
      const routes = await options.gcp.compute.listRoutes(place.project, signal);
      const decision = options.decide(viewGcpRoutes(desiredOf(options.static, place), routes));
      return { place, routes, ...(decision.claim ? {} : { hold: decision.reason }) };
    },
    plan(desired, actual): Action[] {
      if (actual.hold !== undefined) return [];
      return planGcpRoutes(desiredOf(desired, actual.place), actual.routes).map((step) => ({
        kind: `gcp.routes.${step.action}`,
        describe: () => describeGcpStep(step),
        apply: (signal) => (step.action === "insert" ? options.gcp.compute.insertRoute(actual.place.project, step.route, signal) : options.gcp.compute.deleteRoute(actual.place.project, step.name, signal)),
      }));
    },
  };
}
