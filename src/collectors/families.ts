/**
 * Collected families on a prom-client registry (docs/collectors.md §Engine): one Gauge or Counter
 * per declared family, filled from the engine's cache by prom-client's `collect()` hook at scrape
 * time. The family set is fixed when the collectors start, so series names never come and go with
 * a daemon's answers; only label sets do.
 */
import { Counter, Gauge, type Registry } from "../metrics/prom.ts";
import type { FamilyDef, Sample } from "./types.ts";

export type SamplesByFamily = ReadonlyMap<string, readonly Sample[]>;

/** The samples of declared families, grouped; anything else is named in `problems` and dropped. */
export function groupSamples(defs: readonly FamilyDef[], samples: readonly Sample[]): { byFamily: SamplesByFamily; problems: string[] } {
  const byName = new Map(defs.map((def) => [def.name, def]));
  const byFamily = new Map<string, Sample[]>();
  const problems: string[] = [];
  for (const sample of samples) {
    const def = byName.get(sample.name);
    if (!def) {
      problems.push(`undeclared family ${sample.name}`);
      continue;
    }
    const keys = Object.keys(sample.labels);
    if (keys.length !== def.labelNames.length || !def.labelNames.every((l) => typeof sample.labels[l] === "string")) {
      problems.push(`${sample.name}: labels {${keys.join(",")}} are not {${def.labelNames.join(",")}}`);
      continue;
    }
    if (!Number.isFinite(sample.value) || (def.type === "counter" && sample.value < 0)) {
      problems.push(`${sample.name}: bad value ${sample.value}`);
      continue;
    }
    const list = byFamily.get(sample.name) ?? [];
    list.push(sample);
    byFamily.set(sample.name, list);
  }
  return { byFamily, problems };
}

/**
 * The families of several collectors, each name once (docs/collectors.md §Engine): collectors of
 * the same kind of daemon share names (FRR and BIRD both export vpnham_bgp_peer_*). The same
 * name must mean the same family — type and labels — else it is a bug, thrown at start.
 */
export function uniqueFamilies(defs: readonly FamilyDef[]): FamilyDef[] {
  const byName = new Map<string, FamilyDef>();
  for (const def of defs) {
    const known = byName.get(def.name);
    if (!known) byName.set(def.name, def);
    else if (known.type !== def.type || known.labelNames.join(",") !== def.labelNames.join(",")) {
      throw new Error(`family ${def.name} is declared twice with different types or labels`);
    }
  }
  return [...byName.values()];
}

/**
 * Registers each family on `registries`; at every scrape its series are replaced by what
 * `read(name)` returns now (undefined = none). Returns the names, for `unregisterFamilies`.
 */
export function registerFamilies(
  registries: readonly Registry[],
  defs: readonly FamilyDef[],
  read: (name: string) => readonly Sample[] | undefined,
): string[] {
  const unique = uniqueFamilies(defs);
  for (const def of unique) {
    const common = { name: def.name, help: def.help, labelNames: [...def.labelNames], registers: [...registries] };
    if (def.type === "gauge") {
      new Gauge({
        ...common,
        collect(this: Gauge) {
          this.reset();
          for (const s of read(def.name) ?? []) this.set(s.labels, s.value);
        },
      });
    } else {
      new Counter({
        ...common,
        collect(this: Counter) {
          this.reset();
          for (const s of read(def.name) ?? []) this.inc(s.labels, s.value);
        },
      });
    }
  }
  return unique.map((def) => def.name);
}

export function unregisterFamilies(registries: readonly Registry[], names: readonly string[]): void {
  for (const registry of registries) for (const name of names) registry.removeSingleMetric(name);
}
