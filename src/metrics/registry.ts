import { Counter, Gauge, Histogram, Registry } from "./prom.ts";
import { latencyBuckets } from "./buckets.ts";
import { registerProcessMetrics } from "./process.ts";
import { RELOAD_OUTCOMES } from "./labels.ts";

// The lifecycle helpers live in their own files; re-exported so callers need one import.
export { ERROR_SCOPES, HOOK_NAMES, HOOK_OUTCOMES, RELOAD_OUTCOMES, type HookName, type HookOutcome } from "./labels.ts";

type BridgeTunnel = "bridge" | "tunnel";
type LatencyLabel = BridgeTunnel | "probe_location_src" | "probe_location_dst";

/**
 * Every series vpnham exports. The first block keeps the Go vpnham v0.0.18 names, types
 * and labels (dashboards keep working); the rest are ours.
 */
export interface Metrics {
  readonly registry: Registry;
  /** Bounds (µs) of the latency and round-trip histograms. */
  readonly latencyBucketsUs: readonly number[];

  // --- Go-compatible ---
  /** vpnham_bridge_active: 0..2, self + partner's last report. */
  readonly bridgeActive: Gauge<"bridge">;
  /** vpnham_bridge_up: 0..2, self + partner's last report. */
  readonly bridgeUp: Gauge<"bridge">;
  /** vpnham_tunnel_interface_active: 0/1. */
  readonly tunnelActive: Gauge<BridgeTunnel>;
  /** vpnham_tunnel_interface_up: 0/1. */
  readonly tunnelUp: Gauge<BridgeTunnel>;
  readonly probesSent: Counter<BridgeTunnel>;
  readonly probesReturned: Counter<BridgeTunnel>;
  readonly probesFailed: Counter<BridgeTunnel>;
  /** vpnham_probes_latency_forward_microseconds: observe µs. */
  readonly latencyForward: Histogram<LatencyLabel>;
  /** vpnham_probes_latency_return_microseconds: observe µs. */
  readonly latencyReturn: Histogram<LatencyLabel>;
  readonly errors: Counter<"scope" | "bridge">;
  /** vpnham_version{version} = 1 (Go sets 0). */
  readonly version: Gauge<"version">;

  // --- ours ---
  readonly buildInfo: Gauge<"version" | "runtime">;
  readonly probesLate: Counter<BridgeTunnel>;
  /** vpnham_probes_round_trip_seconds: observe seconds (our clock only). */
  readonly latencyRoundTrip: Histogram<BridgeTunnel>;
  readonly datagramsMalformed: Counter<BridgeTunnel | "reason">;
  readonly partnerPolls: Counter<"bridge" | "outcome">;
  readonly partnerUp: Gauge<"bridge">;
  readonly splitBrain: Gauge<"bridge">;
  /** `tunnel` is "" for bridge transitions; `to` is "active" | "inactive" (or "up"/"down"). */
  readonly roleTransitions: Counter<BridgeTunnel | "to" | "reason">;
  /** vpnham_last_role_change_timestamp_seconds: set Unix seconds (Date.now() / 1000). */
  readonly lastRoleChange: Gauge<"bridge">;
  readonly hookRuns: Counter<"bridge" | "hook" | "outcome">;
  /** vpnham_hook_runs_dropped_total: queued runs that never started (reason coalesced | overflow). */
  readonly hookRunsDropped: Counter<"bridge" | "hook" | "reason">;
  /** vpnham_hook_duration_seconds: observe seconds. */
  readonly hookDuration: Histogram<"bridge" | "hook">;
  /** `server` is "metrics" or the status server's name, `code` the status code as text. */
  readonly httpRequests: Counter<"server" | "code">;
  /** `action` is "evicted" (an idle connection made room) or "refused" (503), `limit` "per_source" or "total". */
  readonly httpConnectionsShed: Counter<"server" | "action" | "limit">;
  /** vpnham_event_loop_lag_seconds: observe seconds (fed by startEventLoopLagMonitor). */
  readonly eventLoopLag: Histogram;
  readonly configReloads: Counter<"outcome">;
}

export interface MetricsOptions {
  latencyBucketsCount: number;
  maxLatencyUs: number;
  version: string;
}

const hookDurationBucketsSeconds = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const eventLoopLagBucketsSeconds = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** Builds a private registry (never prom-client's global one) with every vpnham series. */
export function createMetrics(opts: MetricsOptions): Metrics {
  const registry = new Registry();
  const registers = [registry];
  const bucketsUs = latencyBuckets(opts.latencyBucketsCount, opts.maxLatencyUs);
  const latencyLabels = ["bridge", "tunnel", "probe_location_src", "probe_location_dst"] as const;
  const bt = ["bridge", "tunnel"] as const;

  const metrics: Metrics = {
    registry,
    latencyBucketsUs: bucketsUs,

    bridgeActive: new Gauge({
      name: "vpnham_bridge_active",
      help: "Count of active bridges of this pair as this host sees them (itself + the partner's last report), 0..2: 0 = no connectivity to the other side (bad), 1 = all good, 2 = both consider themselves active (split brain).",
      labelNames: ["bridge"],
      registers,
    }),
    bridgeUp: new Gauge({
      name: "vpnham_bridge_up",
      help: "Count of online (up) bridges of this pair as this host sees them (itself + the partner's last report), 0..2; the more the merrier.",
      labelNames: ["bridge"],
      registers,
    }),
    tunnelActive: new Gauge({
      name: "vpnham_tunnel_interface_active",
      help: "1 when this tunnel is the bridge's active tunnel, else 0 (sum over tunnels = count of active tunnels).",
      labelNames: bt,
      registers,
    }),
    tunnelUp: new Gauge({
      name: "vpnham_tunnel_interface_up",
      help: "1 when the tunnel is up (its probes come back), else 0.",
      labelNames: bt,
      registers,
    }),
    probesSent: new Counter({
      name: "vpnham_probes_sent_total",
      help: "UDP probes sent through the tunnel.",
      labelNames: bt,
      registers,
    }),
    probesReturned: new Counter({
      name: "vpnham_probes_returned_total",
      help: "UDP probes that came back in time (before the next probe was sent).",
      labelNames: bt,
      registers,
    }),
    probesFailed: new Counter({
      name: "vpnham_probes_failed_total",
      help: "UDP probes that failed to send or did not come back in time.",
      labelNames: bt,
      registers,
    }),
    latencyForward: new Histogram({
      name: "vpnham_probes_latency_forward_microseconds",
      help: "Probe latency on the trip there, in microseconds (responder's clock minus sender's clock: mixes two clocks, may be skewed).",
      labelNames: latencyLabels,
      buckets: [...bucketsUs],
      registers,
    }),
    latencyReturn: new Histogram({
      name: "vpnham_probes_latency_return_microseconds",
      help: "Probe latency on the trip back, in microseconds (sender's clock minus responder's clock: mixes two clocks, may be skewed).",
      labelNames: latencyLabels,
      buckets: [...bucketsUs],
      registers,
    }),
    errors: new Counter({
      name: "vpnham_errors_total",
      help: "Errors by scope (peer_probing, partner_polling, status_listener, system, job_<hook>).",
      labelNames: ["scope", "bridge"],
      registers,
    }),
    // Go exports this gauge with value 0; we export 1 (the info-metric convention) under the same name.
    version: new Gauge({
      name: "vpnham_version",
      help: "Version of vpnham running (value is always 1; the Go vpnham reports 0).",
      labelNames: ["version"],
      registers,
    }),

    buildInfo: new Gauge({
      name: "vpnham_build_info",
      help: "Build information: vpnham version and JavaScript runtime (value is always 1).",
      labelNames: ["version", "runtime"],
      registers,
    }),
    probesLate: new Counter({
      name: "vpnham_probes_late_total",
      help: "Probe replies that arrived after their probe was already counted as failed (ignored for verdicts).",
      labelNames: bt,
      registers,
    }),
    latencyRoundTrip: new Histogram({
      // Ours, not Go's: base units (seconds), as Prometheus asks of new names.
      name: "vpnham_probes_round_trip_seconds",
      help: "Probe round-trip time in seconds, measured on this host's clock only.",
      labelNames: bt,
      buckets: bucketsUs.map((us) => us / 1e6),
      registers,
    }),
    datagramsMalformed: new Counter({
      name: "vpnham_datagrams_malformed_total",
      help: "Datagrams received on a tunnel socket that were dropped, by reason (bad size, bad time field, foreign id, failed authentication, ...).",
      labelNames: ["bridge", "tunnel", "reason"],
      registers,
    }),
    partnerPolls: new Counter({
      name: "vpnham_partner_polls_total",
      help: "Partner status polls by outcome (ok, timeout, connect, http_status, invalid_body, too_large, name_mismatch, role_mismatch, auth).",
      labelNames: ["bridge", "outcome"],
      registers,
    }),
    partnerUp: new Gauge({
      name: "vpnham_partner_up",
      help: "1 when this bridge considers its partner up (enough consecutive good polls reporting up), else 0.",
      labelNames: ["bridge"],
      registers,
    }),
    splitBrain: new Gauge({
      name: "vpnham_split_brain",
      help: "1 when this bridge and its partner both consider themselves active, as far as this host can tell, else 0.",
      labelNames: ["bridge"],
      registers,
    }),
    roleTransitions: new Counter({
      name: "vpnham_role_transitions_total",
      help: "State transitions of bridges (tunnel=\"\") and tunnels, by new state and reason.",
      labelNames: ["bridge", "tunnel", "to", "reason"],
      registers,
    }),
    lastRoleChange: new Gauge({
      name: "vpnham_last_role_change_timestamp_seconds",
      help: "Unix time in seconds when the bridge last became active or inactive (set to the start time until the first change); time() minus this = seconds in the current state.",
      labelNames: ["bridge"],
      registers,
    }),
    hookRuns: new Counter({
      name: "vpnham_hook_runs_total",
      help: "Hook command runs by hook and outcome (ok, failed, timeout, dry_run).",
      labelNames: ["bridge", "hook", "outcome"],
      registers,
    }),
    hookRunsDropped: new Counter({
      name: "vpnham_hook_runs_dropped_total",
      help: "Queued hook runs dropped before they started, by reason: coalesced (a later transition of the same bridge or tunnel superseded it, or it cancelled out against the last run), overflow (the bounded queue was full).",
      labelNames: ["bridge", "hook", "reason"],
      registers,
    }),
    hookDuration: new Histogram({
      name: "vpnham_hook_duration_seconds",
      help: "Wall-clock duration of hook command runs, in seconds.",
      labelNames: ["bridge", "hook"],
      buckets: hookDurationBucketsSeconds,
      registers,
    }),
    httpRequests: new Counter({
      name: "vpnham_http_requests_total",
      help: "HTTP requests answered, by server (metrics, status) and response status code.",
      labelNames: ["server", "code"],
      registers,
    }),
    httpConnectionsShed: new Counter({
      name: "vpnham_http_connections_shed_total",
      help: "HTTP connections shed at a connection limit, by server, action (evicted = an idle connection closed to make room for a newcomer, refused = the newcomer got 503) and limit (per_source, total).",
      labelNames: ["server", "action", "limit"],
      registers,
    }),
    eventLoopLag: new Histogram({
      name: "vpnham_event_loop_lag_seconds",
      help: "How late a periodic timer fired, in seconds: the event loop was blocked this long (delays probes and polls).",
      buckets: eventLoopLagBucketsSeconds,
      registers,
    }),
    configReloads: new Counter({
      name: "vpnham_config_reloads_total",
      help: "Configuration reloads (SIGHUP) by outcome (ok, failed = invalid or not applied; the old configuration stays in effect).",
      labelNames: ["outcome"],
      registers,
    }),
  };

  metrics.version.set({ version: opts.version }, 1);
  metrics.buildInfo.set({ version: opts.version, runtime: runtimeName() }, 1);
  for (const outcome of RELOAD_OUTCOMES) metrics.configReloads.inc({ outcome }, 0);
  registerProcessMetrics(registry);
  return metrics;
}

/** e.g. "bun/1.4.5", "deno/2.9.6", "node/20.19.0" — read from process.versions, no Bun/Deno globals. */
export function runtimeName(): string {
  const versions = process.versions as Record<string, string | undefined>;
  if (versions.bun) return `bun/${versions.bun}`;
  if (versions.deno) return `deno/${versions.deno}`;
  return `node/${versions.node ?? "unknown"}`;
}
