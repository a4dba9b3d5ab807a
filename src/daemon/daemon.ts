import { isDeepStrictEqual } from "node:util";
import { BRIDGE_KEY_PREFIX, bridgeRuntimeOf, bridgeRuntimes } from "../bridge/key.ts";
import type { BridgeRuntime } from "../bridge/bridge.ts";
import type { Config } from "../config/index.ts";
import type { HookRunReport } from "../hooks/types.ts";
import { startEventLoopLagMonitor } from "../metrics/event-loop.ts";
import { createMetrics, type Metrics } from "../metrics/registry.ts";
import { startMetricsServer } from "../metrics/server.ts";
import { listenError } from "../util/errors.ts";
import { logger } from "../util/log.ts";
import { VERSION } from "../version.ts";
import type { Component } from "./component.ts";
import { createComponentSet } from "./components.ts";
import { createControlRegistry, type ControlHandler } from "../control/registry.ts";
import { componentSpecsFor, reportedName } from "./jobs.ts";

/**
 * One process, one metrics endpoint, and the components of every job (jobs.ts): bridges, …
 * With no component it is a plain exporter (docs/config.md §Sections). Reload replaces only
 * components whose settings changed, so the others keep their state (for a bridge: probe
 * history, verdicts and roles).
 */
export interface ReloadResult {
  /** Components by name: a bridge by its name, any other component by its key (jobs.ts reportedName). */
  started: string[];
  stopped: string[];
  restarted: string[];
  kept: string[];
  /**
   * Components whose new settings could not be started; rolledBack: the previous ones run again.
   * `bridge` is the component's name as above, `key` its key.
   */
  failed: { bridge: string; key: string; error: string; rolledBack: boolean }[];
}

export interface Daemon {
  readonly metrics: Metrics;
  readonly metricsPort: number;
  /** The running bridges' runtimes by bridge name. */
  bridges(): ReadonlyMap<string, BridgeRuntime>;
  /** Every running component by key. */
  components(): ReadonlyMap<string, Component>;
  /** Every running component's status, by key. */
  status(): Record<string, unknown>;
  /** The control commands the jobs registered (besides status and reload), by command. */
  controlHandlers(): ReadonlyMap<string, ControlHandler>;
  /** Applies a new config component by component; one that fails to start keeps (or goes back to) its previous settings. */
  reload(config: Config): Promise<ReloadResult>;
  stop(): Promise<void>;
}

const log = logger.withTag("daemon");

export interface DaemonOptions {
  /** Overrides the config's `dry_run`. */
  dryRun?: boolean;
  /** Every hook run, after it finished (the demo and tests watch these). */
  onHookReport?: (bridge: string, report: HookRunReport) => void;
}

export async function startDaemon(config: Config, options: DaemonOptions = {}): Promise<Daemon> {
  const metrics = createMetrics({
    latencyBucketsCount: config.metrics.latencyBucketsCount,
    maxLatencyUs: config.metrics.maxLatencyUs,
    version: VERSION,
  });
  const dryRun = options.dryRun ?? config.dryRun;
  const components = createComponentSet();
  const control = createControlRegistry();
  const specsOf = componentSpecsFor({
    control,
    component: (key) => components.get(key),
    metrics,
    dryRun,
    ...(options.onHookReport ? { onHookReport: options.onHookReport } : {}),
    bridgeActive: (name) => bridgeRuntimeOf(components.get(`${BRIDGE_KEY_PREFIX}${name}`))?.state.bridgeActive,
    partnerActive: (name) => bridgeRuntimeOf(components.get(`${BRIDGE_KEY_PREFIX}${name}`))?.partnerReportsActive(),
  });
  let current = config;

  const metricsServer = await startMetricsServer({ addr: config.metrics.listenAddr, metrics }).catch((error: unknown) => {
    throw listenError("metrics.listen_addr", config.metrics.listenAddr.text, error);
  });
  const stopLagMonitor = startEventLoopLagMonitor(metrics, 500);
  try {
    await components.start(await specsOf(config));
  } catch (error) {
    stopLagMonitor();
    await metricsServer.close();
    throw error;
  }
  log.info(`vpnham ${VERSION} running`, {
    components: [...components.components().keys()],
    metrics: `http://${config.metrics.listenAddr.text}/metrics`,
    dry_run: dryRun,
  });

  return {
    metrics,
    metricsPort: metricsServer.port,
    bridges: () => bridgeRuntimes(components.components().values()),
    components: () => components.components(),
    status: () => Object.fromEntries([...components.components()].map(([key, component]) => [key, component.status()])),
    controlHandlers: () => control.handlers(),
    async reload(next) {
      if (!isDeepStrictEqual(next.metrics, current.metrics)) {
        log.warn("metrics settings changed: they take effect at the next restart");
      }
      if (options.dryRun === undefined && next.dryRun !== current.dryRun) {
        log.warn("dry_run changed: it takes effect at the next restart");
      }
      const applied = await components.apply(await specsOf(next));
      const result: ReloadResult = {
        started: applied.started.map(reportedName),
        stopped: applied.stopped.map(reportedName),
        restarted: applied.restarted.map(reportedName),
        kept: applied.kept.map(reportedName),
        failed: applied.failed.map((f) => ({ bridge: reportedName(f.key), key: f.key, error: f.error, rolledBack: f.rolledBack })),
      };
      current = { ...next, metrics: current.metrics, dryRun: current.dryRun };
      if (result.failed.length) log.error("configuration reloaded with failures", result);
      else log.info("configuration reloaded", result);
      return result;
    },
    async stop() {
      await components.stop();
      stopLagMonitor();
      await metricsServer.close();
    },
  };
}
