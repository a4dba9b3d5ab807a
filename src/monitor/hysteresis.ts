/**
 * Hysteresis over a stream of good/bad samples, pure (docs/behaviour.md §Partner health,
 * docs/checks.md §Verdicts): `thresholdUp` good samples in a row make the subject up,
 * `thresholdDown` bad ones in a row make it down; until the first verdict either way it is
 * *undecided* (reported as not up). Shared by the partner monitor and the check engine;
 * their extras (standby +1, start-up hold) stay with them.
 */
export interface HysteresisState {
  readonly thresholdDown: number;
  readonly thresholdUp: number;
  readonly up: boolean;
  /** A verdict was reached: thresholdUp good or thresholdDown bad samples in a row. */
  readonly decided: boolean;
  /** Consecutive good / bad samples, newest included. */
  readonly goodRun: number;
  readonly badRun: number;
}

/** Set when the verdict changes, including the first verdict (undecided → up or down). */
export type HysteresisChange = "up" | "down";

export function initialHysteresis(thresholdDown: number, thresholdUp: number): HysteresisState {
  return { thresholdDown, thresholdUp, up: false, decided: false, goodRun: 0, badRun: 0 };
}

/** One sample in, the next state out; `changed` only on a (first or new) verdict. */
export function hysteresisSample(state: HysteresisState, good: boolean): { state: HysteresisState; changed?: HysteresisChange } {
  const goodRun = good ? state.goodRun + 1 : 0;
  const badRun = good ? 0 : state.badRun + 1;
  if ((!state.up || !state.decided) && goodRun >= state.thresholdUp) {
    return { state: { ...state, up: true, decided: true, goodRun, badRun }, changed: "up" };
  }
  if ((state.up || !state.decided) && badRun >= state.thresholdDown) {
    return { state: { ...state, up: false, decided: true, goodRun, badRun }, changed: "down" };
  }
  return { state: { ...state, goodRun, badRun } };
}
