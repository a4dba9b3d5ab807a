/**
 * The role state machine of one bridge (docs/behaviour.md §Roles) as a pure function
 * (state, event) → (state, effects). Level-triggered: every event re-derives
 * the desired roles from all inputs, so a missed edge can never leave a
 * bridge stuck.
 */
import type { Role } from "./role.ts";

export type { Role };

export interface TunnelRoleInput {
  readonly name: string;
  readonly up: boolean;
  /** Whether the tunnel has had a verdict yet (an up tunnel always has). */
  readonly known: boolean;
  /** Monotonic ms when it last came up; null while down. */
  readonly upSinceMs: number | null;
}

export interface RolesState {
  readonly role: Role;
  /** Name of the tunnel configured `active`. */
  readonly configuredActiveTunnel: string;
  /** How long the configured-active tunnel must be up before it takes its role back from another up tunnel. */
  readonly preemptDelayMs: number;
  /** In configuration order: failover picks the first up tunnel. */
  readonly tunnels: readonly TunnelRoleInput[];
  readonly partnerUp: boolean;
  /**
   * Whether the partner has a verdict yet. A standby stays passive until it
   * has: otherwise every cold start of a pair would run bridge_activate on
   * the standby for the few polls it takes to see the active is up.
   */
  readonly partnerKnown: boolean;
  readonly activeTunnel: string | null;
  readonly bridgeActive: boolean;
}

export type RolesEvent =
  | { readonly type: "tunnel"; readonly name: string; readonly up: boolean; readonly nowMs: number }
  /**
   * Verdicts of several tunnels at once (up by name), judged as one change: the shell gathers
   * those of one turn of the event loop, so 10 000 tunnels coming up (or a link under all of
   * them failing) is one step, not 10 000 (docs/performance.md §10 000 tunnels).
   */
  | { readonly type: "tunnels"; readonly verdicts: ReadonlyMap<string, boolean>; readonly nowMs: number }
  | { readonly type: "partner"; readonly up: boolean; readonly nowMs: number }
  /** Re-evaluate (e.g. a preempt delay ran out). */
  | { readonly type: "tick"; readonly nowMs: number };

/** Bounded set: used as a metric label. */
export type TransitionReason =
  | "configured_active_up" // the configured-active tunnel took its role back
  | "active_tunnel_down" // failover to the first up tunnel
  | "no_active_tunnel" // a tunnel came up while none was active
  | "bridge_up" // active role: bridge has a tunnel up
  | "bridge_down" // no tunnel up
  | "partner_down" // standby role: partner judged down, we take over
  | "partner_up"; // standby role: partner back, we step down

export type RolesEffect =
  | { readonly type: "interface_deactivate"; readonly tunnel: string; readonly reason: TransitionReason }
  | { readonly type: "interface_activate"; readonly tunnel: string; readonly reason: TransitionReason }
  | { readonly type: "bridge_activate"; readonly reason: TransitionReason }
  | { readonly type: "bridge_deactivate"; readonly reason: TransitionReason }
  /** Ask the shell to send a `tick` at this monotonic time. */
  | { readonly type: "recheck"; readonly atMs: number };

export function initialRoles(options: {
  role: Role;
  tunnels: readonly string[];
  configuredActiveTunnel: string;
  preemptDelayMs?: number;
}): RolesState {
  return {
    role: options.role,
    configuredActiveTunnel: options.configuredActiveTunnel,
    preemptDelayMs: options.preemptDelayMs ?? 0,
    tunnels: options.tunnels.map((name) => ({ name, up: false, known: false, upSinceMs: null })),
    partnerUp: false,
    partnerKnown: false,
    activeTunnel: null,
    bridgeActive: false,
  };
}

export function bridgeUp(state: RolesState): boolean {
  return state.tunnels.some((t) => t.up);
}

export function step(state: RolesState, event: RolesEvent): { state: RolesState; effects: RolesEffect[] } {
  let next = state;
  if (event.type === "tunnel") {
    // One copy of the array and one new entry: unchanged tunnels keep their objects, which is
    // how the shell tells what changed (docs/performance.md §10 000 tunnels).
    const i = state.tunnels.findIndex((t) => t.name === event.name);
    const t = state.tunnels[i];
    if (t !== undefined && !(t.up === event.up && t.known)) {
      const tunnels = state.tunnels.slice();
      tunnels[i] = judged(t, event.up, event.nowMs);
      next = { ...state, tunnels };
    }
  } else if (event.type === "tunnels") {
    let tunnels: TunnelRoleInput[] | undefined;
    state.tunnels.forEach((t, i) => {
      const up = event.verdicts.get(t.name);
      if (up === undefined || (t.up === up && t.known)) return;
      tunnels ??= state.tunnels.slice();
      tunnels[i] = judged(t, up, event.nowMs);
    });
    if (tunnels) next = { ...state, tunnels };
  } else if (event.type === "partner") {
    next = { ...state, partnerUp: event.up, partnerKnown: true };
  }
  return reconcile(next, event.nowMs);
}

/** A tunnel after a verdict: known, and up since now if it just came up. */
function judged(t: TunnelRoleInput, up: boolean, nowMs: number): TunnelRoleInput {
  return { name: t.name, up, known: true, upSinceMs: t.up === up ? t.upSinceMs : up ? nowMs : null };
}

/** Derive the desired roles from the inputs and emit the transitions. */
export function reconcile(state: RolesState, nowMs: number): { state: RolesState; effects: RolesEffect[] } {
  const effects: RolesEffect[] = [];
  const { tunnel: activeTunnel, reason: tunnelReason, recheckAtMs } = desiredTunnel(state, nowMs);
  const up = bridgeUp(state);
  const bridgeActive = state.role === "active" ? up : up && state.partnerKnown && !state.partnerUp;

  // Order: the old tunnel lets go, then the bridge changes, then the new tunnel takes over.
  if (activeTunnel !== state.activeTunnel && state.activeTunnel !== null) {
    effects.push({ type: "interface_deactivate", tunnel: state.activeTunnel, reason: tunnelReason });
  }
  if (bridgeActive !== state.bridgeActive) {
    const reason: TransitionReason = !up
      ? "bridge_down"
      : state.role === "active"
        ? "bridge_up"
        : state.partnerUp
          ? "partner_up"
          : "partner_down";
    effects.push(bridgeActive ? { type: "bridge_activate", reason } : { type: "bridge_deactivate", reason });
  }
  if (activeTunnel !== state.activeTunnel && activeTunnel !== null) {
    effects.push({ type: "interface_activate", tunnel: activeTunnel, reason: tunnelReason });
  }
  if (recheckAtMs !== undefined) effects.push({ type: "recheck", atMs: recheckAtMs });

  if (activeTunnel === state.activeTunnel && bridgeActive === state.bridgeActive) return { state, effects };
  return { state: { ...state, activeTunnel, bridgeActive }, effects };
}

function desiredTunnel(
  state: RolesState,
  nowMs: number,
): { tunnel: string | null; reason: TransitionReason; recheckAtMs?: number } {
  const current = state.tunnels.find((t) => t.name === state.activeTunnel);
  const configured = state.tunnels.find((t) => t.name === state.configuredActiveTunnel);
  const currentUp = current?.up === true;
  if (configured?.up) {
    if (current === undefined || current === configured || !currentUp) {
      return { tunnel: configured.name, reason: current === undefined ? "no_active_tunnel" : "active_tunnel_down" };
    }
    // Another tunnel is active and up: reclaim once the configured one has been up long enough.
    const readyAtMs = (configured.upSinceMs ?? nowMs) + state.preemptDelayMs;
    if (nowMs >= readyAtMs) return { tunnel: configured.name, reason: "configured_active_up" };
    return { tunnel: current.name, reason: "configured_active_up", recheckAtMs: readyAtMs };
  }
  if (currentUp) return { tunnel: current!.name, reason: "active_tunnel_down" };
  // At start, wait for the configured-active tunnel's first verdict before handing the
  // role to another: else every start would activate a backup for an interval and
  // then give the role back (route churn on every boot).
  if (configured && !configured.known) return { tunnel: null, reason: "no_active_tunnel" };
  const first = state.tunnels.find((t) => t.up);
  return { tunnel: first?.name ?? null, reason: current === undefined ? "no_active_tunnel" : "active_tunnel_down" };
}
