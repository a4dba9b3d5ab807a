/**
 * What `adopt_partner_routes` knows, for any cloud: learned per table while standby (adopt.ts
 * decides what a read teaches) and kept in a state file, so a restart (or an activation right
 * after the partner died) still knows the partner's routes. Written atomically (temporary file +
 * rename), only when something changed. See docs/cloud-routes.md §Adopting the partner's routes.
 */
import { readFileSync } from "node:fs";
import { writeFileAtomically } from "../announce/drain-file.ts";
import { errorMessage } from "../util/errors.ts";
import type { Destination } from "./aws/plan.ts";
import { learnAdopted, type AdoptedTable, type HopTable } from "./adopt.ts";

/** By table: AWS route table id, GCP network name, Azure route table name. */
export type AdoptedState = Record<string, AdoptedTable>;

const isStrings = (value: unknown): value is string[] => Array.isArray(value) && value.every((v) => typeof v === "string");

/** Parse the file's text; anything malformed is dropped (learning starts again). */
export function parseAdoptedState(text: string): AdoptedState {
  const state: AdoptedState = {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return state;
  }
  const tables = (parsed as { tables?: unknown } | null)?.tables;
  if (typeof tables !== "object" || tables === null) return state;
  for (const [table, value] of Object.entries(tables)) {
    const { partners, destinations } = (value ?? {}) as Record<string, unknown>;
    if (isStrings(partners) && isStrings(destinations)) state[table] = { partners, destinations };
  }
  return state;
}

export function formatAdoptedState(state: AdoptedState): string {
  return `${JSON.stringify({ version: 1, tables: state }, null, 2)}\n`;
}

/** A missing file is an empty state. */
export function loadAdoptedState(path: string): AdoptedState {
  try {
    return parseAdoptedState(readFileSync(path, "utf8"));
  } catch {
    return {};
  }
}

export async function saveAdoptedState(path: string, state: AdoptedState): Promise<void> {
  await writeFileAtomically(path, formatAdoptedState(state), 0o600);
}

/** `/var/lib/vpnham/cloud-<bridge>-<cloud>.json`: one file per bridge and cloud. */
export function defaultAdoptStateFile(bridge: string, cloud: string): string {
  return `/var/lib/vpnham/cloud-${bridge}-${cloud}.json`;
}

/** One read a standby makes: its name (for errors) and the tables it saw, by key. */
export interface LearnSource {
  readonly name: string;
  read(signal: AbortSignal): Promise<ReadonlyArray<readonly [string, HopTable]>>;
}

export interface Adopter {
  /** What is known for one table (undefined: nothing). */
  table(key: string): AdoptedTable | undefined;
  /** A copy of everything known (status). */
  known(): AdoptedState;
  /** Reads every source, learns from each table, saves the file if anything changed; throws naming what failed. */
  learn(sources: readonly LearnSource[], signal: AbortSignal): Promise<void>;
}

/** The state loaded from `stateFile` (missing or malformed: empty), learned into for `configured`. */
export function createAdopter(stateFile: string, configured: readonly Destination[]): Adopter {
  const adopted = loadAdoptedState(stateFile);
  let unsaved = false; // a failed write is tried again at the next read
  return {
    table: (key) => adopted[key],
    known: () => ({ ...adopted }),
    async learn(sources, signal) {
      const failures: string[] = [];
      for (const source of sources) {
        try {
          for (const [key, hops] of await source.read(signal)) {
            const next = learnAdopted(configured, hops, adopted[key]);
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
