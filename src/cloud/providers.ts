/**
 * Each cloud as the job sees it (docs/cloud-routes.md): the reconcile targets it has (AWS and
 * Azure: one per route table; GCP: one per bridge, all its networks), built without touching the
 * network, what it has found out so far for the status, and — with adopt_partner_routes — what a
 * standby reads to learn the partner's routes (adopt-state.ts does the rest, the same for all).
 */
import type { ReconcileLoopOptions, Reconciler } from "../reconcile/engine.ts";
import { createAwsContext } from "./aws/context.ts";
import { localAddresses as hostAddresses, type LocalAddresses } from "./aws/eni.ts";
import { awsHops, type Destination } from "./aws/plan.ts";
import { AWS_ROUTE_KIND, awsTableReconciler, type AwsDesired } from "./aws/reconciler.ts";
import type { AdoptedTable } from "./adopt.ts";
import { createAdopter, defaultAdoptStateFile, type AdoptIgnored, type Adopter, type LearnSource } from "./adopt-state.ts";
import type { Env } from "./aws/settings.ts";
import type { ClaimDecision, ClaimView } from "./claim.ts";
import { gcpHops } from "./gcp/plan.ts";
import { createGcpContext, GCP_ROUTE_KIND, gcpReconciler } from "./gcp/reconciler.ts";
import type { HttpFetch } from "./http.ts";
import { createArmClient, defaultArmEndpoint } from "./azure/arm.ts";
import { armResource, createAzureIdentity } from "./azure/identity.ts";
import { azureHops, type AzureDesired } from "./azure/plan.ts";
import { AZURE_ROUTE_KIND, azureTableReconciler } from "./azure/reconciler.ts";
import type { CloudAdopt, CloudAws, CloudAzure, CloudGcp } from "./schema.ts";

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
  /** While standby: read the targets and learn from them (adopt_partner_routes); throws on failure. */
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
  /** Every bridge's destinations of this daemon: adopt_partner_routes never takes them. */
  readonly reserved?: readonly Destination[];
  /** adopt_partner_routes: a read refused or a stored entry dropped (counted, logged). */
  readonly reportAdopt?: (reason: AdoptIgnored, message: string) => void;
  /** bridge_interface, then secondary_interfaces. */
  readonly interfaces: readonly string[];
  readonly env: Env;
  readonly fetch: HttpFetch;
  readonly localAddresses?: (ifname: string) => LocalAddresses;
}

/** docs/cloud-routes.md §Adopting the partner's routes: learned while standby, kept in a file; undefined when off. */
function adopterFor(cloud: CloudName, settings: CloudAdopt, input: ProviderInput): Adopter | undefined {
  if (!settings.adoptPartnerRoutes) return undefined;
  return createAdopter(settings.adoptStateFile ?? defaultAdoptStateFile(input.bridge, cloud), input.destinations, {
    ...(input.reserved ? { reserved: input.reserved } : {}),
    ...(input.reportAdopt ? { report: input.reportAdopt } : {}),
  });
}

/** What may be adopted now, by table (each checked against the table again at every run). */
function adoptedTables(adopter: Adopter): Record<string, AdoptedTable> {
  return Object.fromEntries(Object.keys(adopter.known()).flatMap((key) => (adopter.table(key) ? [[key, adopter.table(key)!]] : [])));
}

const adoptedStatus = (adopter: Adopter | undefined) => (adopter ? { adopted: adopter.known() } : {});

/** The provider's `learn`, when adopting: every source read, learned from, the file saved. */
const learning = (adopter: Adopter | undefined, sources: readonly LearnSource[]): Pick<CloudProvider, "learn"> => (adopter ? { learn: (signal) => adopter.learn(sources, signal) } : {});

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
  const adopter = adopterFor("aws", aws, input);
  const desiredFor = (routeTableId: string): AwsDesired => {
    const adopted = adopter?.table(routeTableId);
    return { destinations: input.destinations, ...(adopted ? { adopted } : {}) };
  };
  return {
    kind: AWS_ROUTE_KIND,
    targets: aws.routeTables.map((routeTableId) => ({
      name: routeTableId,
      target: `${input.bridge}/${routeTableId}`,
      desired: () => desiredFor(routeTableId),
      reconciler: (decide) =>
        awsTableReconciler({ routeTableId, target: `${input.bridge}/${routeTableId}`, aws: context, desired: desiredFor(routeTableId), decide }) as Reconciler<unknown, unknown>,
    })),
    known() {
      const k = context.known();
      return {
        ...(k.region ? { region: k.region, endpoint: k.endpoint } : {}),
        ...(k.enis ? { networkInterfaces: k.enis } : {}),
        ...(k.credentials ? { credentials: k.credentials } : {}),
        ...adoptedStatus(adopter),
      };
    },
    ...learning(
      adopter,
      aws.routeTables.map((routeTableId) => ({
        name: routeTableId,
        async read(signal) {
          const table = await context.ec2.describeRouteTable(routeTableId, signal);
          return [[routeTableId, awsHops(table, await context.eniFor(table.vpcId, signal))]];
        },
      })),
    ),
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
  const adopter = adopterFor("gcp", gcp, input);
  // Adopted destinations are per network (gcp/plan.ts); what is known at activation is planned.
  const fixed = () => ({
    prefix: gcp.routeIdPrefix ?? `vpnham-${input.bridge}`,
    priority: gcp.routePriority,
    tags: gcp.routeTags,
    destinations: input.destinations,
    ...(adopter ? { adopted: adoptedTables(adopter) } : {}),
  });
  return {
    kind: GCP_ROUTE_KIND,
    targets: [
      {
        name: "routes",
        target: `${input.bridge}/gcp`,
        desired: fixed,
        reconciler: (decide) => gcpReconciler({ target: `${input.bridge}/gcp`, gcp: context, static: fixed(), decide }) as Reconciler<unknown, unknown>,
      },
    ],
    known() {
      const k = context.known();
      return { ...(k ? { project: k.project, instance: k.instance, networks: k.networks } : {}), ...adoptedStatus(adopter) };
    },
    ...learning(adopter, [
      {
        name: "routes",
        async read(signal) {
          const place = await context.place(signal);
          const routes = await context.compute.listRoutes(place.project, signal);
          return place.networks.map((network) => [network, gcpHops(routes, network, place, gcp.routeTags)] as const);
        },
      },
    ]),
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
  const adopter = adopterFor("azure", azure, input);
  const tableRef = (routeTable: string) => ({ subscriptionId: azure.subscriptionId, resourceGroup: azure.resourceGroup, routeTable });
  const desiredFor = (routeTable: string): AzureDesired => {
    const adopted = adopter?.table(routeTable);
    return { ...desired(), ...(adopted ? { adopted } : {}) };
  };
  return {
    kind: AZURE_ROUTE_KIND,
    targets: azure.routeTables.map((routeTable) => {
      const target = `${input.bridge}/${routeTable}`;
      return {
        name: routeTable,
        target,
        desired: () => desiredFor(routeTable),
        reconciler: (decide) => azureTableReconciler({ target, table: tableRef(routeTable), arm, desired: desiredFor(routeTable), decide }) as Reconciler<unknown, unknown>,
      };
    }),
    known: () => ({ subscription: azure.subscriptionId, resourceGroup: azure.resourceGroup, identity: identity.source(), nextHop: desired().nextHop, ...adoptedStatus(adopter) }),
    ...learning(
      adopter,
      azure.routeTables.map((routeTable) => ({
        name: routeTable,
        read: async (signal) => [[routeTable, azureHops(await arm.routes(tableRef(routeTable), signal), desired().nextHop)]],
      })),
    ),
  };
}

export type { ReconcileLoopOptions };
