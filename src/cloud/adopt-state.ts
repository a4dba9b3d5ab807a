/**
 * What `adopt_partner_routes` knows, for any cloud: learned per table while standby (adopt.ts
 * decides what a read teaches) and kept in a state file, so a restart (or an activation right
 * after the partner died) still knows the partner's routes. Written atomically (temporary file +
 * rename), only when something changed. See docs/cloud-routes.md §Adopting the partner's routes.
 */
import { readFileSync } from "node:fs";
import { writeFileAtomically } from "../announce/drain-file.ts";
import { parseCidr } from "../config/address.ts";
import { errorMessage } from "../util/errors.ts";
import type { Destination } from "./aws/plan.ts";
import { adoptable, learnAdopted, type AdoptedTable, type HopTable } from "./adopt.ts";
import { defaultAdoptStateFile } from "./schema.ts";

export { defaultAdoptStateFile };

/** By table: AWS route table id, GCP network name, Azure route table name. */
export type AdoptedState = Record<string, AdoptedTable>;

/** What the file held, and what was dropped from it (one line each). */
export interface ParsedAdoptedState {
  readonly state: AdoptedState;
  readonly invalid: readonly string[];
}

const isStrings = (value: unknown): value is string[] => Array.isArray(value) && value.every((v) => typeof v === "string");

/**
 * Parse the file's text; a file that is no JSON state is empty (learning starts again, nothing
 * reported: a missing or half-written file), a malformed table or a destination that is no CIDR
 * is dropped and named in `invalid` (a hand edit: it would fail the table's loop at every
 * activation). Destinations come back in canonical text.
 */
export function parseAdoptedState(text: string): ParsedAdoptedState {
  const state: AdoptedState = {};
  const invalid: string[] = [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { state, invalid };
  }
  const tables = (parsed as { tables?: unknown } | null)?.tables;
  if (typeof tables !== "object" || tables === null) return { state, invalid };
  for (const [table, value] of Object.entries(tables)) {
    const { partners, destinations } = (value ?? {}) as Record<string, unknown>;
    if (!isStrings(partners) || !isStrings(destinations)) {
      invalid.push(`${table}: not {"partners": [...], "destinations": [...]}; dropped`);
      continue;
    }
    const good = new Set<string>();
    for (const destination of destinations) {
      const cidr = parseCidr(destination);
      if (cidr.ok) good.add(cidr.value.text);
      else invalid.push(`${table}: ${JSON.stringify(destination)} is no CIDR (${cidr.error}); dropped`);
    }
    state[table] = { partners, destinations: [...good].sort() };
  }
  return { state, invalid };
}

export function formatAdoptedState(state: AdoptedState): string {
  return `${JSON.stringify({ version: 1, tables: state }, null, 2)}\n`;
}

/** A missing or unreadable file is an empty state. */
export function loadAdoptedState(path: string): ParsedAdoptedState {
  try {
    return parseAdoptedState(readFileSync(path, "utf8"));
  } catch {
    return { state: {}, invalid: [] };
  }
}

export async function saveAdoptedState(path: string, state: AdoptedState): Promise<void> {
  await writeFileAtomically(path, formatAdoptedState(state), 0o600);
}

/** One read a standby makes: its name (for errors) and the tables it saw, by key. */
export interface LearnSource {
  readonly name: string;
  read(signal: AbortSignal): Promise<ReadonlyArray<readonly [string, HopTable]>>;
}

/** Why something was not learned (vpnham_cloud_adopt_ignored_total's `reason`). */
export type AdoptIgnored = "ambiguous_partner" | "invalid_entry";

export interface AdopterOptions {
  /** Every bridge's destinations of this daemon: never adopted. */
  readonly reserved?: readonly Destination[];
  /** Told each read refused (`ambiguous_partner`) and each stored entry dropped (`invalid_entry`, at load). */
  readonly report?: (reason: AdoptIgnored, message: string) => void;
}

export interface Adopter {
  /** What is known for one table, less what may not be adopted (undefined: nothing). */
  table(key: string): AdoptedTable | undefined;
  /** A copy of everything known (status). */
  known(): AdoptedState;
  /** Reads every source, learns from each table, saves the file if anything changed; throws naming what failed or was refused. */
  learn(sources: readonly LearnSource[], signal: AbortSignal): Promise<void>;
}

/** The state loaded from `stateFile` (missing or malformed: empty; bad entries dropped and reported), learned into for `configured`. */
export function createAdopter(stateFile: string, configured: readonly Destination[], options: AdopterOptions = {}): Adopter {
  const reserved = options.reserved ?? [];
  const skip = new Set([...configured, ...reserved].map((d) => d.cidr));
  const loaded = loadAdoptedState(stateFile);
  for (const line of loaded.invalid) options.report?.("invalid_entry", `adopt_state_file ${stateFile}: ${line}`);
  const adopted: AdoptedState = loaded.state;
  let unsaved = false; // a failed write is tried again at the next read
  return {
    table(key) {
      const known = adopted[key];
      return known && { partners: known.partners, destinations: known.destinations.filter((cidr) => adoptable(cidr, skip)) };
    },
    known: () => ({ ...adopted }),
    async learn(sources, signal) {
      const failures: string[] = [];
      for (const source of sources) {
        try {
          for (const [key, hops] of await source.read(signal)) {
            const { adopted: next, ambiguous } = learnAdopted(configured, hops, adopted[key], reserved);
            if (ambiguous) {
              options.report?.("ambiguous_partner", key);
              failures.push(`${key}: more than one next hop for our destinations (${ambiguous.join(", ")}); not learned from this read`);
            }
            if (next && JSON.stringify(next) !== JSON.stringify(adopted[key])) {
              adopted[key] = next;
              unsaved = true;
            }
          }
        } catch (error) {
          failures.push(`${source.name}: ${errorMessage(error)}`);
        }
      }
      if (unsaved) {
        try {
          await saveAdoptedState(stateFile, adopted);
          unsaved = false;
        } catch (error) {
          failures.push(`adopt_state_file: cannot write ${stateFile}: ${errorMessage(error)}`);
        }
      }
      if (failures.length > 0) throw new Error(`learning the partner's routes: ${failures.join("; ")}`);
    },
  };
}
