/**
 * Services whose prefixes come from a DNS name, pure (docs/announce.md §DNS names). The name's
 * A/AAAA addresses become /32 and /128 prefixes of the service, beside its static ones; the
 * allow-list is their union. A failed or empty answer keeps the last good set (a DNS hiccup
 * never withdraws); an address that leaves the answer is withdrawn and stays in the allow-list
 * until a backend read taken after the withdraw shows it gone.
 */
import { parseIp } from "../config/address.ts";
import type { PrefixDecision } from "./decide.ts";
import type { AnnounceConfig, AnnouncePrefix } from "./model.ts";
import { parseAnnouncePrefix } from "./schema.ts";

export interface NameState {
  /** Host prefixes of the last good answer, sorted. */
  readonly prefixes: readonly string[];
  /** Prefixes that left the answer → when (monotonic ms); withdrawn until a later read shows them gone. */
  readonly leaving: Readonly<Record<string, number>>;
  /** Failed or empty answers in a row. */
  readonly failures: number;
  readonly lastError?: string;
}

export const initialNameState: NameState = { prefixes: [], leaving: {}, failures: 0 };

export type Answer = { readonly ok: true; readonly addresses: readonly string[] } | { readonly ok: false; readonly error: string };

export interface NameStep {
  readonly state: NameState;
  readonly added: readonly string[];
  readonly removed: readonly string[];
  /** Why the last good set was kept (failure or empty answer); undefined when the answer was used. */
  readonly kept?: string;
}

/** An address → its host prefix ("192.0.2.10/32"), or undefined. */
export function hostPrefix(address: string): AnnouncePrefix | undefined {
  const ip = parseIp(address);
  if (!ip) return undefined;
  const parsed = parseAnnouncePrefix(`${address}/${ip.family === 4 ? 32 : 128}`);
  return parsed.ok ? parsed.value : undefined;
}

export function nameStep(state: NameState, answer: Answer, nowMs: number): NameStep {
  const prefixes = answer.ok ? [...new Set(answer.addresses.flatMap((a) => hostPrefix(a)?.prefix ?? []))].sort() : [];
  if (!answer.ok || prefixes.length === 0) {
    const error = answer.ok ? "empty answer" : answer.error;
    return { state: { ...state, failures: state.failures + 1, lastError: error }, added: [], removed: [], kept: error };
  }
  const now = new Set(prefixes);
  const before = new Set(state.prefixes);
  const added = prefixes.filter((p) => !before.has(p));
  const removed = state.prefixes.filter((p) => !now.has(p));
  const leaving: Record<string, number> = {};
  for (const [p, since] of Object.entries(state.leaving)) if (!now.has(p)) leaving[p] = since;
  for (const p of removed) leaving[p] = nowMs;
  return { state: { prefixes, leaving, failures: 0 }, added, removed };
}

/** Drops the leaving prefixes a backend read started after their withdraw shows absent. */
export function settleLeaving(state: NameState, read: { startedMs: number; networks: ReadonlySet<string> } | undefined): NameState {
  if (!read) return state;
  const leaving = Object.fromEntries(Object.entries(state.leaving).filter(([p, since]) => read.startedMs <= since || read.networks.has(p)));
  return Object.keys(leaving).length === Object.keys(state.leaving).length ? state : { ...state, leaving };
}

export interface Effective {
  /** The configuration with every service's prefixes: static, resolved, leaving. */
  readonly config: AnnounceConfig;
  /** Prefixes to withdraw whatever health says (they left their name's answer). */
  readonly leaving: ReadonlySet<string>;
  /** Resolved prefixes skipped because another service has them. */
  readonly conflicts: readonly string[];
}

/** Static prefixes win, then services in config order; a prefix belongs to one service only. */
export function effectiveConfig(config: AnnounceConfig, names: ReadonlyMap<string, NameState>): Effective {
  const owner = new Map<string, string>();
  for (const [service, spec] of Object.entries(config.services)) for (const p of spec.prefixes) owner.set(p.prefix, service);
  const conflicts: string[] = [];
  const leaving = new Set<string>();
  const services: Record<string, AnnounceConfig["services"][string]> = {};
  for (const [service, spec] of Object.entries(config.services)) {
    const state = names.get(service);
    if (!spec.dnsName || !state) {
      services[service] = spec;
      continue;
    }
    const extra: AnnouncePrefix[] = [];
    const take = (prefix: string, isLeaving: boolean) => {
      const other = owner.get(prefix);
      if (other === service) return;
      if (other !== undefined) {
        if (!isLeaving) conflicts.push(`${prefix} of ${spec.dnsName} (service ${service}) is already a prefix of service ${other}`);
        return;
      }
      const parsed = hostPrefix(prefix.split("/")[0]!);
      if (!parsed) return;
      owner.set(prefix, service);
      extra.push(spec.routeMap === undefined ? parsed : { ...parsed, routeMap: spec.routeMap });
      if (isLeaving) leaving.add(prefix);
    };
    for (const p of state.prefixes) take(p, false);
    for (const p of Object.keys(state.leaving)) take(p, true);
    services[service] = { ...spec, prefixes: [...spec.prefixes, ...extra] };
  }
  return { config: { ...config, services }, leaving, conflicts };
}

/** Leaving prefixes are withdrawn, whatever health or damping say. */
export function withdrawLeaving(decisions: readonly PrefixDecision[], leaving: ReadonlySet<string>): PrefixDecision[] {
  return decisions.map((d) => (leaving.has(d.prefix.prefix) && d.intent !== "withdraw" ? { ...d, intent: "withdraw" } : d));
}
