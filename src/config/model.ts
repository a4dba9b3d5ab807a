/**
 * The internal configuration model every component uses; both YAML shapes normalise onto it.
 * Declared as zod schemas so the types come from one place (and tests can check a result).
 */
import { z } from "zod";
import { hookNames } from "./placeholders.ts";
import type { ChecksConfig } from "../checks/schema.ts";
import type { CollectorsConfig } from "../collectors/schema.ts";
import type { DnsFailoverConfig } from "../dns/config.ts";
import type { AnnounceConfig } from "../announce/model.ts";
import type { CloudAws, CloudAzure, CloudGcp } from "../cloud/schema.ts";

/** The two roles, of a bridge and of a tunnel, in config, state machine and status body alike. */
import { ROLES } from "../roles/role.ts";
const roleModel = z.enum(ROLES);

export const hostPortModel = z.object({
  /** Canonical IP text without brackets. */
  host: z.string(),
  port: z.number().int().min(1).max(65535),
  family: z.union([z.literal(4), z.literal(6)]),
  /** As written in the config, e.g. "[::1]:8080". */
  text: z.string(),
});

export const reapplyModel = z.object({
  initialDelayMs: z.number().min(1000),
  maximumDelayMs: z.number(),
  factor: z.number().min(1),
});

export const cloudModel = z.object({
  /** docs/cloud-routes.md; src/cloud/schema.ts */
  aws: z.custom<CloudAws>().optional(),
  gcp: z.custom<CloudGcp>().optional(),
  azure: z.custom<CloudAzure>().optional(),
});

export const hookModel = z.object({
  /** argv lists, run in order without a shell; placeholders not yet substituted. */
  commands: z.array(z.array(z.string()).min(1)),
  /** Present only when enabled (initial delay > 0). */
  reapply: reapplyModel.optional(),
  /** Cloud route updates (bridge_activate only; docs/cloud-routes.md). */
  cloud: cloudModel.optional(),
});

export const tunnelModel = z.object({
  name: z.string(),
  role: roleModel,
  addr: hostPortModel,
  probeAddr: hostPortModel,
  thresholdDown: z.number().int().min(2).max(100),
  thresholdUp: z.number().int().min(2).max(100),
  /** The CHILD_SA carrying the tunnel (docs/collectors.md §IPsec-aware failover). */
  ipsec: z.object({ conn: z.string(), child: z.string().optional() }).optional(),
  /** The BGP session over the tunnel (docs/collectors.md §BGP-aware failover). */
  bgp: z.object({ peer: z.string(), vrf: z.string().optional() }).optional(),
});

export const bridgeModel = z.object({
  name: z.string(),
  role: roleModel,
  bridgeInterface: z.string(),
  /** peer_cidr first, then extra_peer_cidrs; network addresses in canonical text. */
  peerCidrs: z.array(z.string()).min(1),
  statusAddr: hostPortModel,
  partnerUrl: z.string(),
  partnerPollingInterface: z.string().optional(),
  /** Checks (of `checks:`) that are more paths to the partner (docs/behaviour.md §Partner health). */
  partnerChecks: z.array(z.string()).optional(),
  partnerStatusTimeoutMs: z.number().positive(),
  partnerThresholdDown: z.number().int().min(2).max(100),
  partnerThresholdUp: z.number().int().min(2).max(100),
  probeIntervalMs: z.number().positive(),
  probeLocation: z.string(),
  secondaryInterfaces: z.array(z.string()),
  /** In configuration order: the order of failover. */
  tunnels: z.array(tunnelModel).min(1),
  scriptsTimeoutMs: z.number().positive(),
  hooks: z.record(z.enum(hookNames), hookModel),
  /** How long the configured-active tunnel/bridge must stay up before it takes its role back. */
  preemptDelayMs: z.number().min(0),
  /** Shared secret for probes and status; never log it. */
  secret: z.string().min(1).optional(),
});

export const configModel = z.object({
  bridges: z.array(bridgeModel),
  metrics: z.object({
    listenAddr: hostPortModel,
    latencyBucketsCount: z.number().int(),
    maxLatencyUs: z.number().int(),
    textfilePath: z.string().optional(),
  }),
  control: z.object({ socketPath: z.string() }),
  collectors: z.custom<CollectorsConfig>().optional(),
  dryRun: z.boolean(),
  /** `checks:` as src/checks/schema.ts yields it (docs/checks.md); absent when not configured. */
  checks: z.custom<ChecksConfig>().optional(),
  /** `dns_failover:` with its secrets read (src/dns/config.ts, docs/dns-failover.md); absent when not configured. */
  dnsFailover: z.custom<DnsFailoverConfig>().optional(),
  /** `announce:` as src/announce/schema.ts yields it (docs/announce.md); absent when not configured. */
  announce: z.custom<AnnounceConfig>().optional(),
});

export type HostPort = z.output<typeof hostPortModel>;
export type Reapply = z.output<typeof reapplyModel>;
export type HookConfig = z.output<typeof hookModel>;
export type TunnelConfig = z.output<typeof tunnelModel>;
export type BridgeConfig = z.output<typeof bridgeModel>;
export type Config = z.output<typeof configModel>;
export type { Role } from "../roles/role.ts";
