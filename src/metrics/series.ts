/**
 * Two pieces every feature's series share (docs/metrics.md): metric objects made once per
 * registry, and the series of a removed thing dropped for every value a label can take.
 */
import type { LabelValues, Registry } from "prom-client";

/**
 * Get-or-create per registry: every component on one registry (a restarted one after a reload,
 * or several jobs) gets the same metric objects — a second registration of a name would throw.
 */
export function perRegistry<T>(create: (registry: Registry) => T): (registry: Registry) => T {
  const byRegistry = new WeakMap<Registry, T>();
  return (registry) => {
    let metrics = byRegistry.get(registry);
    if (metrics === undefined) byRegistry.set(registry, (metrics = create(registry)));
    return metrics;
  };
}

/**
 * Drops the series with `labels`, once for every combination of the values in `each` (e.g. every
 * outcome a counter has); a series that does not exist is no error.
 */
export function removeSeries<L extends string>(
  metric: { remove(labels: LabelValues<L>): void },
  labels: LabelValues<L>,
  each: { readonly [K in L]?: readonly (string | number)[] } = {},
): void {
  let sets: LabelValues<L>[] = [labels];
  for (const [name, values] of Object.entries(each) as [L, readonly (string | number)[]][]) {
    sets = sets.flatMap((set) => values.map((value) => ({ ...set, [name]: value })));
  }
  for (const set of sets) metric.remove(set);
}
