import { errorMessage } from "../util/errors.ts";
import { logger } from "../util/log.ts";
import { coalesce, stateSetBy, targetOf, type DropReason, type QueuedRun, type TargetState } from "./coalesce.ts";
import { substitute } from "./placeholders.ts";
import { argvAction } from "../reconcile/argv.ts";
import { runCommand, type RunCommandOptions } from "./run-command.ts";
import { commandOk, type CommandResult, type HookConfig, type HookEvent, type HookName, type HookRunReport } from "./types.ts";

const log = logger.withTag("hooks");

type TimerHandle = unknown;
export type Timers = {
  setTimeout(fn: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
};

export type HookSchedulerOptions = {
  bridgeName: string;
  /** A hook that is missing or has no commands does nothing. */
  hooks: Partial<Record<HookName, HookConfig>>;
  /** Per command (scripts_timeout). */
  timeoutMs: number;
  dryRun: boolean;
  /** Placeholder values for one run (the bridge computes them; called when the run starts). */
  valuesFor(event: HookEvent): Record<string, string>;
  /** Called once per hook run; must not throw (it is caught and logged if it does). */
  onResult(report: HookRunReport): void;
  /**
   * Called once per queued run dropped before it started: superseded by a later transition of
   * its target ("coalesced"), or beyond maxQueuedRuns ("overflow"). Caught and logged if it throws.
   */
  onDropped?(event: HookEvent, reason: DropReason, reapply: boolean): void;
  /** Bound of the queue (runs not started); default defaultMaxQueuedRuns. */
  maxQueuedRuns?: number;
  /** Wall clock in ms, for VPNHAM_TIMESTAMP and durations. */
  now?: () => number;
  /** Reapply timers only (command timeouts use real timers). */
  timers?: Timers;
  /** Replaceable for tests. */
  run?: (argv: string[], options: RunCommandOptions) => Promise<CommandResult>;
};

export interface HookScheduler {
  /** Enqueue a hook run (coalescing the queue, see coalesce.ts); returns at once, never throws. */
  emit(event: HookEvent): void;
  /** Resolves when nothing is queued or running (pending reapply timers do not count). */
  idle(): Promise<void>;
  /** Cancel reapply, drop queued runs, let the running one finish, ignore later emits. */
  stop(): Promise<void>;
}

/** Per process, so scripts can order events across bridges. */
let lastSequence = 0;

/**
 * The queue holds at most one run per target (bridge, each tunnel) once coalesced, so this
 * bound is reached only by a bridge with more tunnels than that (docs/hardening.md).
 */
export const defaultMaxQueuedRuns = 64;

/** A queued run; `target` is also the reapply scope. `epoch` may be adopted by a later activation. */
type Job = QueuedRun;

/** Which activation a reapply belongs to: the bridge, or one tunnel. */
type ReapplyScope = { epoch: number; active: boolean; timer?: TimerHandle; nextDelayMs?: number };

/** One serial, coalescing, bounded queue of hook runs for one bridge, with reapply. */
export function createHookScheduler(opts: HookSchedulerOptions): HookScheduler {
  const now = opts.now ?? Date.now;
  const timers: Timers = opts.timers ?? {
    setTimeout: (fn, delayMs) => setTimeout(fn, delayMs),
    clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  };
  const run = opts.run ?? runCommand;
  const maxQueuedRuns = opts.maxQueuedRuns ?? defaultMaxQueuedRuns;
  let queue: Job[] = [];
  const scopes = new Map<string, ReapplyScope>();
  /** What each target's last started run set (coalesce.ts). */
  const applied = new Map<string, TargetState>();
  /** The run in progress, if any, and the latest transition that cancelled out against it. */
  let current: Job | undefined;
  let currentAdopted: HookEvent | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  let idleWaiters: Array<() => void> = [];

  const scopeOf = (key: string): ReapplyScope => {
    let scope = scopes.get(key);
    if (scope === undefined) scopes.set(key, (scope = { epoch: 0, active: false }));
    return scope;
  };

  const cancelReapply = (scope: ReapplyScope): void => {
    if (scope.timer !== undefined) timers.clearTimeout(scope.timer);
    scope.timer = undefined;
    scope.nextDelayMs = undefined;
  };

  /** A transition starts a new epoch: reapply of older activations stops. */
  const transition = (key: string, active: boolean): ReapplyScope => {
    const scope = scopeOf(key);
    cancelReapply(scope);
    scope.epoch += 1;
    scope.active = active;
    return scope;
  };

  function emit(event: HookEvent): void {
    try {
      if (stopped) {
        log.debug(`bridge ${opts.bridgeName}: ${event.hook} ignored, hooks are stopping`);
        return;
      }
      const key = targetOf(event);
      const activating = stateSetBy(event.hook) === "active";
      if (event.hook === "interface_activate") {
        // At most one tunnel is active: a new active tunnel ends reapply of any other.
        for (const other of scopes.keys()) if (other.startsWith("tunnel:") && other !== key) transition(other, false);
      }
      const scope = transition(key, activating);
      const job: Job = { event: { ...event }, reapply: false, target: key, epoch: scope.epoch };
      if (!enqueue(job) && (applied.get(key) ?? "inactive") === stateSetBy(event.hook)) adopt(job);
    } catch (e) {
      log.error(`bridge ${opts.bridgeName}: could not enqueue ${event.hook}: ${errorMessage(e)}`);
    }
  }

  /** Coalesce `job` into the queue (coalesce.ts), report what it drops; true when `job` is queued. */
  function enqueue(job: Job): boolean {
    const result = coalesce(queue, job, applied, maxQueuedRuns);
    queue = result.queue;
    for (const { run, reason } of result.dropped) {
      const what = describe(run);
      if (reason === "overflow") log.warn(`${what}: not run, the hook queue is full (${maxQueuedRuns} runs)`);
      else log.debug(`${what}: not run, superseded before it started`);
      try {
        opts.onDropped?.(run.event, reason, run.reapply);
      } catch (e) {
        log.error(`${what}: drop handler failed: ${errorMessage(e)}`);
      }
    }
    schedulePump();
    return queue.includes(job);
  }

  /**
   * A transition that cancelled out against the target's last started run, which set that
   * state already (the opposite transition in between never started): that run stands for it.
   * If it is still running, its end arms reapply for this activation, and should it fail the
   * transition is queued after all; if it has ended, reapply starts now at the initial delay.
   */
  function adopt(job: Job): void {
    if (current?.target === job.target) {
      current.epoch = job.epoch;
      currentAdopted = job.event;
      return;
    }
    const hook = opts.hooks[job.event.hook];
    if (hook !== undefined && hook.commands.length > 0) scheduleReapply(job, hook);
  }

  /** The running run failed: a transition it stood for, and nothing later, runs after all. */
  function retryAdopted(failed: Job): void {
    const event = currentAdopted;
    currentAdopted = undefined;
    if (event === undefined || stopped || queue.some((run) => run.target === failed.target)) return;
    const scope = transition(failed.target, stateSetBy(event.hook) === "active");
    enqueue({ event, reapply: false, target: failed.target, epoch: scope.epoch });
  }

  const schedulePump = (): void => {
    if (running !== undefined) return;
    running = pump();
  };

  async function pump(): Promise<void> {
    // Let the caller finish its transition (and emit the rest of it) before anything is spawned.
    await Promise.resolve();
    try {
      for (let job = queue.shift(); job !== undefined && !stopped; job = queue.shift()) {
        current = job;
        currentAdopted = undefined;
        try {
          await runJob(job);
        } catch (e) {
          applied.set(job.target, "unknown");
          log.error(`bridge ${opts.bridgeName}: ${job.event.hook} failed: ${errorMessage(e)}`);
        }
        current = undefined;
        currentAdopted = undefined;
      }
    } finally {
      current = undefined;
      running = undefined;
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  async function runJob(job: Job): Promise<void> {
    const scope = scopeOf(job.target);
    // A reapply queued before a later transition is stale.
    if (job.reapply && (scope.epoch !== job.epoch || !scope.active)) return;
    // From here on the target is taken to be in this state (coalesce.ts), until the run fails.
    applied.set(job.target, stateSetBy(job.event.hook));
    const hook = opts.hooks[job.event.hook];
    if (hook === undefined || hook.commands.length === 0) return;

    const sequence = ++lastSequence;
    const startedMs = now();
    const env = hookEnv(job, sequence, startedMs);
    const results: CommandResult[] = [];
    let values: Record<string, string> | undefined;
    let valuesError: string | undefined;
    try {
      values = opts.valuesFor(job.event);
    } catch (e) {
      valuesError = `placeholder values: ${errorMessage(e)}`;
    }
    const what = describe(job);

    for (const command of hook.commands) {
      let argv: string[];
      try {
        if (values === undefined) throw new Error(valuesError);
        argv = substitute(command, values);
      } catch (e) {
        const failed = { argv: [...command], exitCode: null, signal: null, timedOut: false, durationMs: 0,
          stdout: "", stderr: "", truncated: false, error: errorMessage(e) };
        log.error(`${what}: not run: ${failed.error}`, { argv: command });
        results.push(failed);
        continue;
      }
      // Each command is an argv action of the reconcile engine (docs/reconcile.md §Actions):
      // a dry run prints exactly what would run.
      const action = argvAction(argv, { timeoutMs: opts.timeoutMs, env }, run);
      if (opts.dryRun) {
        log.info(`${what}: dry run, would run ${action.describe()}`, { argv });
        continue;
      }
      const result = await action.run();
      logCommand(what, result);
      results.push(result);
    }

    const report: HookRunReport = {
      event: job.event,
      sequence,
      reapply: job.reapply,
      dryRun: opts.dryRun,
      results,
      ok: results.every(commandOk),
      durationMs: now() - startedMs,
    };
    // A failed or timed-out run may have left the host half-way: the next transition runs.
    if (!report.ok) {
      applied.set(job.target, "unknown");
      retryAdopted(job);
    }
    try {
      opts.onResult(report);
    } catch (e) {
      log.error(`${what}: result handler failed: ${errorMessage(e)}`);
    }
    scheduleReapply(job, hook);
  }

  function scheduleReapply(job: Job, hook: HookConfig): void {
    const reapply = hook.reapply;
    if (reapply === undefined || reapply.initialDelayMs <= 0 || stopped) return;
    if (job.event.hook !== "bridge_activate" && job.event.hook !== "interface_activate") return;
    const scope = scopeOf(job.target);
    if (scope.epoch !== job.epoch || !scope.active) return;
    const maximumDelayMs = Math.max(reapply.maximumDelayMs, reapply.initialDelayMs);
    const delayMs = scope.nextDelayMs ?? reapply.initialDelayMs;
    scope.nextDelayMs = Math.min(delayMs * Math.max(reapply.factor, 1), maximumDelayMs);
    if (scope.timer !== undefined) timers.clearTimeout(scope.timer);
    scope.timer = timers.setTimeout(() => {
      try {
        scope.timer = undefined;
        if (stopped || scope.epoch !== job.epoch || !scope.active) return;
        enqueue({ event: job.event, reapply: true, target: job.target, epoch: job.epoch });
      } catch (e) {
        log.error(`bridge ${opts.bridgeName}: reapply of ${job.event.hook} failed: ${errorMessage(e)}`);
      }
    }, delayMs);
  }

  function hookEnv(job: Job, sequence: number, startedMs: number): Record<string, string | undefined> {
    const env: Record<string, string | undefined> = { ...process.env };
    env.VPNHAM_EVENT = job.event.hook;
    env.VPNHAM_BRIDGE = opts.bridgeName;
    if (job.event.tunnel !== undefined) env.VPNHAM_TUNNEL = job.event.tunnel;
    else delete env.VPNHAM_TUNNEL;
    env.VPNHAM_SEQUENCE = String(sequence);
    env.VPNHAM_TIMESTAMP = new Date(startedMs).toISOString();
    env.VPNHAM_REASON = job.event.reason ?? "";
    env.VPNHAM_REAPPLY = job.reapply ? "1" : "0";
    return env;
  }

  function describe(job: Job): string {
    const tunnel = job.event.tunnel === undefined ? "" : ` ${job.event.tunnel}`;
    return `bridge ${opts.bridgeName}: ${job.event.hook}${tunnel}${job.reapply ? " (reapply)" : ""}`;
  }

  return {
    emit,
    idle: () => (running === undefined ? Promise.resolve() : new Promise<void>((resolve) => idleWaiters.push(resolve))),
    async stop() {
      stopped = true;
      for (const scope of scopes.values()) cancelReapply(scope);
      queue = [];
      await running;
    },
  };
}

const logOutputChars = 2048;

/** One line per command: argv, outcome, duration, bounded output. */
function logCommand(what: string, result: CommandResult): void {
  const outcome = result.error !== undefined ? `error ${result.error}`
    : result.timedOut ? `timed out (${result.signal ?? "killed"})`
    : result.aborted ? `aborted (${result.signal ?? "killed"})`
    : result.signal !== null ? `signal ${result.signal}`
    : `exit ${result.exitCode}`;
  const fields = {
    argv: result.argv,
    exitCode: result.exitCode,
    signal: result.signal,
    timedOut: result.timedOut,
    durationMs: Math.round(result.durationMs),
    stdout: clip(result.stdout),
    stderr: clip(result.stderr),
    ...(result.truncated ? { truncated: true } : {}),
    ...(result.error !== undefined ? { error: result.error } : {}),
  };
  const line = `${what}: ${JSON.stringify(result.argv)} ${outcome} in ${fields.durationMs} ms`;
  if (commandOk(result)) log.info(line, fields);
  else log.warn(line, fields);
}

function clip(text: string): string {
  return text.length <= logOutputChars ? text : `${text.slice(0, logOutputChars)}…`;
}
