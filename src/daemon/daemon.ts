import { isDeepStrictEqual } from "node:util";
import { BridgeRuntime } from "../bridge/bridge.ts";
import type { BridgeConfig, Config } from "../config/index.ts";
import type { HookRunReport } from "../hooks/types.ts";
import { createMetrics, initBridge, removeBridge, startEventLoopLagMonitor, type Metrics } from "../metrics/registry.ts";
import { startMetricsServer } from "../metrics/server.ts";
import { OwnProbeIds } from "../probe/own-ids.ts";
import { errorMessage, listenError } from "../util/errors.ts";
import { logger } from "../util/log.ts";
import { VERSION } from "../version.ts";

/**
 * One process, several bridges, one metrics endpoint. Reload replaces only
 * bridges whose settings changed, so the others keep their probe history,
 * verdicts and roles.
 */
export interface ReloadResult {
  started: string[];
  stopped: string[];
  restarted: string[];
  kept: string[];
  /** Bridges whose new settings could not be started; rolledBack: the previous ones run again. */
  failed: { bridge: string; error: string; rolledBack: boolean }[];
}

export interface Daemon {
  readonly metrics: Metrics;
  readonly metricsPort: number;
  bridges(): ReadonlyMap<string, BridgeRuntime>;
  /** Applies a new config bridge by bridge; a bridge that fails to start keeps (or goes back to) its previous settings. */
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
  const running = new Map<string, { config: BridgeConfig; runtime: BridgeRuntime }>();
  let current = config;
  // One set for the whole host: a request of one bridge bounced off another bridge's socket
  // is refused too (docs/hardening.md "Reflected probes").
  const ownProbeIds = new OwnProbeIds();

  const startBridge = async (bridge: BridgeConfig): Promise<void> => {
    initBridge(metrics, bridge.name, bridge.tunnels.map((t) => t.name));
    const runtime = new BridgeRuntime({ config: bridge, metrics, dryRun, ownProbeIds, onHookReport: options.onHookReport });
    await runtime.start();
    running.set(bridge.name, { config: bridge, runtime });
  };
  const stopBridge = async (name: string): Promise<void> => {
    const entry = running.get(name);
    if (!entry) return;
    running.delete(name);
    await entry.runtime.stop();
    await removeBridge(metrics, name);
  };

  const metricsServer = await startMetricsServer({ addr: config.metrics.listenAddr, metrics }).catch((error: unknown) => {
    throw listenError("metrics.listen_addr", config.metrics.listenAddr.text, error);
  });
  const stopLagMonitor = startEventLoopLagMonitor(metrics, 500);
  try {
    for (const bridge of config.bridges) await startBridge(bridge);
  } catch (error) {
    await Promise.all([...running.keys()].map(stopBridge));
    stopLagMonitor();
    await metricsServer.close();
    throw error;
  }
  log.info(`vpnham ${VERSION} running`, {
    bridges: config.bridges.map((b) => b.name),
    metrics: `http://${config.metrics.listenAddr.text}/metrics`,
    dry_run: dryRun,
  });

  return {
    metrics,
    metricsPort: metricsServer.port,
    bridges: () => new Map([...running].map(([name, e]) => [name, e.runtime])),
    async reload(next) {
      const result: ReloadResult = { started: [], stopped: [], restarted: [], kept: [], failed: [] };
      if (!isDeepStrictEqual(next.metrics, current.metrics)) {
        log.warn("metrics settings changed: they take effect at the next restart");
      }
      if (options.dryRun === undefined && next.dryRun !== current.dryRun) {
        log.warn("dry_run changed: it takes effect at the next restart");
      }
      const wanted = new Map(next.bridges.map((b) => [b.name, b]));
      for (const name of [...running.keys()]) {
        if (!wanted.has(name)) {
          await stopBridge(name);
          result.stopped.push(name);
        }
      }
      for (const bridge of next.bridges) {
        const previous = running.get(bridge.name)?.config;
        if (previous && isDeepStrictEqual(previous, bridge)) {
          result.kept.push(bridge.name);
          continue;
        }
        if (previous) await stopBridge(bridge.name);
        try {
          await startBridge(bridge);
          (previous ? result.restarted : result.started).push(bridge.name);
        } catch (error) {
          // E.g. its new status_addr is taken: go back to what ran before, and say so.
          await stopBridge(bridge.name);
          let rolledBack = false;
          if (previous) {
            try {
              await startBridge(previous);
              rolledBack = true;
            } catch (again) {
              log.error(`bridge ${bridge.name}: could not restart its previous configuration either: ${errorMessage(again)}`);
            }
          }
          result.failed.push({ bridge: bridge.name, error: errorMessage(error), rolledBack });
        }
      }
      current = { ...next, metrics: current.metrics, dryRun: current.dryRun };
      if (result.failed.length) log.error("configuration reloaded with failures", result);
      else log.info("configuration reloaded", result);
      return result;
    },
    async stop() {
      await Promise.all([...running.keys()].map(stopBridge));
      stopLagMonitor();
      await metricsServer.close();
    },
  };
}
