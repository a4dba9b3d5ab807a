/**
 * The cloud route job's own series (docs/cloud-routes.md §Metrics), beside the reconcile
 * engine's `vpnham_reconcile_*{kind="aws_route",target="<bridge>/<table>"}`. Get-or-create per
 * registry, so a restarted component reuses them.
 */
import { Counter, Gauge } from "prom-client";
import { perRegistry, removeSeries } from "../metrics/series.ts";
import { removeReconcileSeries, type ReconcileMetrics } from "../reconcile/metrics.ts";

export interface CloudMetrics {
  /** vpnham_cloud_route_tables_held{bridge,cloud}: tables whose last read had every destination at this host. */
  readonly tablesHeld: Gauge<"bridge" | "cloud">;
  /** vpnham_cloud_route_conflicts_total{bridge,cloud}: routes found taken back by the partner (split brain). */
  readonly conflicts: Counter<"bridge" | "cloud">;
  /** vpnham_cloud_adopt_ignored_total{bridge,cloud,reason}: adopt_partner_routes reads refused, stored entries dropped. */
  readonly adoptIgnored: Counter<"bridge" | "cloud" | "reason">;
}

/** The `reason`s of vpnham_cloud_adopt_ignored_total (src/cloud/adopt-state.ts `AdoptIgnored`). */
export const adoptIgnoredReasons = ["ambiguous_partner", "invalid_entry"] as const;

export const cloudMetrics = perRegistry((registry): CloudMetrics => {
  const registers = [registry];
  return {
    tablesHeld: new Gauge({
      name: "vpnham_cloud_route_tables_held",
      help: "Route tables whose last read found every destination of the bridge targeting this host (0 while the bridge is not active).",
      labelNames: ["bridge", "cloud"],
      registers,
    }),
    conflicts: new Counter({
      name: "vpnham_cloud_route_conflicts_total",
      help: "Times the configured-standby found routes it held taken back by the target it had replaced (split brain), and held back.",
      labelNames: ["bridge", "cloud"],
      registers,
    }),
    adoptIgnored: new Counter({
      name: "vpnham_cloud_adopt_ignored_total",
      help: "adopt_partner_routes: standby reads not learned from because our destinations went to more than one candidate partner (reason=ambiguous_partner), and stored destinations dropped as no CIDR (reason=invalid_entry).",
      labelNames: ["bridge", "cloud", "reason"],
      registers,
    }),
  };
});

/** Drops the series of one component: its own and the engine's for its targets. */
export function removeCloudSeries(metrics: CloudMetrics, reconcile: ReconcileMetrics, labels: { bridge: string; cloud: string }, kind: string, targets: readonly string[]): void {
  removeSeries(metrics.tablesHeld, labels);
  removeSeries(metrics.conflicts, labels);
  removeSeries(metrics.adoptIgnored, labels, { reason: adoptIgnoredReasons });
  for (const target of targets) removeReconcileSeries(reconcile, kind, target);
}
