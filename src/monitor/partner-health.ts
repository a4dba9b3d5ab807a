/**
 * Health of the partner from its status polls (docs/behaviour.md §Partner health), pure.
 * Not up until the first good run; failures count from the start (the Go
 * original ignores failures before first contact and can stall for ever).
 * Until the first verdict either way the partner is *undecided*, so a
 * standby starting next to a healthy active doesn't grab the role (and run
 * bridge_activate) for the few polls it takes to see the active is up.
 */
export interface PartnerHealthState {
  readonly thresholdDown: number;
  readonly thresholdUp: number;
  readonly up: boolean;
  /** A verdict was reached: thresholdUp good or thresholdDown bad samples in a row. */
  readonly decided: boolean;
  /** Consecutive good / bad samples, newest included. */
  readonly goodRun: number;
  readonly badRun: number;
}

/** A standby-role bridge uses each threshold + 1 so the active side wins ties (as in Go). */
export function initialPartnerHealth(
  role: "active" | "standby",
  thresholdDown: number,
  thresholdUp: number,
): PartnerHealthState {
  const extra = role === "standby" ? 1 : 0;
  return { thresholdDown: thresholdDown + extra, thresholdUp: thresholdUp + extra, up: false, decided: false, goodRun: 0, badRun: 0 };
}

/**
 * `changed` is set when the verdict changes, including the first verdict (undecided → up or down).
 * `holdFirstDown`: still inside the start-up grace, an undecided partner is not yet judged down
 * (a pair started together must not flap while the partner is still binding its port or
 * bringing its tunnels up; docs/hardening.md §Busy CPUs and late timers). Good samples decide at once.
 */
export function partnerSample(
  state: PartnerHealthState,
  good: boolean,
  options: { holdFirstDown?: boolean } = {},
): { state: PartnerHealthState; changed?: boolean } {
  const goodRun = good ? state.goodRun + 1 : 0;
  const badRun = good ? 0 : state.badRun + 1;
  if ((!state.up || !state.decided) && goodRun >= state.thresholdUp) {
    return { state: { ...state, up: true, decided: true, goodRun, badRun }, changed: true };
  }
  if (!state.decided && options.holdFirstDown) return { state: { ...state, goodRun, badRun } };
  if ((state.up || !state.decided) && badRun >= state.thresholdDown) {
    return { state: { ...state, up: false, decided: true, goodRun, badRun }, changed: false };
  }
  return { state: { ...state, goodRun, badRun } };
}
