/**
 * The YAML file as written, both Go shapes (docs/config.md §The two Go shapes), strict about unknown keys.
 * This schema is the single source of the raw types and of the reference table (describe.ts).
 */
import { z } from "zod";
import { hookNames, type HookName } from "./placeholders.ts";
import {
  cidr,
  commands,
  duration,
  hostPort,
  httpUrl,
  integer,
  interfaceName,
  interfaceNameKey,
  probeLocation,
  role,
  stringList,
  show,
  threshold,
} from "./fields.ts";
import { formatDurationMs } from "./duration.ts";
import { defaultControlSocketPath } from "../control/paths.ts";
import { checksSchema } from "../checks/schema.ts";
import { bgpTieSchema, collectorsSchema, ipsecTieSchema, textfilePathSchema } from "../collectors/schema.ts";
import { dnsFailoverSchema } from "../dns/schema.ts";
import { announceSchema } from "../announce/schema.ts";
import { awsSchema, azureSchema, gcpSchema } from "../cloud/schema.ts";

export const defaults = {
  probeInterval: "15s",
  partnerStatusTimeout: "1s",
  scriptsTimeout: "30s",
  thresholdDown: 5,
  thresholdUp: 2,
  metricsListenAddr: "0.0.0.0:8000",
  latencyBucketsCount: 33,
  maxLatencyUs: 1_000_000,
  reapplyFactor: 2,
} as const;

const hookDescriptions: Record<HookName, string> = {
  bridge_activate: "runs when the bridge becomes active",
  bridge_deactivate: "runs when the bridge stops being active (vpnham addition)",
  interface_activate: "runs when a tunnel becomes the active tunnel",
  interface_deactivate: "runs when a tunnel stops being the active tunnel",
};

/** Shape 1 (`default_scripts:` and per-bridge `scripts:`): hook → commands. */
function scriptsSchema(scope: string) {
  const shape = Object.fromEntries(
    hookNames.map((hook) => [hook, commands(hook, { description: `${hookDescriptions[hook]}; ${scope}` }).optional()]),
  ) as { [K in HookName]: z.ZodOptional<ReturnType<typeof commands>> };
  return z.strictObject(shape);
}

const reapplyFields = z.strictObject({
  initial_delay: duration({ minMs: 0, default: "0s", meta: { description: "first re-run after this long (≥ 1s); 0 takes maximum_delay, both 0 = reapply disabled (as in Go)" } }),
  maximum_delay: duration({ minMs: 0, default: "0s", meta: { description: "longest delay between re-runs (0 = initial_delay)" } }),
  factor: z
    .number({ error: (issue) => `${show(issue.input)} is not a number (expected ≥ 1)` })
    .default(0)
    .meta({ type: "number ≥ 1", default: String(defaults.reapplyFactor), description: "delay multiplier between re-runs" }),
});

/** Go v0.0.18 rules: zeros take defaults from each other; `undefined` when disabled. */
const reapplySchema = reapplyFields
  .transform((raw, ctx) => {
    const factor = raw.factor === 0 ? defaults.reapplyFactor : raw.factor;
    let initialDelayMs = raw.initial_delay;
    let maximumDelayMs = raw.maximum_delay;
    if (maximumDelayMs === 0) maximumDelayMs = initialDelayMs;
    if (initialDelayMs === 0) initialDelayMs = maximumDelayMs;
    const problem = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
    if (initialDelayMs !== 0 && initialDelayMs < 1000) {
      problem("initial_delay", `${formatDurationMs(initialDelayMs)} is too short (minimum 1s; 0 disables reapply)`);
    }
    if (maximumDelayMs < initialDelayMs) {
      problem("maximum_delay", `${formatDurationMs(maximumDelayMs)} is shorter than initial_delay ${formatDurationMs(initialDelayMs)}`);
    }
    if (factor < 1) problem("factor", `${factor} is less than 1`);
    else if (factor === 1 && initialDelayMs !== maximumDelayMs) {
      problem("factor", "1 cannot grow initial_delay to maximum_delay (use a factor > 1 or equal delays)");
    }
    return initialDelayMs > 0 ? { initialDelayMs, maximumDelayMs, factor } : undefined;
  })
  .meta({ type: "mapping", description: "re-run the hook while still active: after initial_delay, then × factor up to maximum_delay (Go v0.0.18)" });

const script = (hook: HookName) => commands(hook, { description: "commands to run (overrides default_scripts)" }).optional();
const hookMeta = (hook: HookName) => ({ type: "mapping", description: hookDescriptions[hook] });

const reconcileHooks = {
  bridge_activate: z
    .strictObject({ script: script("bridge_activate"), reapply: reapplySchema.optional(), aws: awsSchema.optional(), gcp: gcpSchema.optional(), azure: azureSchema.optional() })
    .optional()
    .meta(hookMeta("bridge_activate")),
  bridge_deactivate: z.strictObject({ script: script("bridge_deactivate") }).optional().meta(hookMeta("bridge_deactivate")),
  interface_activate: z
    .strictObject({ script: script("interface_activate"), reapply: reapplySchema.optional() })
    .optional()
    .meta(hookMeta("interface_activate")),
  interface_deactivate: z.strictObject({ script: script("interface_deactivate") }).optional().meta(hookMeta("interface_deactivate")),
};

const reconcileSchema = z
  .strictObject({
    scripts_timeout: duration({
      minMs: 1,
      zeroIsDefault: true,
      default: defaults.scriptsTimeout,
      meta: { description: "time limit per command; on expiry its whole process group is killed" },
    }),
    ...reconcileHooks,
  })
  .meta({ type: "mapping", description: "Shape 2 (Go v0.0.5+) hooks; cannot be combined with scripts/scripts_timeout" });

const tunnelSchema = z
  .strictObject({
    role: role("exactly one tunnel per bridge is active by configuration"),
    addr: hostPort({ description: "local address: answers probes here and sends from here (UDP)" }),
    probe_addr: hostPort({ description: "the far end's addr: where probes are sent" }),
    threshold_down: threshold("consecutive unanswered probes that take the tunnel down", defaults.thresholdDown),
    threshold_up: threshold("consecutive answered probes that bring the tunnel up", defaults.thresholdUp),
    ipsec: ipsecTieSchema,
    bgp: bgpTieSchema,
  })
  .meta({ type: "mapping", description: "one VPN tunnel, keyed by the interface carrying it" });

const bridgeSchema = z
  .strictObject({
    role: role("configured role; the partner must have the other one"),
    bridge_interface: interfaceName({ description: "interface towards the local network (VPC)" }),
    peer_cidr: cidr({ description: "the network on the far side" }),
    extra_peer_cidrs: stringList(cidr({ description: "" }), { type: "list of CIDRs", description: "more networks on the far side" }),
    secondary_interfaces: stringList(interfaceName({ description: "" }), { type: "list of interface names", description: "more local-network interfaces (cloud route updates)" }),
    status_addr: hostPort({ description: "where this bridge serves its status to the partner (HTTP)" }),
    partner_url: httpUrl({ description: "the partner's status server, e.g. http://10.0.0.3:8080/", default: "required (or partner_status_url)" }).optional(),
    partner_status_url: httpUrl({ description: "old name of partner_url (Go v0.0.1); set only one" }).optional(),
    partner_polling_interface: interfaceName({ description: "poll the partner from this interface's first address" }).optional(),
    partner_checks: stringList(z.string().min(1), { type: "list of check names", description: "more paths to the partner: checks of `checks:`; the partner counts as unreachable only when its poll and every one of these fail (vpnham addition)" }),
    partner_status_timeout: duration({
      minMs: 1,
      zeroIsDefault: true,
      default: defaults.partnerStatusTimeout,
      meta: { description: "time limit of one partner poll; should be shorter than probe_interval" },
    }),
    partner_status_threshold_down: threshold("consecutive failed polls before the partner counts as down", defaults.thresholdDown),
    partner_status_threshold_up: threshold("consecutive good polls before the partner counts as up", defaults.thresholdUp),
    probe_interval: duration({
      minMs: 1,
      zeroIsDefault: true,
      default: defaults.probeInterval,
      meta: { description: "interval between UDP probes and between partner polls" },
    }),
    probe_location: probeLocation({ description: "label sent in probes, used in latency metrics" }),
    tunnel_interfaces: z
      .record(interfaceNameKey, tunnelSchema)
      .refine((tunnels) => Object.keys(tunnels).length > 0, { error: "at least one tunnel interface is required" })
      .meta({ type: "map", keyName: "ifname", description: "the bridge's tunnels, in failover order" }),
    scripts_timeout: duration({
      minMs: 1,
      zeroIsDefault: true,
      default: defaults.scriptsTimeout,
      meta: { description: "Shape 1: time limit per command; on expiry its whole process group is killed" },
    }),
    scripts: scriptsSchema("Shape 1, overrides default_scripts").optional().meta({ type: "mapping", description: "Shape 1 per-bridge hooks" }),
    reconcile: reconcileSchema.optional(),
    preempt_delay: duration({
      minMs: 0,
      default: "0s",
      meta: { description: "how long the configured-active tunnel must stay up before it takes the role back from another up tunnel (vpnham addition)" },
    }),
    secret: z.string().optional().meta({ type: "string", sensitive: true, description: "shared secret authenticating probes and status (vpnham addition; both ends)" }),
    secret_file: z.string().optional().meta({ type: "path", description: "file holding the secret (relative to the config file); instead of secret" }),
  })
  .meta({ type: "mapping", description: "one bridge; the name must match the partner's" });

const metricsFields = z.strictObject({
  listen_addr: hostPort({ description: "Prometheus /metrics listener (HTTP)" }, defaults.metricsListenAddr),
  latency_buckets_count: integer({
    meta: { description: "latency histogram buckets, 1 µs .. max_latency_us" },
    default: defaults.latencyBucketsCount,
    min: 2,
    max: 1000,
  }),
  max_latency_us: integer({ meta: { description: "largest latency bucket, in µs" }, default: defaults.maxLatencyUs, min: 2, max: 3_600_000_000 }),
  textfile_path: textfilePathSchema,
});
const metricsSchema = metricsFields
  .prefault({} as z.input<typeof metricsFields>)
  .meta({ type: "mapping", default: "all defaults", description: "metrics endpoint; may be omitted" });

const controlFields = z.strictObject({
  socket_path: z
    .string({ error: (issue) => `${show(issue.input)} is not a path` })
    .regex(/^\//, { error: "must be an absolute path" })
    .default(defaultControlSocketPath)
    .meta({ type: "path", default: defaultControlSocketPath, description: "unix socket for `vpnham ctl` (mode 0600, JSON lines)" }),
});
const controlSchema = controlFields
  .prefault({} as z.input<typeof controlFields>)
  .meta({ type: "mapping", default: "all defaults", description: "the daemon's control socket; may be omitted" });

/**
 * The top-level sections that each give the daemon a job (docs/config.md §Sections). Every
 * section is optional, but a config needs at least one of these; a new job appends its key.
 */
export const jobSections = ["bridges", "checks", "collectors", "dns_failover", "announce"] as const;
export type JobSection = (typeof jobSections)[number];

export const rawConfigSchema = z.strictObject({
  bridges: z
    .record(z.string().min(1, { error: "a bridge name must not be empty" }), bridgeSchema)
    .refine((bridges) => Object.keys(bridges).length > 0, { error: "at least one bridge is required (or leave bridges: out)" })
    .optional()
    .meta({ type: "map", keyName: "bridge", description: "bridges by name (a job section)" }),
  metrics: metricsSchema,
  control: controlSchema,
  collectors: collectorsSchema.optional(),
  default_scripts: scriptsSchema("for every bridge that does not set the hook")
    .optional()
    .meta({ type: "mapping", description: "hooks used by every bridge that does not set its own" }),
  dry_run: z.boolean().default(false).meta({ type: "boolean", default: "false", description: "log the hooks that would run, run nothing (vpnham addition)" }),
  checks: checksSchema.optional(),
  dns_failover: dnsFailoverSchema.optional(),
  announce: announceSchema.optional(),
});

export type RawConfig = z.output<typeof rawConfigSchema>;
export type RawBridge = z.output<typeof bridgeSchema>;
