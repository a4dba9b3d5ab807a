/**
 * The announce job's shell (docs/announce.md): every `evaluateIntervalMs` it reads the checks'
 * verdicts, runs the pure decision (decide.ts) and hands the backend's reconcile loop the new
 * goal when it changed; the loop also re-reads the routing daemon every `interval` to repair
 * drift. Drains come from the control socket (drain-control.ts) and the state file.
 */
import { performance } from "node:perf_hooks";
import { checkMetrics } from "../checks/metrics.ts";
import { startChecks, type ChecksRuntime, type CheckStatus } from "../checks/runtime.ts";
import type { CheckSpec } from "../checks/schema.ts";
import type { Component, JobContext } from "../daemon/component.ts";
import { createReconcileMetrics } from "../reconcile/metrics.ts";
import { startReconcileLoop, type ReconcileLoop } from "../reconcile/engine.ts";
import { errorMessage } from "../util/errors.ts";
import { logger } from "../util/log.ts";
import { backendTarget, createBackend, type AnnounceReconciler, type BackendActual, type BackendDeps } from "./backend.ts";
import type { DampState } from "./damping.ts";
import { boundedResolve, serverResolve, systemResolve, type ResolveName } from "./dns-lookup.ts";
import { effectiveConfig, initialNameState, nameStep, settleLeaving, withdrawLeaving, type Effective, type NameState } from "./dns-names.ts";
import { desiredOf, evaluate, type DesiredPrefix, type PrefixDecision } from "./decide.ts";
import { loadDrainFile } from "./drain-file.ts";
import { allPrefixes, emptyDrainState, type DrainState } from "./drains.ts";
import { checkVerdict, ipvsVerdict, serviceHealth, type ServiceHealth, type Verdict } from "./health.ts";
import { announceMetrics, removeAnnounceSeries, type AnnounceMetrics } from "./metrics.ts";
import type { AnnounceConfig } from "./model.ts";

export const ANNOUNCE_KEY_PREFIX = "announce:";
const log = logger.withTag("announce");

export interface AnnounceDeps extends BackendDeps {
  /** How often health is turned into decisions (cheap, pure); default 200 ms. */
  readonly evaluateIntervalMs?: number;
  /** Resolves a service's dns_name when it has no resolver: (default the system resolver). */
  readonly resolve?: ResolveName;
}

/** The two checks of the engine behind an IPVS threshold (health.ts ipvsVerdict). */
export function ipvsCheckNames(service: string): { above: string; enough: string } {
  return { above: `announce.${service}.ipvs_above`, enough: `announce.${service}.ipvs_enough` };
}

function ipvsChecks(config: AnnounceConfig): Record<string, CheckSpec> {
  const checks: Record<string, CheckSpec> = {};
  for (const [service, spec] of Object.entries(config.services)) {
    const ipvs = spec.ipvs;
    if (!ipvs) continue;
    const names = ipvsCheckNames(service);
    const common = { kind: "ipvs", service: ipvs.service, path: ipvs.path, intervalMs: ipvs.intervalMs, timeoutMs: ipvs.timeoutMs } as const;
    const timing = { thresholdDown: ipvs.thresholdDown, thresholdUp: ipvs.thresholdUp };
    checks[names.above] = { ...common, ...timing, minServers: ipvs.withdrawAtOrBelow + 1 };
    checks[names.enough] = { ...common, ...timing, minServers: ipvs.announceAtOrAbove };
  }
  return checks;
}

export class AnnounceComponent implements Component {
  readonly key: string;
  private drainState: DrainState = emptyDrainState;
  private damp: ReadonlyMap<string, DampState> = new Map();
  private ipvs: ChecksRuntime | undefined;
  private ipvsState = new Map<string, Verdict>();
  private health = new Map<string, ServiceHealth>();
  private decisions: readonly PrefixDecision[] = [];
  private loop: ReconcileLoop<readonly DesiredPrefix[]> | undefined;
  private lastGoal: string | undefined;
  private lastRead: { atMs: number; startedMs: number; actual: BackendActual } | undefined;
  private names = new Map<string, NameState>();
  private resolving = new Set<string>();
  private effective: Effective | undefined;
  private dnsTimer: ReturnType<typeof setInterval> | undefined;
  private readError: string | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private metrics: AnnounceMetrics | undefined;

  constructor(
    readonly settings: AnnounceConfig,
    private readonly context: JobContext,
    private readonly deps: AnnounceDeps = {},
  ) {
    this.key = `${ANNOUNCE_KEY_PREFIX}${settings.backend.kind}`;
  }

  /** The configuration with the prefixes resolved from dns_name (docs/announce.md §DNS names). */
  get config(): AnnounceConfig {
    return this.effective?.config ?? this.settings;
  }

  private dnsServices(): [string, string, string | undefined][] {
    return Object.entries(this.settings.services).flatMap(([service, spec]) => (spec.dnsName ? [[service, spec.dnsName, spec.resolver] as [string, string, string | undefined]] : []));
  }

  /** Resolves every dns_name once (never throws; each bounded by the timeout). */
  async resolveNames(): Promise<void> {
    const timeoutMs = Math.min(this.settings.timeoutMs, this.settings.intervalMs);
    await Promise.all(
      this.dnsServices().map(async ([service, name, server]) => {
        if (this.resolving.has(service)) return;
        this.resolving.add(service);
        try {
          const resolveName: ResolveName = server ? serverResolve(server, timeoutMs) : (this.deps.resolve ?? systemResolve);
          const answer = await boundedResolve(resolveName, name, timeoutMs).then(
            (addresses) => ({ ok: true as const, addresses }),
            (error: unknown) => ({ ok: false as const, error: errorMessage(error) }),
          );
          const step = nameStep(this.names.get(service) ?? initialNameState, answer, performance.now());
          this.names.set(service, step.state);
          if (step.kept !== undefined) {
            this.metrics?.dnsFailures.inc({ service });
            log.warn(`${name} (service ${service}): ${step.kept}; keeping ${step.state.prefixes.join(", ") || "no prefixes"}`, { service, name });
          }
          if (step.added.length > 0) log.info(`${name} (service ${service}) adds ${step.added.join(", ")}`, { service, name });
          if (step.removed.length > 0) log.info(`${name} (service ${service}) no longer has ${step.removed.join(", ")}: withdrawing`, { service, name });
        } catch (error) {
          log.error(`resolving ${name}: ${errorMessage(error)}`);
        } finally {
          this.resolving.delete(service);
        }
      }),
    );
    if (this.loop) this.evaluateNow();
  }

  /** Names' state (status, tests). */
  nameStates(): ReadonlyMap<string, NameState> {
    return this.names;
  }

  drains(): DrainState {
    return this.drainState;
  }

  async start(): Promise<void> {
    this.drainState = loadDrainFile(this.settings.stateFile);
    const registry = this.context.metrics.registry;
    this.metrics = announceMetrics(registry);
    const synthetic = ipvsChecks(this.settings);
    if (Object.keys(synthetic).length > 0) {
      this.ipvs = startChecks(synthetic, { metrics: checkMetrics(registry), bridgeActive: (b) => this.context.bridgeActive(b) });
    }
    if (this.dnsServices().length > 0) {
      await this.resolveNames();
      this.dnsTimer = setInterval(() => void this.resolveNames(), this.settings.intervalMs);
    }
    const backend = createBackend(this.settings, this.deps);
    this.loop = startReconcileLoop(this.recording(backend), {
      dryRun: this.context.dryRun,
      callTimeoutMs: this.settings.timeoutMs,
      driftIntervalMs: this.settings.intervalMs,
      metrics: createReconcileMetrics(registry),
    });
    this.evaluateNow();
    this.timer = setInterval(() => this.evaluateNow(), this.deps.evaluateIntervalMs ?? 200);
    log.info(`announcing through ${this.settings.backend.kind}`, {
      services: Object.keys(this.settings.services),
      drained: [...Object.keys(this.drainState.services), ...Object.keys(this.drainState.prefixes)],
    });
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    clearInterval(this.dnsTimer);
    try {
      await this.loop?.stop();
      await this.ipvs?.stop();
    } catch (error) {
      log.error(`stopping: ${errorMessage(error)}`);
    }
    if (this.metrics) removeAnnounceSeries(this.metrics, allPrefixes(this.config), backendTarget(this.settings));
  }

  /** Replaces the drains (already saved by the caller) and acts on them at once. */
  setDrains(state: DrainState): void {
    this.drainState = state;
    this.evaluateNow();
  }

  /** Resolves when the backend is as desired (or gave up), at most `maxMs` later. */
  async settled(maxMs: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.loop?.settled(), new Promise<void>((resolve) => (timer = setTimeout(resolve, maxMs)))]);
    clearTimeout(timer);
  }

  /** The reconciler, noting each read (status, metrics). */
  private recording(backend: AnnounceReconciler): AnnounceReconciler {
    const target = backendTarget(this.settings);
    return {
      kind: backend.kind,
      target: backend.target,
      read: async (signal) => {
        const startedMs = performance.now();
        try {
          const actual = await backend.read(signal);
          this.lastRead = { atMs: Date.now(), startedMs, actual };
          this.readError = undefined;
          this.metrics?.backendUp.set({ backend: target }, 1);
          this.publishAnnounced();
          return actual;
        } catch (error) {
          this.readError = errorMessage(error);
          this.metrics?.backendUp.set({ backend: target }, 0);
          throw error;
        }
      },
      plan: (desired, actual) => backend.plan(desired, actual),
    };
  }

  private checkStatus(name: string): CheckStatus | undefined {
    return this.context.component?.(`check:${name}`)?.status() as CheckStatus | undefined;
  }

  /** One evaluation; never throws (it runs in a timer). */
  evaluateNow(): void {
    try {
      this.evaluateOnce();
    } catch (error) {
      log.error(`evaluation failed: ${errorMessage(error)}`);
    }
  }

  private evaluateOnce(): void {
    const read = this.lastRead ? { startedMs: this.lastRead.startedMs, networks: new Set(this.lastRead.actual.networks.keys()) } : undefined;
    for (const [service, state] of this.names) this.names.set(service, settleLeaving(state, read));
    const effective = effectiveConfig(this.settings, this.names);
    for (const conflict of effective.conflicts) if (!this.effective?.conflicts.includes(conflict)) log.warn(conflict);
    this.effective = effective;
    const ipvsStatus = this.ipvs?.status() ?? {};
    for (const [service, spec] of Object.entries(this.settings.services)) {
      let ipvs: { ipvs?: Verdict } = {};
      if (spec.ipvs) {
        const names = ipvsCheckNames(service);
        const verdict = ipvsVerdict(this.ipvsState.get(service), checkVerdict(ipvsStatus[names.above]), checkVerdict(ipvsStatus[names.enough]));
        this.ipvsState.set(service, verdict);
        ipvs = { ipvs: verdict };
      }
      const health = serviceHealth({ checks: spec.checks.map((name) => [name, checkVerdict(this.checkStatus(name))] as const), ...ipvs });
      const before = this.health.get(service);
      if (before !== undefined && before.healthy !== health.healthy) {
        log.info(`service ${service} is ${health.healthy === undefined ? "not known" : health.healthy ? "healthy" : "unhealthy"}`, { service, reasons: health.reasons });
      }
      this.health.set(service, health);
      this.metrics?.healthy.set({ service }, health.healthy ? 1 : 0);
    }
    const previous = new Map(this.decisions.map((d) => [d.prefix.prefix, d.intent]));
    const result = evaluate({ config: effective.config, health: this.health, drains: this.drainState, damp: this.damp, nowMs: performance.now() });
    this.damp = result.damp;
    this.decisions = withdrawLeaving(result.decisions, effective.leaving);
    for (const d of this.decisions) {
      const labels = { service: d.service, prefix: d.prefix.prefix };
      this.metrics?.drained.set(labels, d.drained ? 1 : 0);
      if (d.intent === "hold") this.metrics?.desired.remove(labels);
      else this.metrics?.desired.set(labels, d.intent === "announce" ? 1 : 0);
      const was = previous.get(d.prefix.prefix);
      if (d.intent !== "hold" && was !== d.intent) {
        if (was !== undefined && was !== "hold") this.metrics?.changes.inc({ ...labels, to: d.intent });
        const why = d.drained ? `drained${d.drained.reason ? `: ${d.drained.reason}` : ""}` : (this.health.get(d.service)?.reasons.join("; ") ?? "");
        log.info(`${d.intent} ${d.prefix.prefix} (service ${d.service})${why ? `: ${why}` : ""}`, { ...labels, intent: d.intent });
      }
    }
    const desired = desiredOf(this.decisions);
    const goal = JSON.stringify(desired);
    if (goal !== this.lastGoal) {
      this.lastGoal = goal;
      this.loop?.setDesired(desired);
    }
  }

  private publishAnnounced(): void {
    const networks = this.lastRead?.actual.networks;
    if (!networks || !this.metrics) return;
    for (const { service, prefix } of allPrefixes(this.config)) this.metrics.announced.set({ service, prefix }, networks.has(prefix) ? 1 : 0);
  }

  /** Prefixes the routing daemon had at the last read (allow-list only); undefined before the first read. */
  announced(prefix: string): boolean | undefined {
    return this.lastRead ? this.lastRead.actual.networks.has(prefix) : undefined;
  }

  status(): unknown {
    const byService = new Map<string, PrefixDecision[]>();
    for (const d of this.decisions) byService.set(d.service, [...(byService.get(d.service) ?? []), d]);
    const nowMs = performance.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    return {
      backend: this.settings.backend.kind,
      dryRun: this.context.dryRun,
      services: Object.fromEntries(
        Object.keys(this.settings.services).map((service) => {
          const health = this.health.get(service);
          const drain = this.drainState.services[service];
          return [
            service,
            {
              healthy: health?.healthy ?? null,
              ...(this.names.has(service) ? { dnsName: dnsStatus(this.settings.services[service]!.dnsName!, this.names.get(service)!) } : {}),
              reasons: health?.reasons ?? [],
              ...(drain ? { drained: { ...(drain.reason ? { reason: drain.reason } : {}), since: iso(drain.sinceMs) } } : {}),
              prefixes: Object.fromEntries(
                (byService.get(service) ?? []).map((d) => [
                  d.prefix.prefix,
                  {
                    intent: d.intent,
                    announced: this.announced(d.prefix.prefix) ?? null,
                    ...(d.prefix.routeMap ? { routeMap: d.prefix.routeMap } : {}),
                    ...(d.drained ? { drained: { by: d.drained.by, ...(d.drained.reason ? { reason: d.drained.reason } : {}), since: iso(d.drained.sinceMs) } } : {}),
                    ...(d.heldUntilMs !== undefined ? { heldForMs: Math.max(0, Math.round(d.heldUntilMs - nowMs)) } : {}),
                  },
                ]),
              ),
            },
          ];
        }),
      ),
      drains: this.drainState,
      ...(this.lastRead ? { lastRead: iso(this.lastRead.atMs) } : {}),
      ...(this.readError ? { backendError: this.readError } : {}),
      reconcile: this.loop?.status(),
    };
  }
}

function dnsStatus(name: string, state: NameState) {
  return { name, addresses: state.prefixes, leaving: Object.keys(state.leaving), failures: state.failures, ...(state.lastError ? { lastError: state.lastError } : {}) };
}
