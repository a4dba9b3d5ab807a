import { setTimeout as setNodeTimeout, clearTimeout as clearNodeTimeout } from "node:timers";
import { logger } from "../util/log.ts";
import { errorMessage } from "../util/errors.ts";
import type { Metrics } from "./registry.ts";

const log = logger.withTag("metrics");

/**
 * Measures event-loop lag ourselves (perf_hooks.monitorEventLoopDelay is missing or partial
 * on Bun/Deno): a timer due every `intervalMs` records how late it fired. Each tick is
 * scheduled from its own due time, so one late tick does not shift the next measurement.
 * The timer is unref'd: it never keeps the process alive. Returns a stop function.
 */
export function startEventLoopLagMonitor(metrics: Metrics, intervalMs: number): () => void {
  const periodMs = Number.isFinite(intervalMs) && intervalMs >= 1 ? intervalMs : 500;
  let stopped = false;
  let timer: ReturnType<typeof setNodeTimeout> | undefined;

  const schedule = (dueMs: number): void => {
    timer = setNodeTimeout(() => tick(dueMs), Math.max(0, dueMs - performance.now()));
    timer.unref?.();
  };
  const tick = (dueMs: number): void => {
    if (stopped) return;
    const nowMs = performance.now();
    try {
      metrics.eventLoopLag.observe(Math.max(0, nowMs - dueMs) / 1000);
    } catch (error) {
      log.warn("event-loop lag sample failed", { error: errorMessage(error) });
    }
    // After a long stall, measure from now instead of firing a burst of catch-up ticks.
    const nextDueMs = dueMs + periodMs > nowMs ? dueMs + periodMs : nowMs + periodMs;
    schedule(nextDueMs);
  };

  schedule(performance.now() + periodMs);
  return () => {
    stopped = true;
    if (timer !== undefined) clearNodeTimeout(timer);
  };
}
