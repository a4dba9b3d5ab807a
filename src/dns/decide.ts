/**
 * The DNS failover decision, pure (docs/dns-failover.md §Decision): per address, this agent's own
 * verdict and the fresh votes of its peers give a *target* — keep it in DNS (`present`), take it
 * out (`absent`), or leave DNS as it is (`hold`) — and the targets of a name's addresses give the
 * record set wanted for that name. The shell (hub.ts) feeds it and carries the result out through
 * the reconcile engine; the plan against what DNS holds is plan.ts.
 */

/** This agent's verdict on an address, from the check engine. */
export type LocalVerdict = "up" | "down" | "unknown";

/** A peer's newest verdict on an address, with the time we received it (our clock). */
export interface PeerVote {
  readonly down: boolean;
  readonly receivedMs: number;
}

export interface AddressInput {
  readonly address: string;
  readonly local: LocalVerdict;
  /** Peer name → its newest vote on this address; a peer without one is absent. */
  readonly votes: Readonly<Record<string, PeerVote>>;
}

export interface DecisionParams {
  /** Peers that must judge an address down too before this agent removes it; 0 = act alone. */
  readonly minPeersAgree: number;
  /** A vote older than this is no vote. */
  readonly voteMaxAgeMs: number;
  /** Removals allowed within changeIntervalMs; 0 = no limit. */
  readonly maxChangesPerInterval: number;
  readonly changeIntervalMs: number;
}

export type Target = "present" | "absent" | "hold";

/** What the decision remembers between calls. */
export interface DecisionState {
  /** Addresses this agent decided to take out and has not restored since, in decision order. */
  readonly removed: readonly string[];
  /** When each removal within the last change interval was decided. */
  readonly removalsMs: readonly number[];
  /** Addresses whose removal is being held back by the rate limit (reported once). */
  readonly limited: readonly string[];
}

export const initialDecisionState: DecisionState = { removed: [], removalsMs: [], limited: [] };

export interface AddressDecision {
  readonly address: string;
  readonly local: LocalVerdict;
  /** Fresh peer votes saying down / up. */
  readonly votesDown: number;
  readonly votesUp: number;
  readonly target: Target;
  /** In words, for logs and status. */
  readonly why: string;
}

export type DecisionEvent =
  | { readonly kind: "remove"; readonly address: string; readonly why: string }
  | { readonly kind: "restore"; readonly address: string; readonly why: string }
  | { readonly kind: "rate_limited"; readonly address: string; readonly why: string };

export interface Decision {
  readonly state: DecisionState;
  readonly addresses: readonly AddressDecision[];
  /** Changes of target since the previous state (for logs and counters). */
  readonly events: readonly DecisionEvent[];
}

/** Fresh votes on one address: received within voteMaxAgeMs (a vote from the future counts as fresh). */
export function countVotes(votes: Readonly<Record<string, PeerVote>>, nowMs: number, voteMaxAgeMs: number): { down: number; up: number } {
  let down = 0;
  let up = 0;
  for (const vote of Object.values(votes)) {
    if (nowMs - vote.receivedMs > voteMaxAgeMs) continue;
    if (vote.down) down++;
    else up++;
  }
  return { down, up };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/**
 * One decision over every address, in input order (which is also the order removals take the
 * rate limit's budget). The rules (docs/dns-failover.md §Decision):
 * - down here and at least minPeersAgree fresh peer votes say down → absent (a removal, rate limited);
 * - an address removed before stays absent while it is not up here;
 * - up here → present, unless minPeersAgree + 1 peers say down: they would remove it without us,
 *   so we hold rather than put it back against them (agents converge instead of fighting);
 * - otherwise (no verdict yet, or down without agreement) → hold: DNS stays as it is.
 */
export function decide(state: DecisionState, inputs: readonly AddressInput[], params: DecisionParams, nowMs: number): Decision {
  const known = new Set(inputs.map((input) => input.address));
  const removed = new Set(state.removed.filter((address) => known.has(address)));
  const wasLimited = new Set(state.limited.filter((address) => known.has(address)));
  const limited = new Set<string>();
  const removalsMs = state.removalsMs.filter((ms) => nowMs - ms < params.changeIntervalMs && ms <= nowMs);
  const events: DecisionEvent[] = [];
  const addresses = inputs.map((input): AddressDecision => {
    const { address, local } = input;
    const votes = countVotes(input.votes, nowMs, params.voteMaxAgeMs);
    const row = (target: Target, why: string): AddressDecision => ({ address, local, votesDown: votes.down, votesUp: votes.up, target, why });
    const need = params.minPeersAgree;
    if (local === "up") {
      if (votes.down >= need + 1) {
        return row("hold", `up here, but ${plural(votes.down, "peer")} judge it down (enough to remove it without us): left as it is`);
      }
      if (removed.delete(address)) events.push({ kind: "restore", address, why: "up here again" });
      return row("present", "up here");
    }
    if (removed.has(address)) return row("absent", local === "down" ? "removed, still down here" : "removed, no verdict here yet");
    if (local === "unknown") return row("hold", "no verdict here yet: left as it is");
    if (votes.down < need) {
      return row("hold", `down here, but only ${plural(votes.down, "fresh peer vote")} agree (need ${need}): left as it is`);
    }
    const agreed = need === 0 ? "down here" : `down here and by ${plural(votes.down, "peer")} (need ${need})`;
    if (params.maxChangesPerInterval > 0 && removalsMs.length >= params.maxChangesPerInterval) {
      limited.add(address);
      const why = `${agreed}, but ${plural(removalsMs.length, "removal")} already in the change interval (max ${params.maxChangesPerInterval}): held back`;
      if (!wasLimited.has(address)) events.push({ kind: "rate_limited", address, why });
      return row("hold", why);
    }
    removed.add(address);
    removalsMs.push(nowMs);
    events.push({ kind: "remove", address, why: agreed });
    return row("absent", agreed);
  });
  return { state: { removed: [...removed], removalsMs, limited: [...limited] }, addresses, events };
}

/** The record set wanted for one name: its addresses by target (hold = not listed: left as DNS has it). */
export interface NameTarget {
  readonly present: readonly string[];
  readonly absent: readonly string[];
}

export function nameTarget(addresses: readonly string[], decisions: ReadonlyMap<string, AddressDecision>): NameTarget {
  const present: string[] = [];
  const absent: string[] = [];
  for (const address of addresses) {
    const target = decisions.get(address)?.target ?? "hold";
    if (target === "present") present.push(address);
    else if (target === "absent") absent.push(address);
  }
  return { present, absent };
}
