import { logger } from "./log.ts";
import { errorMessage } from "./errors.ts";

/**
 * Calls `onTick` every `intervalMs`, each tick scheduled from an absolute
 * monotonic deadline (setInterval drifts 0.2–0.7 ms a tick; docs/development.md §Portability across Bun and Deno).
 * When the process was stalled past whole intervals (SIGSTOP, VM pause, a
 * blocked loop) the missed ticks are skipped, not replayed in a burst, and
 * the next tick is told how many were missed.
 */
export interface TickInfo {
  /** Ticks missed because we were late by whole intervals. */
  readonly missedTicks: number;
  /** How late this tick fired, in ms (timer jitter or stall). */
  readonly lateMs: number;
}

/**
 * How late a timer may fire before we count ourselves as stalled: timer jitter on a quiet host
 * is well under a millisecond, a busy one a few ms. A tenth of the period (at least 2 ms, at
 * most half of it) tells the two apart (docs/hardening.md §Busy CPUs and late timers).
 */
export function lateToleranceMs(periodMs: number): number {
  return Math.min(periodMs / 2, Math.max(2, periodMs / 10));
}

export interface Ticker {
  stop(): void;
}

export function monotonicMs(): number {
  return performance.now();
}

export function startTicker(
  intervalMs: number,
  onTick: (info: TickInfo) => void | Promise<void>,
  options: { firstDelayMs?: number; name?: string; onError?: (error: unknown) => void } = {},
): Ticker {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let deadline = monotonicMs() + (options.firstDelayMs ?? 0);

  const fire = (): void => {
    if (stopped) return;
    const now = monotonicMs();
    const lateMs = Math.max(0, now - deadline);
    const missedTicks = Math.floor(lateMs / intervalMs);
    deadline += (missedTicks + 1) * intervalMs;
    try {
      const result = onTick({ missedTicks, lateMs });
      if (result instanceof Promise) result.catch(report);
    } catch (error) {
      report(error);
    }
    schedule();
  };
  const report = (error: unknown): void => {
    if (options.onError) {
      try {
        options.onError(error);
      } catch {
        /* a failing error handler must not kill the ticker */
      }
    } else logger.withTag("ticker").error(`${options.name ?? "tick"} failed: ${errorMessage(error)}`);
  };
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(fire, Math.max(0, deadline - monotonicMs()));
  };
  schedule();
  return {
    stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
    },
  };
}
