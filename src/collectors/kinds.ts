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
import { bgpCompatFamilies, ipsecCompatFamilies } from "./compat.ts";
import type { Collector, CollectorTiming, FamilyDef } from "./types.ts";

type Sections = Required<Omit<CollectorsConfig, "compatNames">>;
export type CollectorName = keyof Sections;

/** Settings of `collectors:` that apply to every collector. */
export interface CollectorOptions {
  /** Also export the blog's node_* names (docs/collectors.md §Drop-in for the cron script). */
  readonly compatNames: boolean;
}

export interface CollectorKind<K extends CollectorName = CollectorName> {
  readonly name: K;
  /** Every family it may export (compat ones included), for docs/metrics.md. */
  readonly families: readonly FamilyDef[];
  create(section: Sections[K], options: CollectorOptions): Collector;
}

export const collectorKinds: readonly CollectorKind[] = [
  { name: "strongswan", families: [...strongswanFamilies, ...ipsecCompatFamilies], create: (section, options) => createStrongswanCollector(section, options) } satisfies CollectorKind<"strongswan">,
  { name: "libreswan", families: [...libreswanFamilies, ...ipsecCompatFamilies], create: (section, options) => createLibreswanCollector(section, options) } satisfies CollectorKind<"libreswan">,
  { name: "frr", families: [...frrFamilies, ...bgpCompatFamilies], create: (section, options) => createFrrCollector(section, options) } satisfies CollectorKind<"frr">,
  { name: "bird", families: [...birdFamilies, ...bgpCompatFamilies], create: (section, options) => createBirdCollector(section, options) } satisfies CollectorKind<"bird">,
] as readonly CollectorKind[];

/** The configured collectors, in the order of collectorKinds, with their timing. */
export function configuredCollectors(config: Omit<CollectorsConfig, "compatNames"> | undefined, kinds: readonly CollectorKind[] = collectorKinds): { kind: CollectorKind; section: Sections[CollectorName] & CollectorTiming }[] {
  if (!config) return [];
  return kinds.flatMap((kind) => {
    const section = config[kind.name];
    return section === undefined ? [] : [{ kind, section }];
  });
}
