/**
 * Health of the partner from its status polls (behaviour.md §2), pure.
 * Down until the first good run; failures count from the start (the Go
 * original ignores failures before first contact and can stall for ever).
 */
export interface PartnerHealthState {
  readonly thresholdDown: number;
  readonly thresholdUp: number;
  readonly up: boolean;
  /** Consecutive samples disagreeing with `up`. */
  readonly streak: number;
}

/** A standby-role bridge uses each threshold + 1 so the active side wins ties (as in Go). */
export function initialPartnerHealth(
  role: "active" | "standby",
  thresholdDown: number,
  thresholdUp: number,
): PartnerHealthState {
  const extra = role === "standby" ? 1 : 0;
  return { thresholdDown: thresholdDown + extra, thresholdUp: thresholdUp + extra, up: false, streak: 0 };
}

export function partnerSample(
  state: PartnerHealthState,
  good: boolean,
): { state: PartnerHealthState; changed?: boolean } {
  if (good === state.up) return state.streak === 0 ? { state } : { state: { ...state, streak: 0 } };
  const streak = state.streak + 1;
  const needed = good ? state.thresholdUp : state.thresholdDown;
  if (streak >= needed) return { state: { ...state, up: good, streak: 0 }, changed: good };
  return { state: { ...state, streak } };
}
