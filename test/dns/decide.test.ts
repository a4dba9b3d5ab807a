import { test } from "node:test";
import assert from "node:assert/strict";
import {
  countVotes,
  decide,
  initialDecisionState,
  nameTarget,
  type AddressInput,
  type DecisionParams,
  type DecisionState,
  type LocalVerdict,
  type PeerVote,
} from "../../src/dns/decide.ts";

const params: DecisionParams = { minPeersAgree: 1, voteMaxAgeMs: 3000, maxChangesPerInterval: 2, changeIntervalMs: 60_000 };
const NOW = 1_000_000;
const down = (ageMs = 0): PeerVote => ({ down: true, receivedMs: NOW - ageMs });
const up = (ageMs = 0): PeerVote => ({ down: false, receivedMs: NOW - ageMs });
const input = (address: string, local: LocalVerdict, votes: Record<string, PeerVote> = {}): AddressInput => ({ address, local, votes });

/** One address, one decision from the initial state: [local, votes, min_peers_agree] → target. */
test("decide table: the target of one address from its local verdict and the fresh votes", () => {
  const rows: Array<[LocalVerdict, Record<string, PeerVote>, number, string]> = [
    ["unknown", {}, 1, "hold"],
    ["unknown", { b: down(), c: down() }, 1, "hold"],
    ["up", {}, 1, "present"],
    ["up", { b: down() }, 1, "present"], // one peer alone would not remove it (needs 1 more)
    ["up", { b: down(), c: down() }, 1, "hold"], // b and c remove it without us: don't fight them
    ["up", { b: down(), c: down(9999) }, 1, "present"], // c's vote is stale
    ["down", {}, 1, "hold"], // alone: cannot remove
    ["down", { b: up() }, 1, "hold"],
    ["down", { b: down(3001) }, 1, "hold"], // stale vote = no vote
    ["down", { b: down() }, 1, "absent"],
    ["down", { b: down(), c: up() }, 1, "absent"],
    ["down", { b: down() }, 2, "hold"],
    ["down", { b: down(), c: down() }, 2, "absent"],
    ["down", {}, 0, "absent"], // standalone
    ["up", {}, 0, "present"],
    ["up", { b: down() }, 0, "hold"], // with min 0, b removes it on its own
  ];
  for (const [local, votes, min, target] of rows) {
    const result = decide(initialDecisionState, [input("192.0.2.1", local, votes)], { ...params, minPeersAgree: min }, NOW);
    assert.equal(result.addresses[0]!.target, target, `${local} ${JSON.stringify(votes)} min ${min}: ${result.addresses[0]!.why}`);
  }
});

test("decide: a removal is remembered; it is restored on this agent's own up, and each is an event once", () => {
  let state: DecisionState = initialDecisionState;
  const step = (local: LocalVerdict, votes: Record<string, PeerVote> = {}) => {
    const result = decide(state, [input("192.0.2.1", local, votes)], params, NOW);
    state = result.state;
    return [result.addresses[0]!.target, result.events.map((e) => e.kind).join(",")];
  };
  assert.deepEqual(step("down", { b: down() }), ["absent", "remove"]);
  assert.deepEqual(step("down", { b: down() }), ["absent", ""]);
  assert.deepEqual(step("down", {}), ["absent", ""]); // peers gone: still out while it is down here
  assert.deepEqual(step("unknown", {}), ["absent", ""]); // check restarted
  assert.deepEqual(step("up", { b: down(), c: down() }), ["hold", ""]); // the others still remove it
  assert.deepEqual(step("up", { b: down() }), ["present", "restore"]);
  assert.deepEqual(step("up", {}), ["present", ""]);
  assert.deepEqual(state.removed, []);
});

test("decide: removals beyond max_changes_per_interval are held back until the window moves on; restores are not", () => {
  const addresses = ["192.0.2.1", "192.0.2.2", "192.0.2.3"];
  const all = (local: LocalVerdict, atMs = NOW) => addresses.map((a) => input(a, local, { b: { down: true, receivedMs: atMs } }));
  const first = decide(initialDecisionState, all("down"), params, NOW);
  assert.deepEqual(first.addresses.map((a) => a.target), ["absent", "absent", "hold"]);
  assert.deepEqual(first.events.map((e) => `${e.kind} ${e.address}`), ["remove 192.0.2.1", "remove 192.0.2.2", "rate_limited 192.0.2.3"]);
  assert.match(first.addresses[2]!.why, /2 removals already in the change interval \(max 2\): held back/);
  const again = decide(first.state, all("down"), params, NOW + 1000);
  assert.deepEqual(again.events, []); // reported once
  const later = decide(again.state, all("down", NOW + 60_000), params, NOW + 60_000);
  assert.deepEqual(later.addresses.map((a) => a.target), ["absent", "absent", "absent"]);
  assert.deepEqual(later.events.map((e) => e.kind), ["remove"]);
  const back = decide(later.state, addresses.map((a) => input(a, "up")), params, NOW + 60_001);
  assert.deepEqual(back.events.map((e) => e.kind), ["restore", "restore", "restore"]);
  assert.deepEqual(decide(initialDecisionState, all("down"), { ...params, maxChangesPerInterval: 0 }, NOW).addresses.map((a) => a.target), ["absent", "absent", "absent"]);
});

test("decide: an address dropped from the config is forgotten; the input state is not changed", () => {
  const state: DecisionState = { removed: ["192.0.2.9", "192.0.2.1"], removalsMs: [NOW - 70_000, NOW - 10], limited: ["192.0.2.9"] };
  const copy = structuredClone(state);
  const result = decide(state, [input("192.0.2.1", "down")], params, NOW);
  assert.deepEqual(state, copy);
  assert.deepEqual(result.state, { removed: ["192.0.2.1"], removalsMs: [NOW - 10], limited: [] });
});

test("countVotes: fresh only, a vote exactly voteMaxAgeMs old still counts", () => {
  assert.deepEqual(countVotes({ a: down(3000), b: down(3001), c: up(), d: up(-50) }, NOW, 3000), { down: 1, up: 2 });
});

test("nameTarget: a name's addresses by target, hold left out", () => {
  const result = decide(
    initialDecisionState,
    [input("192.0.2.1", "up"), input("192.0.2.2", "down", { b: down() }), input("2001:db8::1", "unknown")],
    params,
    NOW,
  );
  const byAddress = new Map(result.addresses.map((a) => [a.address, a]));
  assert.deepEqual(nameTarget(["192.0.2.1", "192.0.2.2", "2001:db8::1", "192.0.2.7"], byAddress), { present: ["192.0.2.1"], absent: ["192.0.2.2"] });
});
