/**
 * What each prefix should be, pure (docs/announce.md §Decisions): health → damping → drains.
 *
 * - drained (its service or itself) → withdraw, whatever health says;
 * - health never known (checks warming up) → hold: the routing daemon keeps what it has;
 * - else the damped health: announce or withdraw.
 *
 * Only "announce" and "withdraw" reach a backend ({@link desiredOf}); a held prefix is left alone.
 */
import { dampStep, initialDampState, type DampState } from "./damping.ts";
import { drainOf, type DrainEntry, type DrainState } from "./drains.ts";
import type { ServiceHealth } from "./health.ts";
import type { AnnounceConfig, AnnouncePrefix } from "./model.ts";

export type Intent = "announce" | "withdraw" | "hold";

/** One prefix as a backend is asked to have it. */
export interface DesiredPrefix extends AnnouncePrefix {
  readonly announce: boolean;
}

export interface PrefixDecision {
  readonly service: string;
  readonly prefix: AnnouncePrefix;
  readonly intent: Intent;
  /** What health alone, damped, says (undefined: never known). */
  readonly healthy?: boolean;
  readonly drained?: DrainEntry & { by: "service" | "prefix" };
  /** Damping holds a change back until then. */
  readonly heldUntilMs?: number;
}

export interface EvaluationInput {
  readonly config: AnnounceConfig;
  /** By service; a missing service counts as unknown health. */
  readonly health: ReadonlyMap<string, ServiceHealth>;
  readonly drains: DrainState;
  /** By prefix. */
  readonly damp: ReadonlyMap<string, DampState>;
  readonly nowMs: number;
}

export interface Evaluation {
  readonly decisions: readonly PrefixDecision[];
  readonly damp: ReadonlyMap<string, DampState>;
}

export function evaluate(input: EvaluationInput): Evaluation {
  const decisions: PrefixDecision[] = [];
  const damp = new Map<string, DampState>();
  for (const [service, spec] of Object.entries(input.config.services)) {
    const want = input.health.get(service)?.healthy;
    for (const prefix of spec.prefixes) {
      const step = dampStep(input.damp.get(prefix.prefix) ?? initialDampState, want, input.nowMs, input.config.damping);
      damp.set(prefix.prefix, step.state);
      const drained = drainOf(input.drains, service, prefix.prefix);
      const intent: Intent = drained ? "withdraw" : step.announced === undefined ? "hold" : step.announced ? "announce" : "withdraw";
      decisions.push({
        service,
        prefix,
        intent,
        ...(step.announced === undefined ? {} : { healthy: step.announced }),
        ...(drained ? { drained } : {}),
        ...(step.heldUntilMs === undefined ? {} : { heldUntilMs: step.heldUntilMs }),
      });
    }
  }
  return { decisions, damp };
}

/** The backends' goal: every prefix not held, in config order. */
export function desiredOf(decisions: readonly PrefixDecision[]): DesiredPrefix[] {
  return decisions.filter((d) => d.intent !== "hold").map((d) => ({ ...d.prefix, announce: d.intent === "announce" }));
}
