import { Counter, Gauge, Histogram, type Registry } from "../metrics/prom.ts";
import { perRegistry, removeSeries } from "../metrics/series.ts";
import type { RunOutcome } from "./engine.ts";

/** A run's outcomes, the `outcome` label of vpnham_reconcile_runs_total. */
const RUN_OUTCOMES: readonly RunOutcome[] = ["applied", "in_sync", "dry_run", "failed", "superseded"];

/**
 * The reconcile engine's series (docs/reconcile.md), one set per registry: every job that
 * reconciles calls this, and all get the same objects (a second registration would throw).
 */
export const createReconcileMetrics: (registry: Registry) => ReconcileMetrics = perRegistry(registerReconcileMetrics);

/** Drops the engine's series of one target (its component stopped). */
export function removeReconcileSeries(metrics: ReconcileMetrics, kind: string, target: string): void {
  removeSeries(metrics.runs, { kind, target }, { outcome: RUN_OUTCOMES });
  for (const metric of [metrics.duration, metrics.lastSuccess, metrics.drift]) removeSeries(metric, { kind, target });
}

function registerReconcileMetrics(registry: Registry) {
  const registers = [registry];
  return {
    runs: new Counter({
      name: "vpnham_reconcile_runs_total",
      help: "Reconcile runs by kind, target and outcome (applied, in_sync, dry_run, failed, superseded).",
      labelNames: ["kind", "target", "outcome"],
      registers,
    }),
    duration: new Histogram({
      name: "vpnham_reconcile_duration_seconds",
      help: "Duration of a reconcile run (read, plan, apply, read back, retries included), in seconds.",
      labelNames: ["kind", "target"],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    }),
    lastSuccess: new Gauge({
      name: "vpnham_reconcile_last_success_timestamp_seconds",
      help: "Unix time of the last run that ended with the target as desired (applied or in_sync).",
      labelNames: ["kind", "target"],
      registers,
    }),
    drift: new Counter({
      name: "vpnham_reconcile_drift_total",
      help: "Periodic re-runs that found the target changed behind our back (and repaired it unless dry-run).",
      labelNames: ["kind", "target"],
      registers,
    }),
  };
}

export type ReconcileMetrics = ReturnType<typeof registerReconcileMetrics>;

