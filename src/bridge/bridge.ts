import { randomBytes } from "node:crypto";
import type { CollectorStates } from "../collectors/tie-state.ts";
import type { BridgeConfig } from "../config/index.ts";
import { deriveKeys, type BridgeKeys } from "../auth/keys.ts";
import { interfaceIp, placeholderValues } from "../hooks/placeholders.ts";
import { createHookScheduler, type HookScheduler } from "../hooks/scheduler.ts";
import type { HookEvent, HookRunReport } from "../hooks/types.ts";
import type { Metrics } from "../metrics/registry.ts";
import { initialPartnerHealth, partnerPathsGood, partnerSample, type PartnerHealthState } from "../monitor/partner-health.ts";
import type { TunnelHealthState, TunnelVerdict } from "../monitor/tunnel-health.ts";
import { pollOutcomeLabel, type PollOutcome } from "../partner/outcome.ts";
import { createPartnerPoller, statusBodyLimit } from "../partner/poller.ts";
import { startStatusServer } from "../partner/server.ts";
import { partnerAddresses } from "../partner/partner-address.ts";
import type { BridgeStatus } from "../partner/status-body.ts";
import { OwnProbeIds } from "../probe/own-ids.ts";
import { initialRoles, step, type RolesEffect, type RolesEvent, type RolesState } from "../roles/roles.ts";
import { errorMessage, listenError } from "../util/errors.ts";
import { TaggedLog } from "../util/log.ts";
import { monotonicMs, startTicker, type Ticker } from "../util/ticker.ts";
import { VERSION } from "../version.ts";
import { buildStatus, initialSinceTimes, updateSinceTimes, type SinceTimes } from "./status.ts";
import { TunnelRuntime } from "./tunnel.ts";

function pollingSource(iface: string, partnerUrl: string): () => string | undefined {
  const family = new URL(partnerUrl).hostname.startsWith("[") ? 6 : 4;
  return () => interfaceIp(iface, undefined, family) || undefined;
}

export interface BridgeRuntimeOptions {
  config: BridgeConfig;
  metrics: Metrics;
  dryRun: boolean;
  /** The probe ids of every tunnel of this host (one set per daemon); default: this bridge's. */
  ownProbeIds?: OwnProbeIds;
  onHookReport?: (bridge: string, report: HookRunReport) => void;
  /** Collector states for tunnels with `ipsec:` or `bgp:` (docs/collectors.md §IPsec-aware failover, §BGP-aware failover). */
  collectorStates?: CollectorStates;
  /** Whether each of partner_checks is up now (undefined: not running or undecided); docs/behaviour.md §Partner health. */
  partnerChecksUp?: () => ReadonlyArray<boolean | undefined>;
}

/**
 * A pair started together: the partner may not listen yet, and reports "up"
 * only once its tunnels have had threshold_up probes. Until then its failures
 * don't make a first "down" verdict (which would activate a standby for a
 * moment: docs/hardening.md §Busy CPUs and late timers).
 */
export function partnerStartupGraceMs(config: { probeIntervalMs: number; tunnels: readonly { thresholdUp: number }[] }): number {
  const thresholdUp = Math.max(...config.tunnels.map((t) => t.thresholdUp));
  return Math.max(1000, (thresholdUp + 2) * config.probeIntervalMs);
}

/**
 * The shell around one bridge: its tunnels, the partner poller, the status
 * server, the hook queue and the pure role state machine. Every input goes
 * through `dispatch`, which steps the state machine and carries out effects;
 * nothing here waits for a hook.
 */
export class BridgeRuntime {
  readonly name: string;
  /** src_uuid of our probes: 16 random bytes per process start, as in Go. */
  private readonly bridgeId = randomBytes(16);
  /** Derived from the bridge's secret; undefined keeps the Go wire format. */
  private readonly keys: BridgeKeys | undefined;
  private roles: RolesState;
  private partner: PartnerHealthState;
  /** The partner's last report, only while its latest poll succeeded. */
  private partnerReport: BridgeStatus | null = null;
  /** The partner's last good report: the pair gauges keep it while the partner is judged up. */
  private lastGoodPartnerReport: BridgeStatus | null = null;
  private splitBrain = false;
  /**
   * Consecutive polls in which both we and the partner were active. A
   * handover overlaps for a poll or two (the standby needs threshold_up + 1
   * good polls to step down), so split brain is declared only past that.
   */
  private bothActivePolls = 0;
  private readonly since: SinceTimes;
  private readonly tunnels: TunnelRuntime[];
  private readonly hooks: HookScheduler;
  private pollTicker: Ticker | undefined;
  private pollInFlight = false;
  private poller: ReturnType<typeof createPartnerPoller> | undefined;
  private statusServer: { port: number; close(): Promise<void> } | undefined;
  private recheckTimer: ReturnType<typeof setTimeout> | undefined;
  private lastPollProblem = "";
  private stopped = false;
  /** Until then an undecided partner is not judged down (see partnerStartupGraceMs). */
  private partnerGraceUntilMs = 0;
  /** Reason of the last transition, by tunnel ("" = the bridge), for /status. */
  private readonly lastReasons = new Map<string, string>();
  private readonly log: TaggedLog;
  /** Tunnel verdicts of the event loop's current turn, by tunnel (the last one counts). */
  private readonly pendingVerdicts = new Map<string, boolean>();
  /** The role state last written to the tunnel gauges (publishGauges sets the changes only). */
  private publishedRoles: RolesState | undefined;

  constructor(private readonly options: BridgeRuntimeOptions) {
    const { config, metrics } = options;
    this.name = config.name;
    this.log = new TaggedLog(`bridge ${config.name}`);
    this.keys = config.secret ? deriveKeys(config.secret) : undefined;
    const configuredActive = config.tunnels.find((t) => t.role === "active")!;
    this.roles = initialRoles({
      role: config.role,
      tunnels: config.tunnels.map((t) => t.name),
      configuredActiveTunnel: configuredActive.name,
      preemptDelayMs: config.preemptDelayMs,
    });
    this.partner = initialPartnerHealth(config.role, config.partnerThresholdDown, config.partnerThresholdUp);
    this.since = initialSinceTimes(config.tunnels.map((t) => t.name), Date.now());
    const ownIds = options.ownProbeIds ?? new OwnProbeIds();
    this.tunnels = config.tunnels.map(
      (tunnel) =>
        new TunnelRuntime({
          bridgeName: config.name,
          bridgeId: this.bridgeId,
          probeIntervalMs: config.probeIntervalMs,
          probeLocation: config.probeLocation,
          ...(this.keys ? { probeKey: this.keys.probe } : {}),
          ownIds,
          config: tunnel,
          metrics,
          ...(options.collectorStates ? { collectorStates: options.collectorStates } : {}),
          onVerdict: (name, verdict) => this.onTunnelVerdict(name, verdict),
        }),
    );
    this.hooks = createHookScheduler({
      bridgeName: config.name,
      hooks: config.hooks,
      timeoutMs: config.scriptsTimeoutMs,
      dryRun: options.dryRun,
      valuesFor: (event) => this.placeholderValuesFor(event),
      onResult: (report) => this.onHookResult(report),
      onDropped: (event, reason) => metrics.hookRunsDropped.inc({ bridge: config.name, hook: event.hook, reason }),
    });
  }

  get state(): RolesState {
    return this.roles;
  }

  /** The partner's own word on being active, from its latest poll; undefined when that poll failed (cloud routes' split-brain rule). */
  partnerReportsActive(): boolean | undefined {
    return this.partnerReport?.active;
  }

  /** Probe history of one tunnel (status, tests). */
  tunnelHealth(name: string): TunnelHealthState | undefined {
    return this.tunnels.find((t) => t.name === name)?.healthState;
  }

  async start(): Promise<void> {
    const { config, metrics } = this.options;
    this.statusServer = await startStatusServer({
      addr: config.statusAddr,
      getStatus: () => this.status(),
      ...(this.keys ? { statusKey: this.keys.status } : {}),
      onRequest: (code) => metrics.httpRequests.inc({ server: "status", code: String(code) }),
      isPartner: partnerAddresses(config.partnerUrl).isPartner,
      onShed: (action, limit) => metrics.httpConnectionsShed.inc({ server: "status", action, limit }),
      // The server has logged it already.
      onError: () => metrics.errors.inc({ scope: "status_listener", bridge: config.name }),
    }).catch((error: unknown) => {
      throw listenError(`bridges.${config.name}.status_addr`, config.statusAddr.text, error);
    });
    for (const t of this.tunnels) t.start();
    this.partnerGraceUntilMs = monotonicMs() + partnerStartupGraceMs(config);
    this.poller = createPartnerPoller({
      url: config.partnerUrl,
      timeoutMs: config.partnerStatusTimeoutMs,
      expectedName: config.name,
      ownRole: config.role,
      maxBodyBytes: statusBodyLimit(config.tunnels.length),
      ...(this.keys ? { statusKey: this.keys.status } : {}),
      // Looked up per poll (the interface may get its address after we start), in the
      // partner_url's address family.
      ...(config.partnerPollingInterface ? { localAddress: pollingSource(config.partnerPollingInterface, config.partnerUrl) } : {}),
    });
    // Polling runs on its own timer: a slow partner never delays probes.
    this.pollTicker = startTicker(config.probeIntervalMs, () => this.pollPartner(), {
      name: "partner poll",
      onError: (error) => this.countError("partner_polling", error),
    });
    this.publishGauges();
    this.log.info(`bridge started`, { bridge: config.name, role: config.role, status: config.statusAddr.text });
  }

  /** Stop probing and serving; let a running hook finish within its timeout. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.pollTicker?.stop();
    if (this.recheckTimer) clearTimeout(this.recheckTimer);
    this.poller?.close();
    await Promise.all([...this.tunnels.map((t) => t.stop()), this.statusServer?.close()]);
    await this.hooks.stop();
  }

  /** Wait until queued hooks have run (tests, shutdown). */
  hooksIdle(): Promise<void> {
    return this.hooks.idle();
  }

  status(): BridgeStatus {
    return buildStatus(this.name, this.roles, this.since, {
      partnerUp: this.partner.up,
      partnerDecided: this.partner.decided,
      splitBrain: this.splitBrain,
      lastReasons: this.lastReasons,
      version: VERSION,
    });
  }

  /**
   * Verdicts are gathered until the event loop's current turn is done and stepped as one
   * event: a turn that brings many (replies of thousands of tunnels read in one go, a link
   * under all of them failing) costs one step and one pass over the tunnels, not one each
   * (docs/performance.md §10 000 tunnels). One verdict alone waits for nothing but the rest
   * of its turn.
   */
  private onTunnelVerdict(name: string, verdict: TunnelVerdict): void {
    this.pendingVerdicts.set(name, verdict === "up");
    if (this.pendingVerdicts.size === 1) setImmediate(() => this.flushVerdicts());
  }

  private flushVerdicts(): void {
    if (this.pendingVerdicts.size === 0 || this.stopped) return;
    const verdicts = new Map(this.pendingVerdicts);
    this.pendingVerdicts.clear();
    const nowMs = monotonicMs();
    const [only] = verdicts;
    try {
      this.dispatch(verdicts.size === 1 ? { type: "tunnel", name: only![0], up: only![1], nowMs } : { type: "tunnels", verdicts, nowMs });
    } catch (error) {
      this.countError("peer_probing", error);
    }
  }

  private async pollPartner(): Promise<void> {
    if (this.pollInFlight || !this.poller) return; // the previous poll is still bounded by its timeout
    this.pollInFlight = true;
    let outcome: PollOutcome;
    try {
      outcome = await this.poller.poll();
    } finally {
      this.pollInFlight = false;
    }
    if (this.stopped) return; // a poll cut short by stop() says nothing about the partner
    const { metrics } = this.options;
    metrics.partnerPolls.inc({ bridge: this.name, outcome: pollOutcomeLabel(outcome) });
    if (!outcome.ok) {
      metrics.errors.inc({ scope: "partner_polling", bridge: this.name });
      const problem = `${outcome.reason}: ${outcome.detail}`;
      // Logged once per change of cause (the counter counts every poll); mismatches are
      // configuration errors, so loud.
      if (problem !== this.lastPollProblem) {
        if (outcome.reason === "name_mismatch" || outcome.reason === "role_mismatch" || outcome.reason === "auth") {
          this.log.error(`partner configuration mismatch (${problem}); treating the partner as down`);
        } else this.log.warn(`partner poll failed: ${problem}`);
      }
      this.lastPollProblem = problem;
    } else this.lastPollProblem = "";
    this.partnerReport = outcome.ok ? outcome.status : null;
    if (outcome.ok) this.lastGoodPartnerReport = outcome.status;
    this.bothActivePolls = this.roles.bridgeActive && this.partnerReport?.active === true ? this.bothActivePolls + 1 : 0;
    const poll = outcome.ok ? { ok: true as const, up: outcome.status.up } : outcome;
    const sample = partnerSample(this.partner, partnerPathsGood(poll, outcome.ok ? [] : (this.options.partnerChecksUp?.() ?? [])), {
      holdFirstDown: monotonicMs() < this.partnerGraceUntilMs,
    });
    this.partner = sample.state;
    if (sample.changed !== undefined) {
      this.log.info(`partner ${sample.changed ? "up" : "down"}`, { bridge: this.name, partner_up: sample.changed });
      this.dispatch({ type: "partner", up: sample.changed, nowMs: monotonicMs() });
    } else this.publishGauges();
  }

  /** Step the pure state machine and carry out its effects. */
  private dispatch(event: RolesEvent): void {
    // Tunnel verdicts still waiting for the end of the turn come first, in order.
    if (event.type !== "tunnel" && event.type !== "tunnels") this.flushVerdicts();
    const before = this.roles;
    const { state, effects } = step(before, event);
    this.roles = state;
    updateSinceTimes(this.since, before, state, Date.now());
    for (const effect of effects) this.carryOut(effect);
    this.publishGauges();
  }

  private carryOut(effect: RolesEffect): void {
    const { metrics } = this.options;
    if (effect.type === "recheck") {
      if (this.recheckTimer) clearTimeout(this.recheckTimer);
      this.recheckTimer = setTimeout(
        () => this.dispatch({ type: "tick", nowMs: monotonicMs() }),
        Math.max(0, effect.atMs - monotonicMs()),
      );
      return;
    }
    const tunnel = "tunnel" in effect ? effect.tunnel : "";
    const to = effect.type.endsWith("_activate") ? "active" : "inactive";
    metrics.roleTransitions.inc({ bridge: this.name, tunnel, to, reason: effect.reason });
    this.lastReasons.set(tunnel, `${to} (${effect.reason}) at ${new Date().toISOString()}`);
    if (!tunnel) metrics.lastRoleChange.set({ bridge: this.name }, Date.now() / 1000);
    this.log.info(`${tunnel ? `tunnel ${tunnel}` : "bridge"} → ${to} (${effect.reason})`, {
      bridge: this.name,
      ...(tunnel ? { tunnel } : {}),
      from: to === "active" ? "inactive" : "active",
      to,
      reason: effect.reason,
    });
    const event: HookEvent = { hook: effect.type, reason: effect.reason, ...(tunnel ? { tunnel } : {}) };
    this.hooks.emit(event);
  }

  private publishGauges(): void {
    const { metrics } = this.options;
    const b = { bridge: this.name };
    const up = this.roles.tunnels.some((t) => t.up);
    const report = this.partnerReport;
    // Counts for the pair as this host sees it: itself plus the partner's report. One failed
    // poll (a timeout on a busy host) must not dip the gauges: the partner's last good report
    // holds for as long as the partner thresholds judge it up.
    const seen = report ?? (this.partner.up ? this.lastGoodPartnerReport : null);
    metrics.bridgeActive.set(b, Number(this.roles.bridgeActive) + Number(seen?.active === true));
    metrics.bridgeUp.set(b, Number(up) + Number(seen?.up === true));
    metrics.partnerUp.set(b, Number(this.partner.up));
    const splitBrain =
      this.roles.bridgeActive && report?.active === true && this.bothActivePolls >= this.options.config.partnerThresholdUp + 2;
    if (splitBrain !== this.splitBrain) {
      if (splitBrain) this.log.warn("split brain: the partner reports itself active too", { bridge: this.name });
      else this.log.info("split brain healed", { bridge: this.name });
      this.splitBrain = splitBrain;
    }
    metrics.splitBrain.set(b, Number(splitBrain));
    // Only the tunnels whose gauges change: a set hashes its labels into a map of every series,
    // and setting all of them on every verdict and poll made bringing up 10 000 tunnels
    // quadratic (docs/performance.md §10 000 tunnels).
    const last = this.publishedRoles;
    const roles = this.roles;
    if (last?.tunnels === roles.tunnels && last.activeTunnel === roles.activeTunnel) return;
    roles.tunnels.forEach((t, i) => {
      const was = last?.tunnels[i];
      const active = roles.activeTunnel === t.name;
      const wasActive = last?.activeTunnel === t.name;
      if (was === t && wasActive === active) return; // unchanged (the role machine keeps the object)
      const l = { bridge: this.name, tunnel: t.name };
      if (was?.up !== t.up || was === undefined) metrics.tunnelUp.set(l, Number(t.up));
      if (wasActive !== active || was === undefined) metrics.tunnelActive.set(l, Number(active));
    });
    this.publishedRoles = roles;
  }

  private placeholderValuesFor(event: HookEvent): Record<string, string> {
    const { config } = this.options;
    const tunnel = config.tunnels.find((t) => t.name === event.tunnel);
    return placeholderValues({
      bridgeInterface: config.bridgeInterface,
      peerCidrs: config.peerCidrs,
      // On a host without the interface (the loopback demo) fall back to the configured address.
      bridgeInterfaceIp: interfaceIp(config.bridgeInterface, config.statusAddr.host),
      ...(tunnel ? { tunnelInterface: tunnel.name, tunnelInterfaceIp: interfaceIp(tunnel.name, tunnel.addr.host) } : {}),
    });
  }

  private onHookResult(report: HookRunReport): void {
    const { metrics } = this.options;
    const hook = report.event.hook;
    const outcome = report.dryRun
      ? "dry_run"
      : report.results.some((r) => r.timedOut)
        ? "timeout"
        : report.ok
          ? "ok"
          : "failed";
    metrics.hookRuns.inc({ bridge: this.name, hook, outcome });
    metrics.hookDuration.observe({ bridge: this.name, hook }, report.durationMs / 1000);
    if (!report.ok) metrics.errors.inc({ scope: `job_${hook}`, bridge: this.name });
    this.options.onHookReport?.(this.name, report);
  }

  private countError(scope: string, error: unknown): void {
    this.options.metrics.errors.inc({ scope, bridge: this.name });
    this.log.error(`${scope}: ${errorMessage(error)}`);
  }
}
