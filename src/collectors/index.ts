/**
 * The collectors engine's shell (docs/collectors.md §Engine): starts every configured collector
 * on its own timer, exposes the cached results and the per-collector success/duration series on
 * the daemon's registry, and optionally mirrors them into a textfile for node_exporter.
 *
 * Wiring (the daemon): `const collectors = startCollectors(config, metrics.registry)` after the
 * metrics registry exists; `await collectors.stop()` on shutdown and before a restart on reload
 * (stop unregisters every series it registered, so a new start can register them again).
 */
import { Gauge, Registry } from "../metrics/prom.ts";
import { errorMessage } from "../util/errors.ts";
import { logger } from "../util/log.ts";
import { registerFamilies, unregisterFamilies } from "./families.ts";
import { collectorKinds, configuredCollectors, type CollectorKind } from "./kinds.ts";
import { CollectorRunner, type CollectorStatus } from "./runner.ts";
import type { CollectorsConfig } from "./schema.ts";
import { tieFamilies, type CollectorStates } from "./tie-state.ts";
import { createTextfileWriter } from "./textfile.ts";
import type { FamilyDef, Sample } from "./types.ts";

export type { CollectorStatus } from "./runner.ts";
export type { Collector, FamilyDef, Sample } from "./types.ts";
export { collectorKinds } from "./kinds.ts";

const log = logger.withTag("collectors");

export interface CollectorsRuntimeConfig {
  /** `collectors:` as loaded (compatNames may be left out: false). */
  readonly collectors?: (Omit<CollectorsConfig, "compatNames"> & { readonly compatNames?: boolean }) | undefined;
  readonly metrics?: { readonly textfilePath?: string | undefined };
}

export interface CollectorsRuntime {
  /** Stops timers, closes daemon connections, unregisters the series. Never rejects. */
  stop(): Promise<void>;
  /** One entry per configured collector, in config order. */
  status(): CollectorStatus[];
  /** Runs every collector now and waits for them (tests, `ctl`); then the textfile is written. */
  runNow(): Promise<CollectorStatus[]>;
}

export interface StartCollectorsOptions {
  /** Collector kinds to choose from (tests inject fakes); default: all of vpnham's. */
  kinds?: readonly CollectorKind[];
  minRefreshGapMs?: number;
  /** Where the strongSwan, FRR and BIRD collectors' states go, for tunnels tied to them (docs/collectors.md §IPsec-aware failover, §BGP-aware failover). */
  collectorStates?: CollectorStates;
}

const engineFamilies = {
  success: { name: "vpnham_collector_success", help: "1 when the collector's last run read its daemon, else 0 (its series are then absent until a run succeeds).", labelNames: ["collector"] },
  duration: { name: "vpnham_collector_duration_seconds", help: "Wall-clock duration of the collector's last run, in seconds (a scrape never waits for it).", labelNames: ["collector"] },
  lastSuccess: { name: "vpnham_collector_last_success_timestamp_seconds", help: "Unix time in seconds of the collector's last successful run (0 = none yet).", labelNames: ["collector"] },
} as const;

/** The engine's own series, filled from `statuses()` at every scrape. Returns the names registered. */
function registerEngineMetrics(registries: readonly Registry[], statuses: () => readonly CollectorStatus[]): string[] {
  const registers = [...registries];
  new Gauge({
    ...engineFamilies.success,
    labelNames: [...engineFamilies.success.labelNames],
    registers,
    collect(this: Gauge) {
      this.reset();
      for (const s of statuses()) this.set({ collector: s.name }, s.success ? 1 : 0);
    },
  });
  new Gauge({
    ...engineFamilies.duration,
    labelNames: [...engineFamilies.duration.labelNames],
    registers,
    collect(this: Gauge) {
      this.reset();
      for (const s of statuses()) if (s.lastDurationMs !== undefined) this.set({ collector: s.name }, s.lastDurationMs / 1000);
    },
  });
  new Gauge({
    ...engineFamilies.lastSuccess,
    labelNames: [...engineFamilies.lastSuccess.labelNames],
    registers,
    collect(this: Gauge) {
      this.reset();
      for (const s of statuses()) this.set({ collector: s.name }, (s.lastSuccessUnixMs ?? 0) / 1000);
    },
  });
  return Object.values(engineFamilies).map((f) => f.name);
}

/** Every collector series with no data behind it: for the generated docs/metrics.md (metrics/features.ts). */
export function createCollectorMetrics(registry: Registry): void {
  registerEngineMetrics([registry], () => []);
  const all: FamilyDef[] = collectorKinds.flatMap((kind) => [...kind.families]);
  registerFamilies([registry], all, () => undefined);
}

/** Starts the configured collectors; with none configured it registers nothing and does nothing. */
export function startCollectors(config: CollectorsRuntimeConfig, registry: Registry, options: StartCollectorsOptions = {}): CollectorsRuntime {
  const chosen = configuredCollectors(config.collectors, options.kinds ?? collectorKinds);
  if (chosen.length === 0) return { stop: async () => {}, status: () => [], runNow: async () => [] };

  // The collectors' own registry: the textfile gets exactly these series, nothing of the daemon's
  // (node_exporter would reject a second process_* family).
  const own = new Registry();
  const registries = [registry, own];
  const textfilePath = config.metrics?.textfilePath;
  const textfile = textfilePath ? createTextfileWriter(textfilePath, () => own.metrics(), (message) => log.warn(message)) : undefined;

  const runners = chosen.map(({ kind, section }) => {
    let previous: boolean | undefined;
    const runner: CollectorRunner = new CollectorRunner(kind.create(section, { compatNames: config.collectors?.compatNames === true }), section, {
      ...(options.minRefreshGapMs === undefined ? {} : { minRefreshGapMs: options.minRefreshGapMs }),
      onRun: (status) => {
        if (status.success !== previous) {
          if (status.success) log.info(`collector ${status.name} reads its daemon`, { durationMs: Math.round(status.lastDurationMs ?? 0) });
          else log.warn(`collector ${status.name} failed: ${status.lastError}`);
        }
        previous = status.success;
        const tieFamily = tieFamilies[kind.name];
        if (tieFamily) options.collectorStates?.publish(kind.name, status.success ? runner.samples(tieFamily) : undefined);
        textfile?.request();
      },
      onProblems: (name, problems) => log.warn(`collector ${name}: ${problems.length} sample(s) dropped: ${problems[0]}`),
    });
    return runner;
  });
  // Several collectors may export one family (FRR and BIRD: vpnham_bgp_peer_*): a scrape joins their samples.
  const byFamily = new Map<string, CollectorRunner[]>();
  for (const runner of runners) for (const def of runner.collector.families) byFamily.set(def.name, [...(byFamily.get(def.name) ?? []), runner]);
  const read = (family: string): readonly Sample[] | undefined => byFamily.get(family)?.flatMap((runner) => [...(runner.samples(family) ?? [])]);

  const names: string[] = [];
  try {
    names.push(...registerEngineMetrics(registries, () => runners.map((r) => r.status())));
    names.push(...registerFamilies(registries, runners.flatMap((r) => [...r.collector.families]), read));
  } catch (error) {
    unregisterFamilies([registry], names);
    throw new Error(`collectors: cannot register their series: ${errorMessage(error)}`);
  }
  for (const runner of runners) runner.start();

  return {
    async stop() {
      await Promise.all(runners.map((r) => r.stop()));
      for (const { kind } of chosen) options.collectorStates?.publish(kind.name, undefined);
      await textfile?.flush();
      unregisterFamilies(registries, names);
    },
    status: () => runners.map((r) => r.status()),
    async runNow() {
      const statuses = await Promise.all(runners.map((r) => r.runNow()));
      await textfile?.flush();
      return statuses;
    },
  };
}
