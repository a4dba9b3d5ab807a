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
  })
  .meta({ type: "mapping", description: "point AWS route tables at this host's ENI while the bridge is active (docs/cloud-routes.md)" });

export type RawCloudAws = z.output<typeof awsSchema>;

/** The model of `aws:` (src/config/model.ts `cloud.aws`). */
export interface CloudAws {
  timeoutMs: number;
  routeTables: string[];
  region?: string;
  endpoint?: string;
  metadataEndpoint?: string;
  networkInterfaceId?: string;
  driftIntervalMs: number;
  partnerClaimHoldMaxMs: number;
}

export function normalizeAws(raw: RawCloudAws): CloudAws {
  return {
    timeoutMs: raw.timeout,
    routeTables: raw.route_tables,
    ...(raw.region === undefined ? {} : { region: raw.region }),
    ...(raw.endpoint === undefined ? {} : { endpoint: raw.endpoint }),
    ...(raw.metadata_endpoint === undefined ? {} : { metadataEndpoint: raw.metadata_endpoint }),
    ...(raw.network_interface_id === undefined ? {} : { networkInterfaceId: raw.network_interface_id }),
    driftIntervalMs: raw.drift_interval,
    partnerClaimHoldMaxMs: raw.partner_claim_hold_max,
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
  })
  .meta({ type: "mapping", description: "point GCP routes at this instance while the bridge is active (docs/cloud-routes.md)" });

export type RawCloudGcp = z.output<typeof gcpSchema>;

/** The model of `gcp:` (src/config/model.ts `cloud.gcp`). */
export interface CloudGcp {
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

export function normalizeGcp(raw: RawCloudGcp): CloudGcp {
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
  };
}
