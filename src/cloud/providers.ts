/**
 * Each cloud as the job sees it (docs/cloud-routes.md): the reconcile targets it has (AWS: one
 * per route table; GCP: one per bridge, all its networks), built without touching the network,
 * and what it has found out so far for the status.
 */
import type { ReconcileLoopOptions, Reconciler } from "../reconcile/engine.ts";
import { createAwsContext } from "./aws/context.ts";
import { localAddresses as hostAddresses, type LocalAddresses } from "./aws/eni.ts";
import type { Destination } from "./aws/plan.ts";
import { AWS_ROUTE_KIND, awsTableReconciler } from "./aws/reconciler.ts";
import type { Env } from "./aws/settings.ts";
import type { ClaimDecision, ClaimView } from "./claim.ts";
import { createGcpContext, GCP_ROUTE_KIND, gcpReconciler } from "./gcp/reconciler.ts";
import type { HttpFetch } from "./http.ts";
import type { CloudAws, CloudGcp } from "./schema.ts";

export type CloudName = "aws" | "gcp";

export interface CloudTarget {
  /** Key in the status (`rtb-…`, `routes`). */
  readonly name: string;
  /** Metric label: `<bridge>/<name>`. */
  readonly target: string;
  /** A fresh reconciler for one activation (its claim state lives in `decide`). */
  reconciler(decide: (view: ClaimView) => ClaimDecision): Reconciler<unknown, unknown>;
  readonly desired: unknown;
}

export interface CloudProvider {
  readonly kind: string;
  readonly targets: readonly CloudTarget[];
  /** What is resolved so far (region, ENIs, project, instance…). */
  known(): Record<string, unknown>;
}

/** The engine settings a cloud's config gives. */
export interface CloudTiming {
  readonly timeoutMs: number;
  readonly driftIntervalMs: number;
  readonly partnerClaimHoldMaxMs: number;
}

export interface ProviderInput {
  readonly bridge: string;
  readonly destinations: readonly Destination[];
  /** bridge_interface, then secondary_interfaces. */
  readonly interfaces: readonly string[];
  readonly env: Env;
  readonly fetch: HttpFetch;
  readonly localAddresses?: (ifname: string) => LocalAddresses;
}

export function awsProvider(aws: CloudAws, input: ProviderInput): CloudProvider {
  const context = createAwsContext({
    places: {
      ...(aws.region ? { region: aws.region } : {}),
      ...(aws.endpoint ? { endpoint: aws.endpoint } : {}),
      ...(aws.metadataEndpoint ? { metadataEndpoint: aws.metadataEndpoint } : {}),
    },
    ...(aws.networkInterfaceId ? { networkInterfaceId: aws.networkInterfaceId } : {}),
    interfaces: input.interfaces,
    env: input.env,
    fetch: input.fetch,
    ...(input.localAddresses ? { localAddresses: input.localAddresses } : {}),
  });
  return {
    kind: AWS_ROUTE_KIND,
    targets: aws.routeTables.map((routeTableId) => ({
      name: routeTableId,
      target: `${input.bridge}/${routeTableId}`,
      desired: input.destinations,
      reconciler: (decide) =>
        awsTableReconciler({ routeTableId, target: `${input.bridge}/${routeTableId}`, aws: context, destinations: input.destinations, decide }) as Reconciler<unknown, unknown>,
    })),
    known() {
      const k = context.known();
      return {
        ...(k.region ? { region: k.region, endpoint: k.endpoint } : {}),
        ...(k.enis ? { networkInterfaces: k.enis } : {}),
        ...(k.credentials ? { credentials: k.credentials } : {}),
      };
    },
  };
}

export function gcpProvider(gcp: CloudGcp, input: ProviderInput & { pollIntervalMs?: number }): CloudProvider {
  const context = createGcpContext({
    ...(gcp.project ? { project: gcp.project } : {}),
    ...(gcp.endpoint ? { endpoint: gcp.endpoint } : {}),
    ...(gcp.metadataEndpoint ? { metadataEndpoint: gcp.metadataEndpoint } : {}),
    interfaces: input.interfaces,
    env: input.env,
    fetch: input.fetch,
    localAddresses: input.localAddresses ?? hostAddresses,
    ...(input.pollIntervalMs ? { pollIntervalMs: input.pollIntervalMs } : {}),
  });
  const fixed = { prefix: gcp.routeIdPrefix ?? `vpnham-${input.bridge}`, priority: gcp.routePriority, tags: gcp.routeTags, destinations: input.destinations };
  return {
    kind: GCP_ROUTE_KIND,
    targets: [
      {
        name: "routes",
        target: `${input.bridge}/gcp`,
        desired: fixed,
        reconciler: (decide) => gcpReconciler({ target: `${input.bridge}/gcp`, gcp: context, static: fixed, decide }) as Reconciler<unknown, unknown>,
      },
    ],
    known() {
      const k = context.known();
      return k ? { project: k.project, instance: k.instance, networks: k.networks } : {};
    },
  };
}

export type { ReconcileLoopOptions };
