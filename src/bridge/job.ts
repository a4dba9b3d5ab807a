/**
 * Bridges as a job (src/daemon/jobs.ts): one component per configured bridge, key
 * `bridge:<name>`, its settings the bridge's whole config, so any change restarts it.
 */
import { CHECK_KEY_PREFIX } from "../checks/job.ts";
import type { CheckStatus } from "../checks/runtime.ts";
import { collectorStatesFor } from "../collectors/tie-state.ts";
import type { BridgeConfig, Config } from "../config/index.ts";
import type { Component, ComponentSpec, Job, JobContext } from "../daemon/component.ts";
import { initBridge, removeBridge } from "../metrics/bridge-series.ts";
import { OwnProbeIds } from "../probe/own-ids.ts";
import type { BridgeStatus } from "../partner/status-body.ts";
import { BridgeRuntime } from "./bridge.ts";
import { BRIDGE_KEY_PREFIX } from "./key.ts";

export { BRIDGE_KEY_PREFIX, bridgeRuntimes } from "./key.ts";

export class BridgeComponent implements Component {
  readonly key: string;
  readonly runtime: BridgeRuntime;

  constructor(
    readonly settings: BridgeConfig,
    private readonly context: JobContext,
    ownProbeIds: OwnProbeIds,
  ) {
    this.key = `${BRIDGE_KEY_PREFIX}${settings.name}`;
    this.runtime = new BridgeRuntime({
      config: settings,
      metrics: context.metrics,
      dryRun: context.dryRun,
      ownProbeIds,
      onHookReport: context.onHookReport,
      collectorStates: collectorStatesFor(context.metrics),
      ...(settings.partnerChecks ? { partnerChecksUp: () => partnerChecksUp(settings.partnerChecks ?? [], context) } : {}),
    });
  }

  async start(): Promise<void> {
    initBridge(this.context.metrics, this.settings.name, this.settings.tunnels.map((t) => t.name));
    await this.runtime.start();
  }

  /** Also after a failed start; the bridge's series go with it (removeBridge never rejects). */
  async stop(): Promise<void> {
    await this.runtime.stop();
    await removeBridge(this.context.metrics, this.settings.name);
  }

  status(): BridgeStatus {
    return this.runtime.status();
  }
}

/** Each of partner_checks: up once decided up (docs/behaviour.md §Partner health). */
function partnerChecksUp(names: readonly string[], context: JobContext): Array<boolean | undefined> {
  return names.map((name) => {
    const status = context.component?.(`${CHECK_KEY_PREFIX}${name}`)?.status() as CheckStatus | undefined;
    return status === undefined || !status.decided ? undefined : status.up;
  });
}

export const bridgeJob: Job = (context) => {
  // One set for the whole host: a request of one bridge bounced off another bridge's socket
  // is refused too (docs/hardening.md "Reflected probes").
  const ownProbeIds = new OwnProbeIds();
  return (config: Config): ComponentSpec[] =>
    config.bridges.map((bridge) => ({
      key: `${BRIDGE_KEY_PREFIX}${bridge.name}`,
      settings: bridge,
      create: () => new BridgeComponent(bridge, context, ownProbeIds),
    }));
};
