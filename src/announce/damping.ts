/**
 * Flap damping of one prefix, pure (docs/announce.md §Flap damping): health says what the
 * prefix should be; damping says when that may happen.
 *
 * - Two changes (announce ↔ withdraw) of one prefix are at least `minIntervalMs` apart.
 * - Each withdraw after an announce is a flap. From the second flap on, re-announcing waits a
 *   hold-down after the withdraw: `holdDownMs`, doubled per further flap, capped at
 *   `maxHoldDownMs`. A prefix that stayed announced for `maxHoldDownMs` before it is withdrawn
 *   again starts counting at one.
 * - The first decision (nothing decided before, e.g. after a restart) is never delayed.
 *
 * Manual drains bypass damping (the operator means it now); they are applied on top of the
 * damped health by decide.ts.
 */
import type { DampingConfig } from "./model.ts";

export interface DampState {
  /** The damped decision; undefined until health was known once. */
  readonly announced?: boolean;
  /** When the decision last changed (not set by the first decision). */
  readonly lastChangeMs?: number;
  /** Withdraws after an announce, counted while they come within maxHoldDownMs of the announce. */
  readonly flaps: number;
  readonly lastWithdrawMs?: number;
}

export const initialDampState: DampState = { flaps: 0 };

export interface DampResult {
  readonly state: DampState;
  /** The decision now: undefined while health was never known. */
  readonly announced?: boolean;
  /** Set while health wants a change that damping holds back: when it may happen. */
  readonly heldUntilMs?: number;
}

/** Re-announce hold-down after `flaps` flaps. */
export function holdDownMs(flaps: number, config: DampingConfig): number {
  if (flaps <= 1) return 0;
  return Math.min(config.maxHoldDownMs, config.holdDownMs * 2 ** (flaps - 2));
}

/** One evaluation: (state, what health wants now) → (state, the damped decision). */
export function dampStep(state: DampState, want: boolean | undefined, nowMs: number, config: DampingConfig): DampResult {
  const current = state.announced;
  if (want === undefined || want === current) return current === undefined ? { state } : { state, announced: current };
  if (current === undefined) return { state: { ...state, announced: want }, announced: want };
  let earliestMs = state.lastChangeMs === undefined ? -Infinity : state.lastChangeMs + config.minIntervalMs;
  if (want && state.lastWithdrawMs !== undefined) earliestMs = Math.max(earliestMs, state.lastWithdrawMs + holdDownMs(state.flaps, config));
  if (nowMs < earliestMs) return { state, announced: current, heldUntilMs: earliestMs };
  if (want) return { state: { ...state, announced: true, lastChangeMs: nowMs }, announced: true };
  // A withdraw: one more flap, unless the prefix had been announced long enough to start over.
  const announcedForMs = state.lastChangeMs === undefined ? Infinity : nowMs - state.lastChangeMs;
  const flaps = announcedForMs < config.maxHoldDownMs ? state.flaps + 1 : 1;
  return { state: { announced: false, lastChangeMs: nowMs, flaps, lastWithdrawMs: nowMs }, announced: false };
}
