import { hysteresisSample, initialHysteresis, type HysteresisState } from "./hysteresis.ts";

/**
 * Health of the partner from its status polls (docs/behaviour.md §Partner health), pure.
 * Not up until the first good run; failures count from the start (the Go
 * original ignores failures before first contact and can stall for ever).
 * Until the first verdict either way the partner is *undecided*, so a
 * standby starting next to a healthy active doesn't grab the role (and run
 * bridge_activate) for the few polls it takes to see the active is up.
 */
export type PartnerHealthState = HysteresisState;

/** A standby-role bridge uses each threshold + 1 so the active side wins ties (as in Go). */
export function initialPartnerHealth(
  role: "active" | "standby",
  thresholdDown: number,
  thresholdUp: number,
): PartnerHealthState {
  const extra = role === "standby" ? 1 : 0;
  return initialHysteresis(thresholdDown + extra, thresholdUp + extra);
}

/**
 * `changed` is set when the verdict changes, including the first verdict (undecided → up or down).
 * `holdFirstDown`: still inside the start-up grace, an undecided partner is not yet judged down
 * (a pair started together must not flap while the partner is still binding its port or
 * bringing its tunnels up; docs/hardening.md §Busy CPUs and late timers). Good samples decide at once.
 * `changed` is true when the partner became up, false when it became down (the verdict logic is
 * the shared hysteresis in hysteresis.ts).
 */
export function partnerSample(
  state: PartnerHealthState,
  good: boolean,
  options: { holdFirstDown?: boolean } = {},
): { state: PartnerHealthState; changed?: boolean } {
  const next = hysteresisSample(state, good);
  // Inside the hold, a first verdict "down" is withheld (the runs still count); "up" passes.
  if (options.holdFirstDown && !state.decided && next.changed === "down") {
    return { state: { ...state, goodRun: next.state.goodRun, badRun: next.state.badRun } };
  }
  if (next.changed === undefined) return { state: next.state };
  return { state: next.state, changed: next.changed === "up" };
}

/**
 * One sample of the partner over every configured path (docs/behaviour.md §Partner health):
 * the status poll, and the checks named in `partner_checks`. A poll that got an answer decides
 * on its own (the partner's word on being up, or a mismatch/auth/HTTP error: bad). A poll that
 * could not reach the partner (timeout, connect) is good after all when any partner check is
 * up: the partner is alive, only that path is cut, so no takeover. Undecided checks count as down.
 */
export function partnerPathsGood(
  poll: { ok: true; up: boolean } | { ok: false; reason: string },
  partnerChecksUp: ReadonlyArray<boolean | undefined>,
): boolean {
  if (poll.ok) return poll.up;
  if (poll.reason !== "timeout" && poll.reason !== "connect") return false;
  return partnerChecksUp.some((up) => up === true);
}
