/**
 * One step of a plan (docs/reconcile.md): an argv to run, an API call to make. `describe()` is
 * what a dry run prints — the exact command or call — so an operator can read the plan before
 * trusting it; `apply()` does it, bounded by the signal.
 */
export interface Action {
  /** What kind of step ("argv", "aws.ReplaceRoute", …): a metric label, so from a fixed set. */
  readonly kind: string;
  describe(): string;
  apply(signal: AbortSignal): Promise<void>;
}

/** A failure worth another try later (a timeout, a 5xx, a throttle); others are final. */
export class RetryableError extends Error {
  override name = "RetryableError";
}

export function isRetryable(error: unknown): boolean {
  if (error instanceof RetryableError) return true;
  const name = (error as { name?: string } | null)?.name;
  return name === "TimeoutError" || name === "AbortError";
}
