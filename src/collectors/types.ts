/**
 * The collectors' one interface (docs/collectors.md §Engine), node_exporter's shape: a collector
 * declares the families it exports up front (so series and the generated docs/metrics.md stay
 * stable) and returns their samples from `collect`, which the engine runs on its own timer with a
 * time limit. A scrape never runs a collector; it reads the last result.
 */

/** Prometheus type of a collected family (gauges and counters are all collectors need). */
export type FamilyType = "gauge" | "counter";

export interface FamilyDef {
  /** Full metric name, base units, `_total` for counters (docs/collectors.md §Metrics). */
  readonly name: string;
  readonly help: string;
  readonly type: FamilyType;
  /** Label names every sample of the family carries, in this order. */
  readonly labelNames: readonly string[];
}

export interface Sample {
  /** A family the collector declared. */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Collector {
  /** The name under `collectors:` in the config and in `vpnham_collector_success{collector}`. */
  readonly name: string;
  readonly families: readonly FamilyDef[];
  /**
   * Reads the daemon once. Must honour `signal` (the engine aborts it at the collector's
   * timeout and stops waiting either way); rejects when the daemon cannot be read.
   */
  collect(signal: AbortSignal): Promise<readonly Sample[]>;
  /**
   * Optional long-lived part (an event subscription): call `refresh` when the daemon's state
   * changed so the engine collects now instead of at the next interval.
   */
  start?(refresh: () => void): void;
  /** Releases what `start` or `collect` opened. Never rejects. */
  stop?(): Promise<void>;
}

/** How the engine runs one collector (from its config section). */
export interface CollectorTiming {
  readonly intervalMs: number;
  readonly timeoutMs: number;
}
