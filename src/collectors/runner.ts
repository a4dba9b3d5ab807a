/**
 * Runs one collector on its own timer (docs/collectors.md §Engine): every `intervalMs`, and soon
 * after the collector asks for a refresh (an event from the daemon), never two runs at once, each
 * bounded by `timeoutMs`. The result is cached; a scrape reads the cache and never waits for a run.
 * A failed run drops the collector's series (node_exporter's rule: no stale values) and records
 * success = 0 with the reason.
 */
import { errorMessage } from "../util/errors.ts";
import { groupSamples, type SamplesByFamily } from "./families.ts";
import type { Collector, CollectorTiming, Sample } from "./types.ts";

export interface CollectorStatus {
  readonly name: string;
  /** undefined until the first run ends. */
  readonly success: boolean | undefined;
  readonly lastDurationMs: number | undefined;
  /** Unix ms of the last successful run's end. */
  readonly lastSuccessUnixMs: number | undefined;
  readonly lastError: string | undefined;
  /** Samples cached now (0 after a failure). */
  readonly series: number;
  readonly runs: number;
  readonly failures: number;
}

export interface RunnerHooks {
  /** After every run (success or not), with the new status. Must not throw (errors are swallowed). */
  onRun?(status: CollectorStatus): void;
  /** Samples the collector returned that do not fit its declared families (a bug), per run. */
  onProblems?(name: string, problems: readonly string[]): void;
  /** Shortest gap between the starts of two runs caused by refreshes (default 100 ms). */
  minRefreshGapMs?: number;
  nowMs?: () => number;
  unixMs?: () => number;
}

/**
 * When the next run starts (monotonic ms), pure: on the interval after the last start, or — when a
 * refresh was asked for — as soon as `minRefreshGapMs` after the last start allows.
 */
export function nextRunAtMs(input: {
  nowMs: number;
  lastStartMs: number | undefined;
  intervalMs: number;
  refreshRequested: boolean;
  minRefreshGapMs: number;
}): number {
  if (input.lastStartMs === undefined) return input.nowMs;
  const onInterval = input.lastStartMs + input.intervalMs;
  if (!input.refreshRequested) return Math.max(input.nowMs, onInterval);
  return Math.max(input.nowMs, Math.min(onInterval, input.lastStartMs + input.minRefreshGapMs));
}

export type RunOutcome = { ok: true; samples: readonly Sample[] } | { ok: false; error: string };

/** Runs `collect` with an AbortSignal fired at `timeoutMs`; stops waiting then even if collect does not. */
export async function runBounded(collect: (signal: AbortSignal) => Promise<readonly Sample[]>, timeoutMs: number): Promise<RunOutcome> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<RunOutcome>((resolve) => {
    timer = setTimeout(() => {
      controller.abort(new Error(`timed out after ${timeoutMs} ms`));
      resolve({ ok: false, error: `timed out after ${timeoutMs} ms` });
    }, timeoutMs);
  });
  const attempt = (async (): Promise<RunOutcome> => {
    try {
      return { ok: true, samples: await collect(controller.signal) };
    } catch (error) {
      return { ok: false, error: errorMessage(error) };
    }
  })();
  try {
    return await Promise.race([attempt, expired]);
  } finally {
    clearTimeout(timer);
    if (!controller.signal.aborted) controller.abort(new Error("run finished"));
  }
}

export class CollectorRunner {
  private cache: SamplesByFamily = new Map();
  private current: CollectorStatus;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running: Promise<void> | undefined;
  private lastStartMs: number | undefined;
  private refreshRequested = false;
  private stopped = false;
  private readonly now: () => number;
  private readonly unixNow: () => number;

  constructor(
    readonly collector: Collector,
    private readonly timing: CollectorTiming,
    private readonly hooks: RunnerHooks = {},
  ) {
    this.now = hooks.nowMs ?? (() => performance.now());
    this.unixNow = hooks.unixMs ?? (() => Date.now());
    this.current = { name: collector.name, success: undefined, lastDurationMs: undefined, lastSuccessUnixMs: undefined, lastError: undefined, series: 0, runs: 0, failures: 0 };
  }

  /** Starts the collector's own part (events) and the first run at once. */
  start(): void {
    try {
      this.collector.start?.(() => this.refresh());
    } catch (error) {
      this.hooks.onProblems?.(this.collector.name, [`start failed: ${errorMessage(error)}`]);
    }
    this.schedule();
  }

  /** Asks for a run soon (rate-limited by minRefreshGapMs). Safe to call any time, from any callback. */
  refresh(): void {
    if (this.stopped) return;
    this.refreshRequested = true;
    if (!this.running) this.schedule();
  }

  /** Runs now (ignoring the timer) and resolves when that run ended. For tests and `ctl`. */
  async runNow(): Promise<CollectorStatus> {
    if (this.running) await this.running;
    if (!this.stopped) await this.run();
    return this.current;
  }

  samples(family: string): readonly Sample[] | undefined {
    return this.cache.get(family);
  }

  status(): CollectorStatus {
    return this.current;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    try {
      await this.collector.stop?.();
    } catch {
      /* stop never rejects by contract; a broken one must not block shutdown */
    }
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    const now = this.now();
    const at = nextRunAtMs({
      nowMs: now,
      lastStartMs: this.lastStartMs,
      intervalMs: this.timing.intervalMs,
      refreshRequested: this.refreshRequested,
      minRefreshGapMs: this.hooks.minRefreshGapMs ?? 100,
    });
    this.timer = setTimeout(() => void this.run(), Math.max(0, at - now));
  }

  private run(): Promise<void> {
    if (this.running || this.stopped) return this.running ?? Promise.resolve();
    clearTimeout(this.timer);
    this.refreshRequested = false;
    const startMs = this.now();
    this.lastStartMs = startMs;
    this.running = (async () => {
      const outcome = await runBounded((signal) => this.collector.collect(signal), this.timing.timeoutMs);
      try {
        this.record(outcome, this.now() - startMs);
      } catch (error) {
        this.safely(() => this.hooks.onProblems?.(this.collector.name, [`recording a run failed: ${errorMessage(error)}`]));
      }
    })().finally(() => {
      this.running = undefined;
      this.schedule();
    });
    return this.running;
  }

  private record(outcome: RunOutcome, durationMs: number): void {
    const prev = this.current;
    if (outcome.ok) {
      const { byFamily, problems } = groupSamples(this.collector.families, outcome.samples);
      if (problems.length > 0) this.safely(() => this.hooks.onProblems?.(this.collector.name, problems));
      this.cache = byFamily;
      let series = 0;
      for (const list of byFamily.values()) series += list.length;
      this.current = { ...prev, success: true, lastDurationMs: durationMs, lastSuccessUnixMs: this.unixNow(), lastError: undefined, series, runs: prev.runs + 1 };
    } else {
      this.cache = new Map();
      this.current = { ...prev, success: false, lastDurationMs: durationMs, lastError: outcome.error, series: 0, runs: prev.runs + 1, failures: prev.failures + 1 };
    }
    const status = this.current;
    this.safely(() => this.hooks.onRun?.(status));
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch {
      /* an observer must never break the runner */
    }
  }
}
