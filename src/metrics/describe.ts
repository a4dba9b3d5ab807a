/**
 * The metrics reference as Markdown, generated from a registry's own names, types, label names
 * and HELP texts, so docs/metrics.md cannot drift from what /metrics serves.
 */
import type { Registry } from "./prom.ts";

/** What prom-client keeps on every metric object but does not declare in MetricObject. */
interface MetricShape {
  readonly name: string;
  readonly help: string;
  readonly type: string;
  readonly labelNames?: readonly string[];
  readonly upperBounds?: readonly number[];
}

function metricsOf(registry: Registry): MetricShape[] {
  return (registry.getMetricsAsArray() as unknown as MetricShape[]).slice().sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

const cell = (text: string) => text.replaceAll("|", "\\|").replaceAll("\n", " ");

/** One row per metric family: name, type, label names, HELP text. */
export function describeMetrics(registry: Registry): string {
  const lines = [
    "| Name | Type | Labels | Description |",
    "|---|---|---|---|",
    ...metricsOf(registry).map((m) => {
      const labels = (m.labelNames ?? []).map((l) => `\`${l}\``).join(", ") || "—";
      return `| \`${m.name}\` | ${m.type} | ${labels} | ${cell(m.help)} |`;
    }),
  ];
  return lines.join("\n") + "\n";
}

/** The bucket upper bounds of every histogram, long lists shortened in the middle. */
export function describeHistogramBuckets(registry: Registry): string {
  const lines = metricsOf(registry)
    .filter((m) => m.type === "histogram")
    .map((m) => {
      const bounds = [...(m.upperBounds ?? [])];
      const shown = bounds.length > 12 ? [...bounds.slice(0, 8), "…", ...bounds.slice(-3)] : bounds;
      return `- \`${m.name}\`: ${bounds.length} bounds, ${shown.join(", ")} (+Inf)`;
    });
  return lines.join("\n") + "\n";
}
