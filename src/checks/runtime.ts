/**
 * The check engine's shell (docs/checks.md): one timer loop per check, each probe bounded by
 * the check's timeout, each sample fed through the pure verdict step (verdict.ts). Checks are
 * independent: a hanging target delays only its own check. Nothing thrown or rejected inside a
 * timer escapes: it is logged and counted as a bad sample (reason "internal").
 */
import { VERSION } from "../version.ts";
import { errorMessage } from "../util/errors.ts";
import { logger } from "../util/log.ts";
import { initCheckSeries, removeCheckSeries, type CheckMetrics } from "./metrics.ts";
import { probeHttp, probeTcp } from "./probe-net.ts";
import { bridgeSample, probeExec, probeIcmp, probeIpvs, type CommandRunner } from "./probe-local.ts";
import type { CheckSpec, ChecksConfig } from "./schema.ts";
import { checkStep, initialCheckState, statusOf, type CheckState, type CheckStatus, type Sample } from "./verdict.ts";

const log = logger.withTag("checks");

export type { CheckStatus };

export interface CheckDeps {
  /** From checkMetrics(registry) on the daemon's registry. */
  readonly metrics: CheckMetrics;
  /** Whether this daemon's bridge of that name is active; undefined when no such bridge runs. */
  readonly bridgeActive: (bridge: string) => boolean | undefined;
  /** Called on every verdict change (first verdict included). Must not throw; if it does, it is logged. */
  readonly onChange?: (check: string, status: CheckStatus) => void;
  /** Tests: a stand-in for the process-group runner. */
  readonly runCommand?: CommandRunner;
}

export interface ChecksRuntime {
  /** Stops every check, waits for probes in flight (bounded by their timeouts), drops their series. */
  stop(): Promise<void>;
  status(): Record<string, CheckStatus>;
}

export function startChecks(config: ChecksConfig, deps: CheckDeps): ChecksRuntime {
  const runners = Object.entries(config).map(([name, spec]) => new CheckRunner(name, spec, deps));
  for (const runner of runners) runner.start();
  let stopping: Promise<void> | undefined;
  return {
    stop: () => (stopping ??= Promise.all(runners.map((r) => r.stop())).then(() => undefined)),
    status: () => Object.fromEntries(runners.map((r) => [r.name, r.status()])),
  };
}

const timedOut: Sample = { ok: false, reason: "timeout", detail: "no answer in time" };
const userAgent = `vpnham/${VERSION} (check)`;

class CheckRunner {
  private state: CheckState;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  /** Probes still settling (a killed command being reaped) and the tick in progress. */
  private readonly pending = new Set<Promise<unknown>>();
  private readonly aborts = new Set<AbortController>();

  constructor(
    readonly name: string,
    private readonly spec: CheckSpec,
    private readonly deps: CheckDeps,
  ) {
    this.state = initialCheckState(spec.thresholdDown, spec.thresholdUp);
  }

  start(): void {
    initCheckSeries(this.deps.metrics, this.name);
    this.schedule(0);
  }

  status(): CheckStatus {
    return statusOf(this.state);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const controller of this.aborts) controller.abort();
    await Promise.allSettled([...this.pending]);
    removeCheckSeries(this.deps.metrics, this.name);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => this.tick(), delayMs);
  }

  private tick(): void {
    if (this.stopped) return;
    const startedMs = performance.now();
    const run = this.probeOnce(startedMs)
      .catch((error: unknown) => log.error(`check ${this.name}: ${errorMessage(error)}`, { check: this.name }))
      .finally(() => {
        this.pending.delete(run);
        // Interval from start to start; a probe never overlaps the next one of the same check.
        this.schedule(Math.max(0, startedMs + this.spec.intervalMs - performance.now()));
      });
    this.pending.add(run);
  }

  private async probeOnce(startedMs: number): Promise<void> {
    const controller = new AbortController();
    this.aborts.add(controller);
    let deadline: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<Sample>((resolve) => {
      deadline = setTimeout(() => {
        controller.abort();
        resolve(timedOut);
      }, this.spec.timeoutMs);
    });
    // async: a probe that throws synchronously (a bridgeActive callback) becomes a bad sample too.
    const probe = (async () => this.probe(controller.signal))().catch((error: unknown): Sample => ({ ok: false, reason: "internal", detail: errorMessage(error) }));
    // A probe that lags behind its abort (a process group being killed) is waited for only by stop().
    const settling = probe.finally(() => {
      this.aborts.delete(controller);
      this.pending.delete(settling);
    });
    this.pending.add(settling);
    const sample = await Promise.race([probe, timeout]);
    clearTimeout(deadline);
    if (this.stopped) return;
    this.record(sample, performance.now() - startedMs);
  }

  private probe(signal: AbortSignal): Promise<Sample> {
    const spec = this.spec;
    const run = this.deps.runCommand;
    switch (spec.kind) {
      case "tcp":
        return probeTcp(spec.address, signal);
      case "http":
      case "https":
        return probeHttp(spec, signal, userAgent);
      case "icmp":
        return probeIcmp(spec.host, spec.timeoutMs, signal, run);
      case "exec":
        return probeExec(spec.command, { ...process.env, VPNHAM_CHECK: this.name }, spec.timeoutMs, signal, run);
      case "ipvs":
        return probeIpvs(spec.path, spec.service, spec.minServers, signal);
      case "bridge_active":
        return Promise.resolve(bridgeSample(spec.bridge, this.deps.bridgeActive));
    }
  }

  private record(sample: Sample, durationMs: number): void {
    const { metrics } = this.deps;
    const check = this.name;
    const next = checkStep(this.state, sample);
    this.state = next.state;
    metrics.duration.observe({ check }, durationMs / 1000);
    metrics.up.set({ check }, next.state.health.up ? 1 : 0);
    if (!sample.ok) {
      metrics.failures.inc({ check, reason: sample.reason });
      if (sample.reason === "internal") log.error(`check ${check}: probe failed: ${sample.detail}`, { check });
      else log.debug(`check ${check}: bad sample: ${sample.reason}: ${sample.detail}`, { check, reason: sample.reason });
    }
    if (next.changed === undefined) return;
    const fields = { check, kind: this.spec.kind, up: next.changed === "up", ...(sample.ok ? {} : { reason: sample.reason }) };
    if (next.changed === "up") log.info(`check ${check} is up`, fields);
    else log.warn(`check ${check} is down${sample.ok ? "" : `: ${sample.reason}: ${sample.detail}`}`, fields);
    try {
      this.deps.onChange?.(check, statusOf(next.state));
    } catch (error) {
      log.error(`check ${check}: change listener failed: ${errorMessage(error)}`, { check });
    }
  }
}
