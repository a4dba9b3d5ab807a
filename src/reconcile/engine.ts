import { errorMessage } from "../util/errors.ts";
import { logger } from "../util/log.ts";
import { isRetryable, RetryableError, type Action } from "./action.ts";
import type { ReconcileMetrics } from "./metrics.ts";
import { afterAttempt, defaultRetryPolicy, type RetryPolicy } from "./retry.ts";

/**
 * The reconcile engine (docs/reconcile.md): desired state → read actual → plan → apply →
 * read back, one serial loop per target. The job supplies `read` (edge) and `plan` (pure,
 * table-tested in the job's folder); the engine owns timeouts, retries, dry-run, drift
 * re-runs and the metrics, so every job behaves the same.
 */
export interface Reconciler<Desired, Actual> {
  /** A metric label from a fixed set per job ("aws_route", "dns_record", …). */
  readonly kind: string;
  /** A config-level name (bounded label values, never an id from an API). */
  readonly target: string;
  read(signal: AbortSignal): Promise<Actual>;
  /** Pure: the steps that turn `actual` into `desired`; none when in sync. */
  plan(desired: Desired, actual: Actual): Action[];
}

export type RunOutcome = "applied" | "in_sync" | "dry_run" | "failed" | "superseded";

export interface ReconcileLoopOptions {
  dryRun: boolean;
  /** Each read and each step. */
  callTimeoutMs: number;
  retry?: RetryPolicy;
  /** Re-run this often to find and repair drift; 0 or absent = only on change. */
  driftIntervalMs?: number;
  metrics: ReconcileMetrics;
  now?: () => number;
  random?: () => number;
}

export interface ReconcileStatus {
  readonly kind: string;
  readonly target: string;
  readonly lastOutcome?: RunOutcome;
  readonly lastError?: string;
  /** Steps of the last plan, as describe() gives them (a dry run's output). */
  readonly lastPlan: readonly string[];
  readonly lastSuccessMs?: number;
}

export interface ReconcileLoop<Desired> {
  /** The new desired state; a run follows (after the one in progress, which it supersedes). */
  setDesired(desired: Desired): void;
  /** Resolves when no run is in progress or pending. */
  settled(): Promise<void>;
  status(): ReconcileStatus;
  stop(): Promise<void>;
}

export function startReconcileLoop<Desired, Actual>(
  reconciler: Reconciler<Desired, Actual>,
  options: ReconcileLoopOptions,
): ReconcileLoop<Desired> {
  const { kind, target } = reconciler;
  const log = logger.withTag(`reconcile ${kind} ${target}`);
  const retry = options.retry ?? defaultRetryPolicy;
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const labels = { kind, target };
  const stopping = new AbortController();
  let desired: { value: Desired } | undefined;
  let pending: "change" | "drift" | undefined;
  let running: Promise<void> | undefined;
  let driftTimer: ReturnType<typeof setTimeout> | undefined;
  let status: ReconcileStatus = { kind, target, lastPlan: [] };

  const call = async <T>(what: (signal: AbortSignal) => Promise<T>): Promise<T> => {
    const signal = AbortSignal.any([stopping.signal, AbortSignal.timeout(options.callTimeoutMs)]);
    // Also bounded when the callee ignores the signal.
    return await Promise.race([
      what(signal),
      new Promise<never>((_, reject) => {
        if (signal.aborted) reject(signal.reason);
        signal.addEventListener("abort", () => reject(signal.reason), { once: true });
      }),
    ]);
  };

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      stopping.signal.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
    });

  async function runOnce(reason: "change" | "drift", want: Desired): Promise<RunOutcome> {
    // A drift run's first plan judges drift, even when a failed read came before it (a router restarting);
    // but only when the last run had left the target as desired: after a failed or dry run the
    // difference is our own unfinished work, not a change behind our back (docs/reconcile.md §Drift).
    const wasAsDesired = status.lastOutcome === "applied" || status.lastOutcome === "in_sync";
    let planned = false;
    for (let attempt = 1; ; attempt++) {
      try {
        const steps = reconciler.plan(want, await call((s) => reconciler.read(s)));
        const firstPlan = !planned;
        planned = true;
        status = { ...status, lastPlan: steps.map((s) => s.describe()) };
        if (steps.length === 0) return "in_sync";
        if (firstPlan && reason === "drift" && wasAsDesired) {
          options.metrics.drift.inc(labels);
          log.warn(`drift: the target changed behind our back; ${options.dryRun ? "would repair" : "repairing"}`);
        }
        if (options.dryRun) {
          for (const step of steps) log.info(`dry run, would ${step.describe()}`, { kind, target, step: step.describe() });
          return "dry_run";
        }
        for (const step of steps) {
          log.info(`applying ${step.describe()}`, { kind, target });
          await call((s) => step.apply(s));
        }
        const left = reconciler.plan(want, await call((s) => reconciler.read(s)));
        if (left.length > 0) throw new RetryableError(`read back still differs: ${left.map((s) => s.describe()).join("; ")}`);
        return "applied";
      } catch (error) {
        status = { ...status, lastError: errorMessage(error) };
        const next = afterAttempt(attempt, { ok: false, retryable: isRetryable(error) }, retry, random());
        if (stopping.signal.aborted) return "failed";
        if (next.done) {
          log.error(`failed after ${attempt} tries: ${errorMessage(error)}`);
          return "failed";
        }
        log.warn(`try ${attempt} failed (${errorMessage(error)}); again in ${next.delayMs} ms`);
        await sleep(next.delayMs);
        // A newer desired state replaces this run's goal: start over with it.
        if (pending === "change") return "superseded";
      }
    }
  }

  async function loop(): Promise<void> {
    while (pending !== undefined && desired !== undefined && !stopping.signal.aborted) {
      const reason = pending;
      pending = undefined;
      const startedMs = now();
      let outcome: RunOutcome;
      try {
        outcome = await runOnce(reason, desired.value);
      } catch (error) {
        // runOnce catches everything; this is a bug guard so the loop never dies silently.
        log.error(`run failed: ${errorMessage(error)}`);
        outcome = "failed";
      }
      options.metrics.runs.inc({ ...labels, outcome });
      options.metrics.duration.observe(labels, (now() - startedMs) / 1000);
      if (outcome === "applied" || outcome === "in_sync") {
        options.metrics.lastSuccess.set(labels, now() / 1000);
        status = { ...status, lastSuccessMs: now() };
        const { lastError: _, ...rest } = status;
        status = rest;
      }
      status = { ...status, lastOutcome: outcome };
    }
    armDrift();
  }

  const kick = (reason: "change" | "drift"): void => {
    if (stopping.signal.aborted) return;
    if (pending !== "change") pending = reason;
    if (running === undefined) running = loop().finally(() => (running = undefined));
  };

  const armDrift = (): void => {
    if (driftTimer !== undefined) clearTimeout(driftTimer);
    driftTimer = undefined;
    if (!options.driftIntervalMs || stopping.signal.aborted) return;
    driftTimer = setTimeout(() => kick("drift"), options.driftIntervalMs);
  };

  return {
    setDesired(value) {
      desired = { value };
      kick("change");
    },
    async settled() {
      while (running !== undefined) await running;
    },
    status: () => status,
    async stop() {
      stopping.abort(new Error("stopping"));
      if (driftTimer !== undefined) clearTimeout(driftTimer);
      await running;
    },
  };
}
