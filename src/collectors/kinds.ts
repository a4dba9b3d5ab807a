/**
 * Every collector vpnham has, registered by name (docs/collectors.md §Engine): the name is the
 * key under `collectors:` and the `collector` label. Adding one = a schema field in schema.ts and
 * an entry here.
 */
import type { CollectorsConfig } from "./schema.ts";
import { createBirdCollector } from "./bird/collector.ts";
import { birdFamilies } from "./bird/samples.ts";
import { createFrrCollector } from "./frr/collector.ts";
import { frrFamilies } from "./frr/samples.ts";
import { createLibreswanCollector } from "./libreswan/collector.ts";
import { libreswanFamilies } from "./libreswan/samples.ts";
import { createStrongswanCollector } from "./strongswan/collector.ts";
import { strongswanFamilies } from "./strongswan/samples.ts";
import type { Collector, CollectorTiming, FamilyDef } from "./types.ts";

type Sections = Required<CollectorsConfig>;
export type CollectorName = keyof Sections;

export interface CollectorKind<K extends CollectorName = CollectorName> {
  readonly name: K;
  readonly families: readonly FamilyDef[];
  create(section: Sections[K]): Collector;
}

export const collectorKinds: readonly CollectorKind[] = [
  { name: "strongswan", families: strongswanFamilies, create: (section) => createStrongswanCollector(section) } satisfies CollectorKind<"strongswan">,
  { name: "libreswan", families: libreswanFamilies, create: (section) => createLibreswanCollector(section) } satisfies CollectorKind<"libreswan">,
  { name: "frr", families: frrFamilies, create: (section) => createFrrCollector(section) } satisfies CollectorKind<"frr">,
  { name: "bird", families: birdFamilies, create: (section) => createBirdCollector(section) } satisfies CollectorKind<"bird">,
] as readonly CollectorKind[];

/** The configured collectors, in the order of collectorKinds, with their timing. */
export function configuredCollectors(config: CollectorsConfig | undefined, kinds: readonly CollectorKind[] = collectorKinds): { kind: CollectorKind; section: Sections[CollectorName] & CollectorTiming }[] {
  if (!config) return [];
  return kinds.flatMap((kind) => {
    const section = config[kind.name];
    return section === undefined ? [] : [{ kind, section }];
  });
}
