/**
 * BIRD 2 through an include file and birdc, pure (docs/announce.md §BIRD): vpnham owns one file
 * holding two static protocols (`<protocol>4`, `<protocol>6`) of blackhole routes, which the BGP
 * protocols of bird.conf export. What BIRD runs is read back with `show route protocol …`; a
 * change rewrites the file and runs `birdc configure`.
 */
import type { DesiredPrefix } from "./decide.ts";
import type { BirdBackend, Family } from "./model.ts";
import { parseAnnouncePrefix } from "./schema.ts";

export function birdProtocolName(backend: BirdBackend, family: Family): string {
  return `${backend.protocol}${family}`;
}

export function birdcBase(backend: BirdBackend): string[] {
  return [...backend.birdc, ...(backend.socket === undefined ? [] : ["-s", backend.socket])];
}

export function birdcShowArgv(backend: BirdBackend, family: Family): string[] {
  return [...birdcBase(backend), "show", "route", "protocol", birdProtocolName(backend, family)];
}

export function birdcConfigureArgv(backend: BirdBackend): string[] {
  return [...birdcBase(backend), "configure"];
}

/** birdc's answer when the protocol is not configured (the include file not loaded yet). */
export const birdUnknownProtocol = /expecting CF_SYM_KNOWN|unknown protocol/i;

/** `show route protocol X` → the prefixes it lists (first column of route lines). */
export function parseBirdRoutes(text: string, family: Family): string[] {
  const prefixes: string[] = [];
  for (const line of text.split("\n")) {
    const match = /^([0-9A-Fa-f.:]+\/\d+)\s/.exec(line);
    if (!match) continue;
    const parsed = parseAnnouncePrefix(match[1]!);
    if (parsed.ok && parsed.value.family === family && !prefixes.includes(parsed.value.prefix)) prefixes.push(parsed.value.prefix);
  }
  return prefixes;
}

/**
 * The routes BIRD should run: what it runs now, minus the withdrawn, plus the announced. Routes
 * of prefixes we were not asked about (held, or not ours) stay as they are.
 */
export function planBirdRoutes(desired: readonly DesiredPrefix[], actual: ReadonlySet<string>): string[] | undefined {
  const next = new Set(actual);
  for (const want of desired) {
    if (want.announce) next.add(want.prefix);
    else next.delete(want.prefix);
  }
  const same = next.size === actual.size && [...next].every((p) => actual.has(p));
  return same ? undefined : [...next];
}

/** The include file: both protocols always (bird.conf's filters may name them), routes sorted. */
export function renderBirdInclude(backend: BirdBackend, prefixes: readonly string[]): string {
  const block = (family: Family) => {
    const routes = prefixes
      .filter((p) => (p.includes(":") ? 6 : 4) === family)
      .sort()
      .map((p) => `  route ${p} blackhole;\n`)
      .join("");
    return `protocol static ${birdProtocolName(backend, family)} {\n  ipv${family};\n${routes}}\n`;
  };
  return `# Written by vpnham (announce:, docs/announce.md); rewritten on every change, do not edit.\n${block(4)}${block(6)}`;
}
