/**
 * What a job plugs into the daemon with (docs/behaviour.md §Signals and reload): each job turns
 * the config into components, each component is started, stopped and asked for its status, and
 * a reload restarts only the components whose settings changed. Types and the pure planner only;
 * the shell that carries a plan out is components.ts.
 */
import { isDeepStrictEqual } from "node:util";
import type { Config } from "../config/index.ts";
import type { ControlRegistry } from "../control/registry.ts";
import type { HookRunReport } from "../hooks/types.ts";
import type { Metrics } from "../metrics/registry.ts";

/** One running part of a job: a bridge, a check, a collector… */
export interface Component {
  /** Unique in the daemon: `<job>:<name>`, e.g. `bridge:vpnham-dev-lft`. */
  readonly key: string;
  /** What it was built from; a reload compares it (isDeepStrictEqual) with the new settings. */
  readonly settings: unknown;
  /** Binds, starts timers. Throws when it cannot run; the caller then calls stop(). */
  start(): Promise<void>;
  /** Releases everything start() took, and removes the component's metric series. Also after a failed start; never throws. */
  stop(): Promise<void>;
  status(): unknown;
}

/** A component not built yet: what a reload compares, and how to build it (only when it starts). */
export interface ComponentSpec {
  readonly key: string;
  readonly settings: unknown;
  /** Builds the component without side effects (no sockets, timers or metrics before start()). */
  create(): Component;
}

/** What every job gets from the daemon, once per daemon. */
export interface JobContext {
  readonly metrics: Metrics;
  /** Carry nothing out, log what would be done (config `dry_run` or `serve --dry-run`). */
  readonly dryRun: boolean;
  /** Every hook run, after it finished (the demo and tests watch these). */
  readonly onHookReport?: (bridge: string, report: HookRunReport) => void;
  /** Whether this daemon's bridge of that name is active now; undefined when none runs. */
  bridgeActive(bridge: string): boolean | undefined;
  /** Where a job adds its control-socket commands, once, when it is set up (absent in tests that need none). */
  readonly control?: ControlRegistry;
  /** A running component by key, e.g. `check:web` for its status; undefined when none runs. */
  component?(key: string): Component | undefined;
  /**
   * Whether the partner of this daemon's bridge of that name reports itself active in its
   * latest status (undefined when the latest poll failed or no such bridge runs). Optional.
   */
  partnerActive?(bridge: string): boolean | undefined;
}

/**
 * A kind of job. Called once when the daemon starts (per-daemon state lives in its closure);
 * the function it returns is called with the config at start and at every reload, and returns
 * the components that config wants, in the order they should start.
 */
export type Job = (context: JobContext) => (config: Config) => ComponentSpec[];

export interface ReloadPlan {
  /** Wanted, not running: in wanted order. */
  start: string[];
  /** Running, not wanted: in running order. */
  stop: string[];
  /** Running with other settings than wanted: stop, then start with the new ones. In wanted order. */
  restart: string[];
  /** Running with exactly the wanted settings: left alone. In wanted order. */
  keep: string[];
}

type Keyed = { readonly key: string; readonly settings: unknown };

function duplicateKey(items: readonly Keyed[]): string | undefined {
  const seen = new Set<string>();
  for (const { key } of items) {
    if (seen.has(key)) return key;
    seen.add(key);
  }
  return undefined;
}

/** Which components a reload starts, stops, restarts and keeps. Throws on a duplicate key (a job's bug). */
export function planReload(running: readonly Keyed[], wanted: readonly Keyed[]): ReloadPlan {
  for (const [list, items] of [["running", running], ["wanted", wanted]] as const) {
    const key = duplicateKey(items);
    if (key !== undefined) throw new Error(`two ${list} components have the key ${key}`);
  }
  const now = new Map(running.map((item) => [item.key, item.settings]));
  const wantedKeys = new Set(wanted.map((item) => item.key));
  const plan: ReloadPlan = { start: [], stop: running.filter((item) => !wantedKeys.has(item.key)).map((item) => item.key), restart: [], keep: [] };
  for (const { key, settings } of wanted) {
    if (!now.has(key)) plan.start.push(key);
    else if (isDeepStrictEqual(now.get(key), settings)) plan.keep.push(key);
    else plan.restart.push(key);
  }
  return plan;
}
