import type { RolesState } from "../roles/roles.ts";
import { formatGoTime, type BridgeStatus } from "../partner/status-body.ts";

/**
 * Wall-clock times (ms since epoch) of the last change of each flag. They
 * start at the bridge's start time so `*_since` is never the zero time
 * (the Go original never sets the bridge's `up_since`).
 */
export interface SinceTimes {
  bridgeActiveMs: number;
  bridgeUpMs: number;
  tunnels: Map<string, { activeMs: number; upMs: number }>;
}

export function initialSinceTimes(tunnels: readonly string[], nowMs: number): SinceTimes {
  return {
    bridgeActiveMs: nowMs,
    bridgeUpMs: nowMs,
    tunnels: new Map(tunnels.map((t) => [t, { activeMs: nowMs, upMs: nowMs }])),
  };
}

/**
 * Record, in place, the changes between two role states (the shell owns SinceTimes). Only
 * tunnels whose entry is a new object or whose active flag moved are looked up: one event
 * changes one or two of them, and a lookup for each of 10 000 per event added up.
 */
export function updateSinceTimes(since: SinceTimes, before: RolesState, after: RolesState, nowMs: number): void {
  if (before.bridgeActive !== after.bridgeActive) since.bridgeActiveMs = nowMs;
  if (before.tunnels === after.tunnels && before.activeTunnel === after.activeTunnel) return;
  const upBefore = before.tunnels.some((t) => t.up);
  const upAfter = after.tunnels.some((t) => t.up);
  if (upBefore !== upAfter) since.bridgeUpMs = nowMs;
  after.tunnels.forEach((t, i) => {
    const old = before.tunnels[i];
    const activeMoved = (before.activeTunnel === t.name) !== (after.activeTunnel === t.name);
    if (old === t && !activeMoved) return;
    const entry = since.tunnels.get(t.name);
    if (!entry) return;
    if (old?.up !== t.up) entry.upMs = nowMs;
    if (activeMoved) entry.activeMs = nowMs;
  });
}

/** The `/status` body (docs/protocol.md §Partner status), plus our extra fields the Go client ignores. */
export function buildStatus(
  name: string,
  roles: RolesState,
  since: SinceTimes,
  extra: { partnerUp: boolean; partnerDecided: boolean; splitBrain: boolean; lastReasons: ReadonlyMap<string, string>; version: string },
): BridgeStatus {
  const interfaces: BridgeStatus["interfaces"] = {};
  for (const t of roles.tunnels) {
    const s = since.tunnels.get(t.name)!;
    interfaces[t.name] = {
      active: roles.activeTunnel === t.name,
      active_since: formatGoTime(s.activeMs),
      up: t.up,
      up_since: formatGoTime(s.upMs),
    };
  }
  return {
    name,
    role: roles.role,
    active: roles.bridgeActive,
    active_since: formatGoTime(since.bridgeActiveMs),
    up: roles.tunnels.some((t) => t.up),
    up_since: formatGoTime(since.bridgeUpMs),
    interfaces,
    protocol: 1,
    version: extra.version,
    partner_up: extra.partnerUp,
    split_brain: extra.splitBrain,
    reasons: explain(roles, extra),
  };
}

/**
 * Why the bridge holds its roles, one line per fact, for `vpnham status`
 * and the status body (the Go client ignores unknown fields).
 */
export function explain(
  roles: RolesState,
  extra: { partnerUp: boolean; partnerDecided: boolean; splitBrain: boolean; lastReasons: ReadonlyMap<string, string> },
): string[] {
  const up = roles.tunnels.some((t) => t.up);
  const partner = !extra.partnerDecided ? "undecided (waiting for enough polls)" : extra.partnerUp ? "up" : "down";
  const lines = [
    `bridge ${roles.bridgeActive ? "active" : "inactive"}: role ${roles.role}, ${up ? "up" : "down (no tunnel up)"}, partner ${partner}` +
      (extra.lastReasons.has("") ? `; last change: ${extra.lastReasons.get("")}` : ""),
  ];
  for (const t of roles.tunnels) {
    const active = roles.activeTunnel === t.name;
    const configured = t.name === roles.configuredActiveTunnel ? ", configured active" : "";
    const last = extra.lastReasons.get(t.name);
    lines.push(`tunnel ${t.name} ${active ? "active" : "inactive"}: ${t.up ? "up" : "down"}${configured}${last ? `; last change: ${last}` : ""}`);
  }
  if (extra.splitBrain) lines.push("split brain: the partner reports itself active too (can the partners reach each other?)");
  return lines;
}
