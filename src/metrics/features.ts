import type { Registry } from "./prom.ts";
import { checkMetrics } from "../checks/metrics.ts";
import { cloudMetrics } from "../cloud/metrics.ts";
import { createControlMetrics } from "../control/metrics.ts";
import { createReconcileMetrics } from "../reconcile/metrics.ts";
import { createCollectorMetrics } from "../collectors/index.ts";
import { dnsMetrics } from "../dns/metrics.ts";
import { announceMetrics } from "../announce/metrics.ts";

/**
 * Series that features register on the daemon's registry next to the core's
 * (createMetrics). Listed here so the generated docs/metrics.md shows them all.
 */
export const featureMetrics: readonly ((registry: Registry) => unknown)[] = [
  createControlMetrics,
  createReconcileMetrics,
  checkMetrics,
  createCollectorMetrics,
  dnsMetrics,
  announceMetrics,
  cloudMetrics,
];
