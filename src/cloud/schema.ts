/**
 * `reconcile.bridge_activate.aws:` (docs/cloud-routes.md §Configuration): Go v0.0.18's keys
 * (`timeout`, `route_tables`) plus vpnham's (where to reach AWS, which ENI, drift repair and the
 * split-brain hold). Referenced from src/config/schema.ts; the model is `CloudAws`.
 */
import { z } from "zod";
import { duration, httpUrl, integer, show, stringList } from "../config/fields.ts";

export const cloudDefaults = {
  timeout: "15s",
  driftInterval: "1m",
  partnerClaimHoldMax: "10m",
  gcpRoutePriority: 1000,
} as const;

const awsId = (prefix: string, what: string) =>
  z
    .string({ error: (issue) => `${show(issue.input)} is not ${what} (expected ${prefix}…)` })
    .regex(new RegExp(`^${prefix}[0-9a-zA-Z]+$`), { error: `expected ${what} like ${prefix}0123456789abcdef0` });

/**
 * `adopt_partner_routes` and `adopt_state_file`, the same under every cloud
 * (docs/cloud-routes.md §Adopting the partner's routes); `what` says which routes are the partner's.
 */
const adoptFields = (cloud: "aws" | "gcp" | "azure", what: string) => ({
  adopt_partner_routes: z
    .boolean()
    .default(false)
    .meta({ type: "boolean", default: "false", description: `also take over every route ${what}, learned while standby (VNS3 parity; vpnham addition)` }),
  adopt_state_file: z
    .string()
    .min(1)
    .optional()
    .meta({ type: "path", default: `/var/lib/vpnham/cloud-<bridge>-${cloud}.json`, description: "where adopt_partner_routes keeps what it learned (relative to the config file); no other bridge, cloud or announce.state_file may name the same file" }),
});

/** The model of the adopt keys (docs/cloud-routes.md §Adopting the partner's routes). */
export interface CloudAdopt {
  adoptPartnerRoutes?: boolean;
  /** Absolute path; default /var/lib/vpnham/cloud-<bridge>-<cloud>.json. */
  adoptStateFile?: string;
}

/** `/var/lib/vpnham/cloud-<bridge>-<cloud>.json`: one file per bridge and cloud. */
export function defaultAdoptStateFile(bridge: string, cloud: string): string {
  return `/var/lib/vpnham/cloud-${bridge}-${cloud}.json`;
}

/**
 * The state files a bridge's clouds write (adopting on), each with the key that names it, for
 * the config's one-writer-per-file check (src/config/state-files.ts).
 */
export function adoptStateFiles(bridge: string, clouds: { aws?: CloudAdopt; gcp?: CloudAdopt; azure?: CloudAdopt }): Array<{ key: string; file: string }> {
  return (["aws", "gcp", "azure"] as const).flatMap((cloud) => {
    const settings = clouds[cloud];
    if (!settings?.adoptPartnerRoutes) return [];
    const key = `bridges.${bridge}.reconcile.bridge_activate.${cloud}.adopt_state_file`;
    return [{ key: settings.adoptStateFile === undefined ? `${key} (default)` : key, file: settings.adoptStateFile ?? defaultAdoptStateFile(bridge, cloud) }];
  });
}

function normalizeAdopt(raw: { adopt_partner_routes: boolean; adopt_state_file?: string | undefined }, resolvePath: (path: string) => string): CloudAdopt {
  return {
    ...(raw.adopt_partner_routes ? { adoptPartnerRoutes: true } : {}),
    ...(raw.adopt_state_file === undefined ? {} : { adoptStateFile: resolvePath(raw.adopt_state_file) }),
  };
}

export const awsSchema = z
  .strictObject({
    timeout: duration({ minMs: 1, zeroIsDefault: true, default: cloudDefaults.timeout, meta: { description: "time limit of each AWS API and metadata call" } }),
    route_tables: stringList(awsId("rtb-", "a route table id"), { type: "list of route table ids", description: "route tables whose routes to peer_cidr and extra_peer_cidrs must target this host" }),
    region: z.string().min(1).optional().meta({ type: "string", default: "AWS_REGION, else IMDS", description: "AWS region (vpnham addition)" }),
    endpoint: httpUrl({ description: "EC2 API base URL (vpnham addition; also AWS_ENDPOINT_URL_EC2, AWS_ENDPOINT_URL)", default: "https://ec2.<region>.amazonaws.com/" }).optional(),
    metadata_endpoint: httpUrl({ description: "instance metadata (IMDSv2) base URL (vpnham addition; also AWS_EC2_METADATA_SERVICE_ENDPOINT)", default: "http://169.254.169.254" }).optional(),
    network_interface_id: awsId("eni-", "an ENI id")
      .optional()
      .meta({ type: "ENI id", default: "found through IMDS", description: "the ENI routes target, instead of finding bridge_interface's through IMDS (vpnham addition)" }),
    drift_interval: duration({ minMs: 0, default: cloudDefaults.driftInterval, meta: { description: "while active, read the tables this often and repair them (0 = only on activation; vpnham addition)" } }),
    partner_claim_hold_max: duration({
      minMs: 1000,
      default: cloudDefaults.partnerClaimHoldMax,
      meta: { description: "longest the configured-standby holds back after its partner took the routes back (split brain; vpnham addition)" },
    }),
    ...adoptFields("aws", "of the tables that targets the partner's ENI"),
  })
  .meta({ type: "mapping", description: "point AWS route tables at this host's ENI while the bridge is active (docs/cloud-routes.md)" });

export type RawCloudAws = z.output<typeof awsSchema>;

/** The model of `aws:` (src/config/model.ts `cloud.aws`). */
export interface CloudAws extends CloudAdopt {
  timeoutMs: number;
  routeTables: string[];
  region?: string;
  endpoint?: string;
  metadataEndpoint?: string;
  networkInterfaceId?: string;
  driftIntervalMs: number;
  partnerClaimHoldMaxMs: number;
}

export function normalizeAws(raw: RawCloudAws, resolvePath: (path: string) => string = (path) => path): CloudAws {
  return {
    timeoutMs: raw.timeout,
    routeTables: raw.route_tables,
    ...(raw.region === undefined ? {} : { region: raw.region }),
    ...(raw.endpoint === undefined ? {} : { endpoint: raw.endpoint }),
    ...(raw.metadata_endpoint === undefined ? {} : { metadataEndpoint: raw.metadata_endpoint }),
    ...(raw.network_interface_id === undefined ? {} : { networkInterfaceId: raw.network_interface_id }),
    driftIntervalMs: raw.drift_interval,
    partnerClaimHoldMaxMs: raw.partner_claim_hold_max,
    ...normalizeAdopt(raw, resolvePath),
  };
}

const driftInterval = () =>
  duration({ minMs: 0, default: cloudDefaults.driftInterval, meta: { description: "while active, read the routes this often and repair them (0 = only on activation; vpnham addition)" } });
const partnerClaimHoldMax = () =>
  duration({
    minMs: 1000,
    default: cloudDefaults.partnerClaimHoldMax,
    meta: { description: "longest the configured-standby holds back after its partner took the routes back (split brain; vpnham addition)" },
  });

export const gcpSchema = z
  .strictObject({
    route_id_prefix: z
      .string()
      .regex(/^[a-z]([-a-z0-9]*[a-z0-9])?$/, { error: "a route name prefix: lower-case letters, digits and -, starting with a letter" })
      .optional()
      .meta({ type: "string", default: "vpnham-<bridge>", description: "prefix of the names of the routes this host inserts" }),
    route_priority: integer({ meta: { description: "priority of the routes (lower wins)" }, default: cloudDefaults.gcpRoutePriority, min: 0, max: 65535 }),
    route_tags: stringList(z.string(), { type: "list of strings", description: "network tags the routes apply to (empty: every instance of the network)" }),
    timeout: duration({ minMs: 1, zeroIsDefault: true, default: cloudDefaults.timeout, meta: { description: "time limit of each GCP API and metadata call, Operation waits included" } }),
    project: z.string().min(1).optional().meta({ type: "string", default: "the instance's (metadata)", description: "project holding the network's routes, e.g. a Shared VPC host project (vpnham addition)" }),
    endpoint: httpUrl({ description: "Compute Engine API base URL (vpnham addition)", default: "https://compute.googleapis.com/compute/v1/" }).optional(),
    metadata_endpoint: httpUrl({ description: "metadata server base URL (vpnham addition; also GCE_METADATA_HOST)", default: "http://metadata.google.internal" }).optional(),
    drift_interval: driftInterval(),
    partner_claim_hold_max: partnerClaimHoldMax(),
    ...adoptFields("gcp", "of our networks that targets the partner's instance or IP"),
  })
  .meta({ type: "mapping", description: "point GCP routes at this instance while the bridge is active (docs/cloud-routes.md)" });

export type RawCloudGcp = z.output<typeof gcpSchema>;

/** The model of `gcp:` (src/config/model.ts `cloud.gcp`). */
export interface CloudGcp extends CloudAdopt {
  routeIdPrefix?: string;
  routePriority: number;
  routeTags: string[];
  timeoutMs: number;
  project?: string;
  endpoint?: string;
  metadataEndpoint?: string;
  driftIntervalMs: number;
  partnerClaimHoldMaxMs: number;
}

export function normalizeGcp(raw: RawCloudGcp, resolvePath: (path: string) => string = (path) => path): CloudGcp {
  return {
    ...(raw.route_id_prefix === undefined ? {} : { routeIdPrefix: raw.route_id_prefix }),
    routePriority: raw.route_priority,
    routeTags: raw.route_tags,
    timeoutMs: raw.timeout,
    ...(raw.project === undefined ? {} : { project: raw.project }),
    ...(raw.endpoint === undefined ? {} : { endpoint: raw.endpoint }),
    ...(raw.metadata_endpoint === undefined ? {} : { metadataEndpoint: raw.metadata_endpoint }),
    driftIntervalMs: raw.drift_interval,
    partnerClaimHoldMaxMs: raw.partner_claim_hold_max,
    ...normalizeAdopt(raw, resolvePath),
  };
}

export const azureSchema = z
  .strictObject({
    subscription_id: z.string({ error: "required: the subscription of the route tables" }).min(1).meta({ type: "string", description: "subscription id of the route tables" }),
    resource_group: z.string({ error: "required: the resource group of the route tables" }).min(1).meta({ type: "string", description: "resource group of the route tables" }),
    route_tables: stringList(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$/, { error: "a route table name" }), { type: "list of route table names", description: "route tables whose routes to peer_cidr and extra_peer_cidrs must go to this host" }),
    route_name_prefix: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, { error: "letters, digits, _ . -, starting with a letter or digit" })
      .optional()
      .meta({ type: "string", default: "vpnham-<bridge>", description: "names of the routes this host creates: <prefix>-<destination>" }),
    next_hop_ip: z.string().optional().meta({ type: "IPv4 address", default: "bridge_interface's", description: "next hop (VirtualAppliance) of IPv4 routes; IPv6 routes use bridge_interface's IPv6 address" }),
    api_version: z.string().regex(/^\d{4}-\d{2}-\d{2}(-preview)?$/, { error: "an api-version like 2023-09-01" }).default("2023-09-01").meta({ type: "string", default: "2023-09-01", description: "Microsoft.Network api-version, pinned" }),
    client_id: z.string().optional().meta({ type: "string", default: "AZURE_CLIENT_ID", description: "user-assigned managed identity, or the service principal / workload identity app" }),
    tenant_id: z.string().optional().meta({ type: "string", default: "AZURE_TENANT_ID", description: "tenant of the service principal or workload identity" }),
    client_secret_file: z.string().optional().meta({ type: "path", description: "file holding the service principal's secret (relative to the config file); instead of the managed identity" }),
    endpoint: httpUrl({ description: "Resource Manager base URL (sovereign clouds: e.g. https://management.usgovcloudapi.net/)", default: "https://management.azure.com/" }).optional(),
    authority: httpUrl({ description: "Entra ID base URL for service principals (e.g. https://login.microsoftonline.us/)", default: "https://login.microsoftonline.com/" }).optional(),
    metadata_endpoint: httpUrl({ description: "instance metadata (managed identity) base URL", default: "http://169.254.169.254" }).optional(),
    timeout: duration({ minMs: 1, zeroIsDefault: true, default: cloudDefaults.timeout, meta: { description: "time limit of each Azure call, operation polling included" } }),
    drift_interval: driftInterval(),
    partner_claim_hold_max: partnerClaimHoldMax(),
    ...adoptFields("azure", "of the tables whose next hop is the partner's address (VirtualAppliance)"),
  })
  .meta({ type: "mapping", description: "point Azure route tables at this host while the bridge is active (vpnham addition; docs/cloud-routes.md)" });

export type RawCloudAzure = z.output<typeof azureSchema>;

/** The model of `azure:` (src/config/model.ts `cloud.azure`). */
export interface CloudAzure extends CloudAdopt {
  subscriptionId: string;
  resourceGroup: string;
  routeTables: string[];
  routeNamePrefix?: string;
  nextHopIp?: string;
  apiVersion: string;
  clientId?: string;
  tenantId?: string;
  /** Absolute path. */
  clientSecretFile?: string;
  endpoint?: string;
  authority?: string;
  metadataEndpoint?: string;
  timeoutMs: number;
  driftIntervalMs: number;
  partnerClaimHoldMaxMs: number;
}

/** `baseDir` resolves client_secret_file, as secret_file is. */
export function normalizeAzure(raw: RawCloudAzure, resolvePath: (path: string) => string): CloudAzure {
  const optional = <K extends string, V>(key: K, value: V | undefined) => (value === undefined ? {} : ({ [key]: value } as { [P in K]: V }));
  return {
    subscriptionId: raw.subscription_id,
    resourceGroup: raw.resource_group,
    routeTables: raw.route_tables,
    ...optional("routeNamePrefix", raw.route_name_prefix),
    ...optional("nextHopIp", raw.next_hop_ip),
    apiVersion: raw.api_version,
    ...optional("clientId", raw.client_id),
    ...optional("tenantId", raw.tenant_id),
    ...optional("clientSecretFile", raw.client_secret_file === undefined ? undefined : resolvePath(raw.client_secret_file)),
    ...optional("endpoint", raw.endpoint),
    ...optional("authority", raw.authority),
    ...optional("metadataEndpoint", raw.metadata_endpoint),
    timeoutMs: raw.timeout,
    driftIntervalMs: raw.drift_interval,
    partnerClaimHoldMaxMs: raw.partner_claim_hold_max,
    ...normalizeAdopt(raw, resolvePath),
  };
}
