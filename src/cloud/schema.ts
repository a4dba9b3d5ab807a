/**
 * `reconcile.bridge_activate.aws:` (docs/cloud-routes.md §Configuration): Go v0.0.18's keys
 * (`timeout`, `route_tables`) plus vpnham's (where to reach AWS, which ENI, drift repair and the
 * split-brain hold). Referenced from src/config/schema.ts; the model is `CloudAws`.
 */
import { z } from "zod";
import { duration, httpUrl, show, stringList } from "../config/fields.ts";

export const cloudDefaults = {
  timeout: "15s",
  driftInterval: "1m",
  partnerClaimHoldMax: "10m",
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
