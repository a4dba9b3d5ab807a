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
import { learnAdopted, withAdopted } from "./aws/adopt.ts";
import { loadAdoptedState, saveAdoptedState } from "./aws/adopt-state.ts";
import type { Env } from "./aws/settings.ts";
import type { ClaimDecision, ClaimView } from "./claim.ts";
import { createGcpContext, GCP_ROUTE_KIND, gcpReconciler } from "./gcp/reconciler.ts";
import type { HttpFetch } from "./http.ts";
import { createArmClient, defaultArmEndpoint } from "./azure/arm.ts";
import { armResource, createAzureIdentity } from "./azure/identity.ts";
import type { AzureDesired } from "./azure/plan.ts";
import { AZURE_ROUTE_KIND, azureTableReconciler } from "./azure/reconciler.ts";
import type { CloudAws, CloudAzure, CloudGcp } from "./schema.ts";

export type CloudName = "aws" | "gcp" | "azure";

export interface CloudTarget {
  /** Key in the status (`rtb-…`, `routes`). */
  readonly name: string;
  /** Metric label: `<bridge>/<name>`. */
  readonly target: string;
  /** A fresh reconciler for one activation (its claim state lives in `decide`). */
  reconciler(decide: (view: ClaimView) => ClaimDecision): Reconciler<unknown, unknown>;
  /** The loop's desired state, worked out at activation (interface addresses may come late). */
  desired(): unknown;
}

export interface CloudProvider {
  readonly kind: string;
  readonly targets: readonly CloudTarget[];
  /** What is resolved so far (region, ENIs, project, instance…). */
  known(): Record<string, unknown>;
  /** While standby: read the targets and learn from them (AWS adopt_partner_routes); throws on failure. */
  learn?(signal: AbortSignal): Promise<void>;
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
  // docs/cloud-routes.md §Adopting the partner's routes: learned while standby, kept in a file.
  const stateFile = aws.adoptStateFile ?? `/var/lib/vpnham/cloud-${input.bridge}-aws.json`;
  const adopted = aws.adoptPartnerRoutes ? loadAdoptedState(stateFile) : {};
  const destinationsFor = (routeTableId: string) => (aws.adoptPartnerRoutes ? withAdopted(input.destinations, adopted[routeTableId]) : input.destinations);
  return {
    kind: AWS_ROUTE_KIND,
    targets: aws.routeTables.map((routeTableId) => ({
      name: routeTableId,
      target: `${input.bridge}/${routeTableId}`,
      desired: () => destinationsFor(routeTableId),
      reconciler: (decide) =>
        awsTableReconciler({ routeTableId, target: `${input.bridge}/${routeTableId}`, aws: context, destinations: destinationsFor(routeTableId), decide }) as Reconciler<unknown, unknown>,
    })),
    known() {
      const k = context.known();
      return {
        ...(k.region ? { region: k.region, endpoint: k.endpoint } : {}),
        ...(k.enis ? { networkInterfaces: k.enis } : {}),
        ...(k.credentials ? { credentials: k.credentials } : {}),
        ...(aws.adoptPartnerRoutes ? { adopted: { ...adopted } } : {}),
      };
    },
    ...(aws.adoptPartnerRoutes
      ? {
          async learn(signal: AbortSignal) {
            let changed = false;
            const failures: string[] = [];
            for (const routeTableId of aws.routeTables) {
              try {
                const table = await context.ec2.describeRouteTable(routeTableId, signal);
                const eni = await context.eniFor(table.vpcId, signal);
                const next = learnAdopted(input.destinations, eni, table, adopted[routeTableId]);
                if (next && JSON.stringify(next) !== JSON.stringify(adopted[routeTableId])) {
                  adopted[routeTableId] = next;
                  changed = true;
                }
              } catch (error) {
                failures.push(`${routeTableId}: ${error instanceof Error ? error.message : String(error)}`);
              }
            }
            if (changed) await saveAdoptedState(stateFile, adopted);
            if (failures.length > 0) throw new Error(`learning the partner's routes: ${failures.join("; ")}`);
          },
        }
      : {}),
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
        desired: () => fixed,
        reconciler: (decide) => gcpReconciler({ target: `${input.bridge}/gcp`, gcp: context, static: fixed, decide }) as Reconciler<unknown, unknown>,
      },
    ],
    known() {
      const k = context.known();
      return k ? { project: k.project, instance: k.instance, networks: k.networks } : {};
    },
  };
}

export function azureProvider(azure: CloudAzure, input: ProviderInput & { pollIntervalMs?: number }): CloudProvider {
  const identity = createAzureIdentity({
    fetch: input.fetch,
    env: input.env,
    metadataEndpoint: (azure.metadataEndpoint ?? "http://169.254.169.254").replace(/\/+$/, ""),
    authority: azure.authority ?? "https://login.microsoftonline.com/",
    resource: azure.endpoint ? new URL(azure.endpoint).origin + "/" : armResource,
    ...(azure.clientId ? { clientId: azure.clientId } : {}),
    ...(azure.tenantId ? { tenantId: azure.tenantId } : {}),
    ...(azure.clientSecretFile ? { clientSecretFile: azure.clientSecretFile } : {}),
  });
  const arm = createArmClient({
    endpoint: azure.endpoint ?? defaultArmEndpoint,
    apiVersion: azure.apiVersion,
    fetch: input.fetch,
    token: (signal) => identity.token(signal),
    invalidateToken: () => identity.invalidate(),
    ...(input.pollIntervalMs ? { pollIntervalMs: input.pollIntervalMs } : {}),
  });
  const addressesOf = input.localAddresses ?? hostAddresses;
  const desired = (): AzureDesired => {
    const local = addressesOf(input.interfaces[0]!);
    const v4 = azure.nextHopIp ?? local.ipv4[0];
    const v6 = local.ipv6[0];
    return { prefix: azure.routeNamePrefix ?? `vpnham-${input.bridge}`, destinations: input.destinations, nextHop: { ...(v4 ? { 4: v4 } : {}), ...(v6 ? { 6: v6 } : {}) } };
  };
  return {
    kind: AZURE_ROUTE_KIND,
    targets: azure.routeTables.map((routeTable) => {
      const target = `${input.bridge}/${routeTable}`;
      const table = { subscriptionId: azure.subscriptionId, resourceGroup: azure.resourceGroup, routeTable };
      return {
        name: routeTable,
        target,
        desired,
        reconciler: (decide) => azureTableReconciler({ target, table, arm, desired: desired(), decide }) as Reconciler<unknown, unknown>,
      };
    }),
    known: () => ({ subscription: azure.subscriptionId, resourceGroup: azure.resourceGroup, identity: identity.source(), nextHop: desired().nextHop }),
  };
}

export type { ReconcileLoopOptions };
