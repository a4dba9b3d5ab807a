import { errorMessage } from "../util/errors.ts";
import { logger } from "../util/log.ts";
import { substitute } from "./placeholders.ts";
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
  /** Wall clock in ms, for VPNHAM_TIMESTAMP and durations. */
  now?: () => number;
  /** Reapply timers only (command timeouts use real timers). */
  timers?: Timers;
  /** Replaceable for tests. */
  run?: (argv: string[], options: RunCommandOptions) => Promise<CommandResult>;
};

export interface HookScheduler {
  /** Enqueue a hook run; returns at once, never throws. */
  emit(event: HookEvent): void;
  /** Resolves when nothing is queued or running (pending reapply timers do not count). */
  idle(): Promise<void>;
  /** Cancel reapply, drop queued runs, let the running one finish, ignore later emits. */
  stop(): Promise<void>;
}

/** Per process, so scripts can order events across bridges. */
let lastSequence = 0;

type Job = { event: HookEvent; reapply: boolean; scope: string; epoch: number };

/** Which activation a reapply belongs to: the bridge, or one tunnel. */
type ReapplyScope = { epoch: number; active: boolean; timer?: TimerHandle; nextDelayMs?: number };

/** One serial queue of hook runs for one bridge, with reapply. */
export function createHookScheduler(opts: HookSchedulerOptions): HookScheduler {
  const now = opts.now ?? Date.now;
  const timers: Timers = opts.timers ?? {
    setTimeout: (fn, delayMs) => setTimeout(fn, delayMs),
    clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  };
  const run = opts.run ?? runCommand;
  const queue: Job[] = [];
  const scopes = new Map<string, ReapplyScope>();
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

  const scopeKeyOf = (event: HookEvent): string =>
    event.hook.startsWith("bridge_") ? "bridge" : `tunnel:${event.tunnel ?? ""}`;

  function emit(event: HookEvent): void {
    try {
      if (stopped) {
        log.debug(`bridge ${opts.bridgeName}: ${event.hook} ignored, hooks are stopping`);
        return;
      }
      const key = scopeKeyOf(event);
      const activating = event.hook === "bridge_activate" || event.hook === "interface_activate";
      if (event.hook === "interface_activate") {
        // At most one tunnel is active: a new active tunnel ends reapply of any other.
        for (const other of scopes.keys()) if (other.startsWith("tunnel:") && other !== key) transition(other, false);
      }
      const scope = transition(key, activating);
      queue.push({ event: { ...event }, reapply: false, scope: key, epoch: scope.epoch });
      schedulePump();
    } catch (e) {
      log.error(`bridge ${opts.bridgeName}: could not enqueue ${event.hook}: ${errorMessage(e)}`);
    }
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
        try {
          await runJob(job);
        } catch (e) {
          log.error(`bridge ${opts.bridgeName}: ${job.event.hook} failed: ${errorMessage(e)}`);
        }
      }
    } finally {
      running = undefined;
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  async function runJob(job: Job): Promise<void> {
    const scope = scopeOf(job.scope);
    // A reapply queued before a later transition is stale.
    if (job.reapply && (scope.epoch !== job.epoch || !scope.active)) return;
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
      if (opts.dryRun) {
        log.info(`${what}: dry run, would run ${JSON.stringify(argv)}`, { argv });
        continue;
      }
      const result = await run(argv, { timeoutMs: opts.timeoutMs, env });
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
    const scope = scopeOf(job.scope);
    if (scope.epoch !== job.epoch || !scope.active) return;
    const maximumDelayMs = Math.max(reapply.maximumDelayMs, reapply.initialDelayMs);
    const delayMs = scope.nextDelayMs ?? reapply.initialDelayMs;
    scope.nextDelayMs = Math.min(delayMs * Math.max(reapply.factor, 1), maximumDelayMs);
    scope.timer = timers.setTimeout(() => {
      try {
        scope.timer = undefined;
        if (stopped || scope.epoch !== job.epoch || !scope.active) return;
        queue.push({ event: job.event, reapply: true, scope: job.scope, epoch: job.epoch });
        schedulePump();
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
      queue.length = 0;
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
