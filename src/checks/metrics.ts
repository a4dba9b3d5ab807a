/**
 * The check engine's series (docs/checks.md §Metrics), registered on the daemon's own registry
 * (src/metrics/registry.ts) — per feature, so nothing else lists them. Get-or-create per
 * registry: a restarted check engine (reload) reuses the same metric objects.
 */
import { Counter, Gauge, Histogram, type Registry } from "../metrics/prom.ts";
import { perRegistry, removeSeries } from "../metrics/series.ts";
import { FAILURE_REASONS } from "./verdict.ts";

export interface CheckMetrics {
  /** vpnham_check_up{check}: 1 up, 0 down or not decided yet. */
  readonly up: Gauge<"check">;
  /** vpnham_check_duration_seconds{check}: observe seconds, every probe. */
  readonly duration: Histogram<"check">;
  /** vpnham_check_failures_total{check,reason}: bad samples by reason. */
  readonly failures: Counter<"check" | "reason">;
}

/** Probe durations: from a loopback connect (~0.1 ms) to a slow exec (30 s). */
export const checkDurationBucketsSeconds = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export const checkMetrics = perRegistry((registry): CheckMetrics => {
  const registers = [registry];
  return {
    up: new Gauge({
      name: "vpnham_check_up",
      help: "1 when the check is up (threshold_up good probes in a row), 0 when down or not decided yet.",
      labelNames: ["check"],
      registers,
    }),
    duration: new Histogram({
      name: "vpnham_check_duration_seconds",
      help: "Duration of each check probe in seconds, good or bad (a probe that times out counts as its timeout).",
      labelNames: ["check"],
      buckets: checkDurationBucketsSeconds,
      registers,
    }),
    failures: new Counter({
      name: "vpnham_check_failures_total",
      help: `Check probes that were bad samples, by reason (${FAILURE_REASONS.join(", ")}).`,
      labelNames: ["check", "reason"],
      registers,
    }),
  };
});

/** Series of one check at start: up = 0 until decided. */
export function initCheckSeries(metrics: CheckMetrics, check: string): void {
  metrics.up.set({ check }, 0);
}

/** Drops every series of one check (it was removed from the config or the engine stopped). */
export function removeCheckSeries(metrics: CheckMetrics, check: string): void {
  removeSeries(metrics.up, { check });
  removeSeries(metrics.duration, { check });
  removeSeries(metrics.failures, { check }, { reason: FAILURE_REASONS });
}
