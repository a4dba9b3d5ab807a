/**
 * Whether to write the routes now or hold back, pure (docs/cloud-routes.md §Split brain): when
 * the partner link is cut both bridges of a pair are active, and two hosts rewriting the same
 * route at every drift run would flap the traffic between them. The rule:
 *
 * 1. The configured-active bridge always claims (the configured active wins).
 * 2. The configured-standby holds while its partner reports itself active (a handover in
 *    progress, or a split brain the two can see).
 * 3. The configured-standby, after it held every route, finds one taken back by a target it had
 *    replaced (its partner, alive and writing): it holds for drift interval × 2^n (n = such
 *    conflicts this activation), capped at `maxHoldMs`, then claims again. So a partner that
 *    really died is replaced at worst after the cap, and a live one is disturbed at most once
 *    per hold.
 * 4. A destination with no route, or routed to a target EC2 sees dead (blackhole), is claimed at
 *    once, hold or not. A target we never replaced (a manual edit) is repaired at once.
 *
 * One state per route table and activation; it starts empty at every activation.
 */
export interface ClaimState {
  /** Targets this host replaced during this activation (its partner, usually). */
  readonly replaced: readonly string[];
  /** The last read found every destination at us. */
  readonly holding: boolean;
  readonly conflicts: number;
  readonly holdUntilMs: number;
}

export const initialClaimState: ClaimState = { replaced: [], holding: false, conflicts: 0, holdUntilMs: 0 };

export interface ClaimContext {
  readonly configuredActive: boolean;
  /** The partner's own report of being active; undefined when its last poll failed. */
  readonly partnerActive: boolean | undefined;
  readonly nowMs: number;
  readonly driftIntervalMs: number;
  readonly maxHoldMs: number;
}

export interface ClaimView {
  readonly ours: number;
  readonly missing: number;
  readonly others: ReadonlyArray<{ readonly target: string; readonly blackhole: boolean }>;
}

export interface ClaimDecision {
  readonly state: ClaimState;
  readonly claim: boolean;
  /** Why, in words (status and logs); "" when claiming with nothing to say. */
  readonly reason: string;
  /** True the moment a conflict is found (for a counter). */
  readonly conflict: boolean;
}

export function holdMs(conflicts: number, driftIntervalMs: number, maxHoldMs: number): number {
  const base = Math.max(1000, driftIntervalMs);
  return Math.min(maxHoldMs, base * 2 ** Math.min(conflicts, 30));
}

export function decideClaim(state: ClaimState, view: ClaimView, context: ClaimContext): ClaimDecision {
  const inSync = view.missing === 0 && view.others.length === 0;
  const claimNow = (reason: string): ClaimDecision => {
    const replaced = [...new Set([...state.replaced, ...view.others.map((o) => o.target)])];
    return { state: { ...state, replaced, holding: inSync }, claim: true, reason, conflict: false };
  };
  if (context.configuredActive) return claimNow("");
  if (context.partnerActive === true) {
    return { state: { ...state, holding: false }, claim: false, reason: "the partner reports itself active; the configured-active bridge keeps the routes", conflict: false };
  }
  const urgent = view.missing > 0 || view.others.some((o) => o.blackhole);
  const takenBack = state.holding && view.others.some((o) => !o.blackhole && state.replaced.includes(o.target));
  if (takenBack && !urgent) {
    const conflicts = state.conflicts + 1;
    const waitMs = holdMs(conflicts, context.driftIntervalMs, context.maxHoldMs);
    const who = view.others.filter((o) => state.replaced.includes(o.target)).map((o) => o.target);
    return {
      state: { ...state, holding: false, conflicts, holdUntilMs: context.nowMs + waitMs },
      claim: false,
      reason: `routes taken back by ${[...new Set(who)].join(", ")} (the partner is alive and active: split brain?); holding for ${Math.round(waitMs / 1000)} s`,
      conflict: true,
    };
  }
  if (context.nowMs < state.holdUntilMs && !urgent) {
    const manual = view.others.filter((o) => !state.replaced.includes(o.target));
    if (manual.length === 0) {
      return { state: { ...state, holding: false }, claim: false, reason: `holding after a conflict for ${Math.ceil((state.holdUntilMs - context.nowMs) / 1000)} s more`, conflict: false };
    }
  }
  return claimNow(urgent ? "missing or dead routes" : "");
}
