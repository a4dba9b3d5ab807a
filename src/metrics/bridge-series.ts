import { POLL_FAILURE_REASONS } from "../partner/outcome.ts";
import { ERROR_SCOPES, HOOK_DROP_REASONS, HOOK_NAMES, HOOK_OUTCOMES } from "./labels.ts";
import type { Metrics } from "./registry.ts";
import { logger } from "../util/log.ts";
import { errorMessage } from "../util/errors.ts";

const log = logger.withTag("metrics");

// Bridges already initialised per Metrics, so a repeated initBridge keeps their start time.
const initialisedBridges = new WeakMap<Metrics, Set<string>>();

/**
 * Creates every per-bridge and per-tunnel series at 0 so rates and alerts work from the
 * first scrape (e.g. probes_failed_total exists before the first failure). Idempotent:
 * series that already exist keep their values (gauges are bumped by 0, never reset).
 */
export function initBridge(metrics: Metrics, bridge: string, tunnels: readonly string[]): void {
  const known = initialisedBridges.get(metrics) ?? new Set<string>();
  initialisedBridges.set(metrics, known);

  metrics.bridgeActive.inc({ bridge }, 0);
  metrics.bridgeUp.inc({ bridge }, 0);
  metrics.partnerUp.inc({ bridge }, 0);
  metrics.splitBrain.inc({ bridge }, 0);
  if (!known.has(bridge)) {
    metrics.lastRoleChange.set({ bridge }, Date.now() / 1000);
    known.add(bridge);
  }
  for (const scope of ERROR_SCOPES) metrics.errors.inc({ scope, bridge }, 0);
  for (const outcome of ["ok", ...POLL_FAILURE_REASONS]) metrics.partnerPolls.inc({ bridge, outcome }, 0);
  for (const hook of HOOK_NAMES) {
    for (const outcome of HOOK_OUTCOMES) metrics.hookRuns.inc({ bridge, hook, outcome }, 0);
    for (const reason of HOOK_DROP_REASONS) metrics.hookRunsDropped.inc({ bridge, hook, reason }, 0);
  }

  for (const tunnel of tunnels) {
    const labels = { bridge, tunnel };
    metrics.tunnelActive.inc(labels, 0);
    metrics.tunnelUp.inc(labels, 0);
    metrics.probesSent.inc(labels, 0);
    metrics.probesReturned.inc(labels, 0);
    metrics.probesFailed.inc(labels, 0);
    metrics.probesLate.inc(labels, 0);
    metrics.latencyRoundTrip.zero(labels);
  }
}

type LabelSet = Record<string, string | number>;
interface RemovableMetric {
  get(): Promise<{ values: readonly { labels: LabelSet }[] }>;
  remove(labels: LabelSet): void;
}

/**
 * Drops every series labelled with this bridge (config reload removed or replaced it).
 * Async because prom-client only lists a metric's series through get(); never rejects,
 * so a caller that does not await it cannot leak a rejection.
 */
export async function removeBridge(metrics: Metrics, bridge: string): Promise<void> {
  initialisedBridges.get(metrics)?.delete(bridge);
  // Derived, not listed: every core series with a `bridge` label (a metric added later is
  // covered without anyone remembering this place). Feature series (src/metrics/features.ts)
  // belong to their components, which remove their own.
  const withBridgeLabel = Object.values(metrics).filter(
    (value): value is RemovableMetric =>
      typeof value === "object" && value !== null && ((value as { labelNames?: readonly string[] }).labelNames ?? []).includes("bridge"),
  );

  for (const metric of withBridgeLabel) {
    try {
      const { values } = await metric.get();
      const seen = new Set<string>();
      for (const { labels } of values) {
        if (labels.bridge !== bridge) continue;
        // Histogram samples carry the bucket's `le`, which is not a label of the metric itself.
        const { le: _le, ...own } = labels;
        const key = JSON.stringify(Object.entries(own).sort());
        if (seen.has(key)) continue;
        seen.add(key);
        metric.remove(own);
      }
    } catch (error) {
      log.warn(`removing series of bridge ${bridge} failed`, { error: errorMessage(error) });
    }
  }
}
