/**
 * ExaBGP 4 through its named-pipe API, pure (docs/announce.md §ExaBGP): the answer of
 * `show adj-rib out` → the unicast prefixes ExaBGP announces, per neighbor; desired vs actual →
 * one `announce route` / `withdraw route` command per prefix to change. Only prefixes of the
 * allow-list (the desired list) are ever named; routes from ExaBGP's own config file or from
 * other API processes stay as they are.
 */
import type { DesiredPrefix } from "./decide.ts";
import type { FrrNetwork } from "./frr.ts";
import type { Family } from "./model.ts";
import { parseAnnouncePrefix } from "./schema.ts";

/** The read: every neighbor's Adj-RIB-Out, one line per route. */
export const exabgpReadCommand = "show adj-rib out";

export interface ExabgpActual {
  /** Every unicast prefix that at least one neighbor's Adj-RIB-Out holds. */
  readonly networks: ReadonlyMap<string, FrrNetwork>;
  /** Of those, the prefixes some neighbor of the same family lacks (one that came with a config reload). */
  readonly partial: ReadonlySet<string>;
}

/**
 * `neighbor 10.0.0.2 ipv4 unicast 192.0.2.10/32 next-hop self` (the form `show adj-rib out` prints
 * without `extensive`) → prefixes by neighbor. Other families (flow, mpls-vpn, …) and lines that
 * are not routes are skipped. A neighbor counts for a family once it holds any route of it.
 */
export function parseExabgpAdjRibOut(lines: readonly string[]): ExabgpActual {
  const holders = new Map<string, { family: Family; neighbors: Set<string> }>();
  const neighbors = new Map<Family, Set<string>>([
    [4, new Set()],
    [6, new Set()],
  ]);
  for (const line of lines) {
    const route = /^neighbor (\S+) (ipv4|ipv6) unicast (\S+)(?:\s|$)/.exec(line.trim());
    if (!route) continue;
    const family: Family = route[2] === "ipv4" ? 4 : 6;
    const parsed = parseAnnouncePrefix(route[3]!.includes("/") ? route[3]! : `${route[3]}/${family === 4 ? 32 : 128}`);
    if (!parsed.ok || parsed.value.family !== family) continue;
    neighbors.get(family)!.add(route[1]!);
    const entry = holders.get(parsed.value.prefix) ?? { family, neighbors: new Set<string>() };
    entry.neighbors.add(route[1]!);
    holders.set(parsed.value.prefix, entry);
  }
  const networks = new Map<string, FrrNetwork>();
  const partial = new Set<string>();
  for (const [prefix, { family, neighbors: held }] of holders) {
    networks.set(prefix, { family });
    if (held.size < neighbors.get(family)!.size) partial.add(prefix);
  }
  return { networks, partial };
}

/** ExaBGP sends it to every neighbor configured for the prefix's family, with our address as next hop. */
export function exabgpAnnounceCommand(prefix: string): string {
  return `announce route ${prefix} next-hop self`;
}

export function exabgpWithdrawCommand(prefix: string): string {
  return `withdraw route ${prefix}`;
}

/** An announce where no neighbor has the prefix or one lacks it; a withdraw where any has it. */
export function planExabgp(desired: readonly DesiredPrefix[], actual: ExabgpActual): string[] {
  const commands: string[] = [];
  for (const want of desired) {
    const have = actual.networks.has(want.prefix);
    if (want.announce && (!have || actual.partial.has(want.prefix))) commands.push(exabgpAnnounceCommand(want.prefix));
    else if (!want.announce && have) commands.push(exabgpWithdrawCommand(want.prefix));
  }
  return commands;
}

/** How ExaBGP ends an answer (exabgp.api.ack, on by default): `done`, `error`, or `shutdown` while it stops. */
export type ExabgpOutcome = "done" | "error" | "shutdown";

export interface ExabgpAnswer {
  readonly outcome: ExabgpOutcome;
  /** The lines before the end line. */
  readonly lines: readonly string[];
}

/** The text read from the answer pipe so far → the answer once its end line came, else undefined. */
export function parseExabgpAnswer(text: string): ExabgpAnswer | undefined {
  const lines = text.split("\n");
  // The last element is an unfinished line (or ""): only whole lines count.
  for (let i = 0; i < lines.length - 1; i++) {
    const line = lines[i]!.trim();
    if (line === "done" || line === "error" || line === "shutdown") return { outcome: line, lines: lines.slice(0, i).filter((l) => l.trim() !== "") };
  }
  return undefined;
}
