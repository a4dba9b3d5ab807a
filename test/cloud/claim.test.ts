// The split-brain rule (src/cloud/claim.ts, docs/cloud-routes.md §Split brain), table-tested.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { decideClaim, holdMs, initialClaimState, type ClaimContext, type ClaimState, type ClaimView } from "../../src/cloud/claim.ts";

const standby: ClaimContext = { configuredActive: false, partnerActive: undefined, nowMs: 1_000_000, driftIntervalMs: 10_000, maxHoldMs: 600_000 };
const active: ClaimContext = { ...standby, configuredActive: true };
const partnerHolds: ClaimView = { ours: 0, missing: 0, others: [{ target: "eni-partner", blackhole: false }] };
const allOurs: ClaimView = { ours: 2, missing: 0, others: [] };
const holding: ClaimState = { replaced: ["eni-partner"], holding: true, conflicts: 0, holdUntilMs: 0 };

describe("decideClaim", () => {
  const cases: Array<[string, ClaimState, ClaimView, ClaimContext, { claim: boolean; conflict?: boolean; reason?: RegExp }]> = [
    ["the configured-active always claims", holding, partnerHolds, active, { claim: true }],
    ["the configured-active claims even while the partner reports active", holding, partnerHolds, { ...active, partnerActive: true }, { claim: true }],
    ["the standby holds while its partner reports itself active", initialClaimState, partnerHolds, { ...standby, partnerActive: true }, { claim: false, reason: /partner reports itself active/ }],
    ["the standby takes over from a silent partner", initialClaimState, partnerHolds, standby, { claim: true }],
    ["the standby, holding, finds its partner took the routes back: conflict, hold", holding, partnerHolds, standby, { claim: false, conflict: true, reason: /taken back by eni-partner.*holding for 20 s/ }],
    ["…unless the partner's route is a blackhole (dead): claim at once", holding, { ours: 0, missing: 0, others: [{ target: "eni-partner", blackhole: true }] }, standby, { claim: true }],
    ["…or a route is missing: claim at once", holding, { ours: 0, missing: 1, others: [{ target: "eni-partner", blackhole: false }] }, standby, { claim: true }],
    ["a manual edit to a target never replaced is repaired at once", holding, { ours: 1, missing: 0, others: [{ target: "eni-someone", blackhole: false }] }, standby, { claim: true }],
    ["while the hold lasts: hold", { ...holding, holding: false, conflicts: 1, holdUntilMs: 1_010_000 }, partnerHolds, standby, { claim: false, reason: /holding after a conflict for 10 s more/ }],
    ["the hold over: claim again", { ...holding, holding: false, conflicts: 1, holdUntilMs: 999_000 }, partnerHolds, standby, { claim: true }],
    ["in sync: claim (nothing to do) and remember holding", initialClaimState, allOurs, standby, { claim: true }],
  ];
  for (const [name, state, view, context, want] of cases) {
    test(name, () => {
      const d = decideClaim(state, view, context);
      assert.equal(d.claim, want.claim);
      assert.equal(d.conflict, want.conflict ?? false);
      if (want.reason) assert.match(d.reason, want.reason);
    });
  }

  test("a flapping partner meets a growing hold: 2, 4, 8 … drift intervals, capped", () => {
    let state: ClaimState = initialClaimState;
    let now = standby.nowMs;
    const holds: number[] = [];
    for (let round = 0; round < 8; round++) {
      // We take over (partner silent), read back all ours …
      state = decideClaim(state, partnerHolds, { ...standby, nowMs: now }).state;
      state = decideClaim(state, allOurs, { ...standby, nowMs: now }).state;
      assert.equal(state.holding, true);
      // … the partner takes the routes back at its next drift run: we hold.
      const d = decideClaim(state, partnerHolds, { ...standby, nowMs: now + 1000 });
      assert.equal(d.claim, false);
      holds.push((d.state.holdUntilMs - (now + 1000)) / 1000);
      state = d.state;
      now = state.holdUntilMs;
    }
    assert.deepEqual(holds, [20, 40, 80, 160, 320, 600, 600, 600]);
  });

  test("claiming records the targets it replaces; holding is true only in sync", () => {
    const d = decideClaim(initialClaimState, { ours: 0, missing: 1, others: [{ target: "eni-a", blackhole: false }, { target: "eni-b", blackhole: true }] }, standby);
    assert.deepEqual(d.state.replaced, ["eni-a", "eni-b"]);
    assert.equal(d.state.holding, false);
  });

  test("holdMs never below 1 s nor above the cap", () => {
    assert.equal(holdMs(1, 0, 600_000), 2000);
    assert.equal(holdMs(100, 60_000, 600_000), 600_000);
  });
});
