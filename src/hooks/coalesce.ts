/**
 * Which queued hook runs are still worth running: the pure decision behind the bounded,
 * coalescing hook queue (docs/hardening.md, "Hooks under flapping input").
 *
 * A target is what a hook sets: the bridge (bridge_activate / bridge_deactivate) or one tunnel
 * (interface_activate / interface_deactivate). Hooks set a state; they are idempotent. So of the
 * runs of one target that have not started, only the last transition counts, and only if it
 * differs from the state of the target's last started run (running or finished). A running hook
 * is never part of the queue, so coalescing never kills it.
 */
import type { HookEvent, HookName } from "./types.ts";

/** One run waiting in the queue (not started yet). */
export type QueuedRun = {
  event: HookEvent;
  /** A reapply re-run of an active target, not a transition. */
  reapply: boolean;
  /** targetOf(event). */
  target: string;
  /** The target's activation epoch when queued (the scheduler's, for stale reapply). */
  epoch: number;
};

/**
 * What the target's last started run set: "unknown" after a run that failed or timed out
 * (the host may be half-way). A target nothing has run for yet is "inactive": vpnham starts
 * with every bridge and tunnel inactive and runs no hook for that.
 */
export type TargetState = "active" | "inactive" | "unknown";

export type DropReason = "coalesced" | "overflow";
export type DroppedRun<R extends QueuedRun = QueuedRun> = { run: R; reason: DropReason };
export type Coalesced<R extends QueuedRun = QueuedRun> = { queue: R[]; dropped: DroppedRun<R>[] };

/** "bridge", or "tunnel:<name>" for interface hooks. */
export function targetOf(event: HookEvent): string {
  return event.hook.startsWith("bridge_") ? "bridge" : `tunnel:${event.tunnel ?? ""}`;
}

/** The state a hook sets. */
export function stateSetBy(hook: HookName): "active" | "inactive" {
  return hook === "bridge_activate" || hook === "interface_activate" ? "active" : "inactive";
}

/**
 * The queue after `incoming` arrives, and the runs it drops.
 *
 * - A transition drops every queued run of its target (they are superseded), then is itself
 *   dropped when the target's last started run already set the state it asks for (an activate
 *   and a deactivate that have not started cancel out); else it joins the end of the queue,
 *   the place of the latest transition. So the queue holds at most one run per target, and
 *   the order of the surviving transitions is the order in which they happened.
 * - interface_activate also drops queued reapply runs of other tunnels: one tunnel is active.
 * - A reapply is dropped when its target already has a queued run.
 * - Beyond maxQueued runs the oldest are dropped ("overflow"), reapply runs before transitions.
 *   With one run per target this happens only with more targets than maxQueued.
 */
export function coalesce<R extends QueuedRun>(
  queue: readonly R[],
  incoming: R,
  applied: ReadonlyMap<string, TargetState>,
  maxQueued: number,
): Coalesced<R> {
  const dropped: DroppedRun<R>[] = [];
  const kept: R[] = [];
  if (incoming.reapply) {
    if (queue.some((run) => run.target === incoming.target)) return { queue: [...queue], dropped: [{ run: incoming, reason: "coalesced" }] };
    kept.push(...queue, incoming);
  } else {
    const otherTunnelsEnd = incoming.event.hook === "interface_activate";
    for (const run of queue) {
      const superseded = run.target === incoming.target || (otherTunnelsEnd && run.reapply && run.target.startsWith("tunnel:"));
      if (superseded) dropped.push({ run, reason: "coalesced" });
      else kept.push(run);
    }
    const last = applied.get(incoming.target) ?? "inactive";
    if (last === stateSetBy(incoming.event.hook)) dropped.push({ run: incoming, reason: "coalesced" });
    else kept.push(incoming);
  }
  const limit = Math.max(1, maxQueued);
  while (kept.length > limit) {
    const reapplyAt = kept.findIndex((run) => run.reapply);
    const [run] = kept.splice(reapplyAt >= 0 ? reapplyAt : 0, 1);
    if (run !== undefined) dropped.push({ run, reason: "overflow" });
  }
  return { queue: kept, dropped };
}
