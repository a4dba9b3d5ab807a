/**
 * Retry policy of one reconcile run, pure (docs/reconcile.md §Retries): exponential back-off
 * from initialMs, capped at maxMs, with full jitter over the upper half so that many hosts
 * failing together don't retry in step.
 */
export interface RetryPolicy {
  /** Tries after the first; 0 = no retry. */
  readonly retries: number;
  readonly initialMs: number;
  readonly maxMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { retries: 4, initialMs: 1000, maxMs: 30_000 };

/** Delay before try number `attempt` + 1 (attempt counts from 1); `random` in [0, 1). */
export function retryDelayMs(attempt: number, policy: RetryPolicy, random: number): number {
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (ceiling / 2) * random);
}

export type AttemptResult = { ok: true } | { ok: false; retryable: boolean };

/** After a try: stop (with the run's outcome) or wait and try again. */
export function afterAttempt(
  attempt: number,
  result: AttemptResult,
  policy: RetryPolicy,
  random: number,
): { done: true; outcome: "ok" | "failed" } | { done: false; delayMs: number } {
  if (result.ok) return { done: true, outcome: "ok" };
  if (!result.retryable || attempt > policy.retries) return { done: true, outcome: "failed" };
  return { done: false, delayMs: retryDelayMs(attempt, policy, random) };
}
