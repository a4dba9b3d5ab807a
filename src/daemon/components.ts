/**
 * The shell around planReload (component.ts): it holds the running components and carries a
 * plan out. A component whose new settings cannot start goes back to its previous settings;
 * components whose settings did not change are never touched, so they keep their state
 * (docs/behaviour.md §Signals and reload).
 */
import { errorMessage } from "../util/errors.ts";
import { logger } from "../util/log.ts";
import { planReload, type Component, type ComponentSpec } from "./component.ts";

/** Component keys, by what a reload did to them. */
export interface ApplyResult {
  started: string[];
  stopped: string[];
  restarted: string[];
  kept: string[];
  /** New settings that could not start; rolledBack: the previous settings run again. */
  failed: { key: string; error: string; rolledBack: boolean }[];
}

export interface ComponentSet {
  /** Starts every spec in order; when one cannot start, stops those started and throws its error. */
  start(specs: readonly ComponentSpec[]): Promise<void>;
  /** Moves from the running components to `specs`: stop, start, restart and keep per planReload. */
  apply(specs: readonly ComponentSpec[]): Promise<ApplyResult>;
  /** Stops every component (in parallel). */
  stop(): Promise<void>;
  /** The running components by key. */
  components(): ReadonlyMap<string, Component>;
  /** One running component (no copy of the map: jobs look others up often). */
  get(key: string): Component | undefined;
}

const log = logger.withTag("daemon");

export function createComponentSet(): ComponentSet {
  const running = new Map<string, { spec: ComponentSpec; component: Component }>();

  /** stop() must not throw (component.ts); if one does anyway, the rest of a reload still happens. */
  const stopQuietly = async (component: Component): Promise<void> => {
    try {
      await component.stop();
    } catch (error) {
      log.error(`${component.key}: stopping failed: ${errorMessage(error)}`);
    }
  };
  const stopKey = async (key: string): Promise<void> => {
    const entry = running.get(key);
    if (!entry) return;
    running.delete(key);
    await stopQuietly(entry.component);
  };
  const startSpec = async (spec: ComponentSpec): Promise<void> => {
    let component: Component | undefined;
    try {
      component = spec.create();
      await component.start();
    } catch (error) {
      // Whatever it bound before failing is released, and its series removed.
      if (component) await stopQuietly(component);
      throw error;
    }
    running.set(spec.key, { spec, component });
  };

  return {
    async start(specs) {
      try {
        for (const spec of specs) await startSpec(spec);
      } catch (error) {
        await Promise.all([...running.keys()].map(stopKey));
        throw error;
      }
    },
    async apply(specs) {
      const result: ApplyResult = { started: [], stopped: [], restarted: [], kept: [], failed: [] };
      const plan = planReload(
        [...running.values()].map(({ component }) => ({ key: component.key, settings: component.settings })),
        specs,
      );
      for (const key of plan.stop) {
        await stopKey(key);
        result.stopped.push(key);
      }
      const keep = new Set(plan.keep);
      for (const spec of specs) {
        if (keep.has(spec.key)) {
          result.kept.push(spec.key);
          continue;
        }
        const previous = running.get(spec.key)?.spec;
        if (previous) await stopKey(spec.key);
        try {
          await startSpec(spec);
          (previous ? result.restarted : result.started).push(spec.key);
        } catch (error) {
          // E.g. its new listen address is taken: go back to what ran before, and say so.
          let rolledBack = false;
          if (previous) {
            try {
              await startSpec(previous);
              rolledBack = true;
            } catch (again) {
              log.error(`${spec.key}: could not restart its previous configuration either: ${errorMessage(again)}`);
            }
          }
          result.failed.push({ key: spec.key, error: errorMessage(error), rolledBack });
        }
      }
      return result;
    },
    async stop() {
      await Promise.all([...running.keys()].map(stopKey));
    },
    components: () => new Map([...running].map(([key, { component }]) => [key, component])),
    get: (key) => running.get(key)?.component,
  };
}
