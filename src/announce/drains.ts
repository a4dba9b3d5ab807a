/**
 * Manual drains (vip_mgmt's job), pure (docs/announce.md §Drain): what a drain target names,
 * and the drain state as a value. A drain withdraws whatever health says and holds across
 * health changes and restarts (drain-file.ts keeps it on disk).
 */
import { parseIp } from "../config/address.ts";
import type { AnnounceConfig } from "./model.ts";
import { parseAnnouncePrefix } from "./schema.ts";

export interface DrainEntry {
  readonly reason?: string;
  /** Unix ms. */
  readonly sinceMs: number;
  /** The DNS name the drain was asked for, when it was one. */
  readonly via?: string;
}

/** Service name → drain, prefix → drain. Entries for names no longer configured are kept (a reload may bring them back). */
export interface DrainState {
  readonly services: Readonly<Record<string, DrainEntry>>;
  readonly prefixes: Readonly<Record<string, DrainEntry>>;
}

export const emptyDrainState: DrainState = { services: {}, prefixes: {} };

export type DrainTarget =
  | { readonly kind: "service"; readonly service: string }
  | { readonly kind: "prefixes"; readonly prefixes: readonly string[] }
  /** Resolve it (A and AAAA), then map each address with {@link prefixesOfAddress}. */
  | { readonly kind: "dns_name"; readonly name: string }
  | { readonly kind: "unknown"; readonly error: string };

const dnsName = /^(?=.{1,253}\.?$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)*\.?$/;

function bits(text: string): { family: 4 | 6; bytes: number[] } | undefined {
  return parseIp(text);
}

/** Whether `address` lies in `prefix` (canonical network text). */
export function prefixContains(prefix: string, address: string): boolean {
  const [network, lengthText] = prefix.split("/");
  const net = bits(network ?? "");
  const ip = bits(address);
  if (!net || !ip || net.family !== ip.family) return false;
  let left = Number(lengthText);
  for (let i = 0; i < net.bytes.length && left > 0; i++, left -= 8) {
    const mask = left >= 8 ? 0xff : (0xff << (8 - left)) & 0xff;
    if (((net.bytes[i] ?? 0) & mask) !== ((ip.bytes[i] ?? 0) & mask)) return false;
  }
  return true;
}

/** Every configured prefix, in config order, with its service. */
export function allPrefixes(config: AnnounceConfig): { service: string; prefix: string }[] {
  return Object.entries(config.services).flatMap(([service, s]) => s.prefixes.map((p) => ({ service, prefix: p.prefix })));
}

/** The configured prefixes an address stands for: its host prefix if configured, else every configured prefix holding it. */
export function prefixesOfAddress(config: AnnounceConfig, address: string): string[] {
  const ip = parseIp(address);
  if (!ip) return [];
  const host = parseAnnouncePrefix(`${address}/${ip.family === 4 ? 32 : 128}`);
  const all = allPrefixes(config).map((p) => p.prefix);
  if (host.ok && all.includes(host.value.prefix)) return [host.value.prefix];
  return all.filter((prefix) => prefixContains(prefix, address));
}

/** A service name, a configured prefix (or an address in one), or a DNS name; else why not. */
export function resolveDrainTarget(config: AnnounceConfig, target: string): DrainTarget {
  const services = Object.keys(config.services);
  if (services.includes(target)) return { kind: "service", service: target };
  const configured = allPrefixes(config).map((p) => p.prefix);
  if (target.includes("/")) {
    const parsed = parseAnnouncePrefix(target);
    if (!parsed.ok) return { kind: "unknown", error: `${JSON.stringify(target)}: ${parsed.error}` };
    if (!configured.includes(parsed.value.prefix)) return { kind: "unknown", error: `${parsed.value.prefix} is not a configured prefix (have ${configured.join(", ")})` };
    return { kind: "prefixes", prefixes: [parsed.value.prefix] };
  }
  if (parseIp(target)) {
    const prefixes = prefixesOfAddress(config, target);
    if (prefixes.length === 0) return { kind: "unknown", error: `${target} is in no configured prefix (have ${configured.join(", ")})` };
    return { kind: "prefixes", prefixes };
  }
  if (dnsName.test(target) && target.includes(".")) return { kind: "dns_name", name: target.replace(/\.$/, "") };
  return { kind: "unknown", error: `${JSON.stringify(target)} is neither a service (${services.join(", ")}), a configured prefix, an address nor a DNS name` };
}

/** The prefixes a DNS name's addresses stand for, and the addresses that stand for none (they are refused). */
export function prefixesOfAddresses(config: AnnounceConfig, addresses: readonly string[]): { prefixes: string[]; unmatched: string[] } {
  const prefixes = new Set<string>();
  const unmatched: string[] = [];
  for (const address of addresses) {
    const found = prefixesOfAddress(config, address);
    if (found.length === 0) unmatched.push(address);
    for (const prefix of found) prefixes.add(prefix);
  }
  return { prefixes: [...prefixes], unmatched };
}

type Resolved = { readonly kind: "service"; readonly service: string } | { readonly kind: "prefixes"; readonly prefixes: readonly string[] };

export function drain(state: DrainState, target: Resolved, entry: DrainEntry): DrainState {
  if (target.kind === "service") return { ...state, services: { ...state.services, [target.service]: entry } };
  return { ...state, prefixes: { ...state.prefixes, ...Object.fromEntries(target.prefixes.map((p) => [p, entry])) } };
}

/** Lifts the drains the target names; `lifted` lists them ("service web", "prefix 192.0.2.10/32"). */
export function undrain(state: DrainState, target: Resolved): { state: DrainState; lifted: string[] } {
  if (target.kind === "service") {
    if (!Object.hasOwn(state.services, target.service)) return { state, lifted: [] };
    const { [target.service]: _, ...services } = state.services;
    return { state: { ...state, services }, lifted: [`service ${target.service}`] };
  }
  const prefixes = { ...state.prefixes };
  const lifted: string[] = [];
  for (const prefix of target.prefixes) {
    if (!Object.hasOwn(prefixes, prefix)) continue;
    delete prefixes[prefix];
    lifted.push(`prefix ${prefix}`);
  }
  return { state: { ...state, prefixes }, lifted };
}

/** Is this prefix of this service drained, and by which entry. */
export function drainOf(state: DrainState, service: string, prefix: string): (DrainEntry & { by: "service" | "prefix" }) | undefined {
  if (Object.hasOwn(state.services, service)) return { ...state.services[service]!, by: "service" };
  if (Object.hasOwn(state.prefixes, prefix)) return { ...state.prefixes[prefix]!, by: "prefix" };
  return undefined;
}

/** A state file's JSON → a drain state, or why not (never trusts its shape). */
export function parseDrainState(text: string): { ok: true; value: DrainState } | { ok: false; error: string } {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return { ok: false, error: `not JSON: ${(error as Error).message}` };
  }
  const isData = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
  if (!isData(data) || data.version !== 1) return { ok: false, error: "not a vpnham announce state (version 1)" };
  const entries = (value: unknown, what: string): Record<string, DrainEntry> | string => {
    if (value === undefined) return {};
    if (!isData(value)) return `${what} is not a mapping`;
    const out: Record<string, DrainEntry> = {};
    for (const [key, entry] of Object.entries(value)) {
      if (!isData(entry) || typeof entry.sinceMs !== "number") return `${what}.${key} is not a drain`;
      out[key] = {
        sinceMs: entry.sinceMs,
        ...(typeof entry.reason === "string" ? { reason: entry.reason } : {}),
        ...(typeof entry.via === "string" ? { via: entry.via } : {}),
      };
    }
    return out;
  };
  const services = entries(data.services, "services");
  const prefixes = entries(data.prefixes, "prefixes");
  if (typeof services === "string") return { ok: false, error: services };
  if (typeof prefixes === "string") return { ok: false, error: prefixes };
  return { ok: true, value: { services, prefixes } };
}

export function formatDrainState(state: DrainState): string {
  return `${JSON.stringify({ version: 1, services: state.services, prefixes: state.prefixes }, null, 2)}\n`;
}
