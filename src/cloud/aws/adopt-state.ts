/**
 * The state file of `adopt_partner_routes` (docs/cloud-routes.md §Adopting the partner's routes):
 * what was learned per route table while standby, so a restart (or an activation right after
 * the partner died) still knows the partner's routes. Written atomically (temporary file + rename).
 */
import { readFileSync } from "node:fs";
import { writeFileAtomically } from "../../announce/drain-file.ts";
import type { AdoptedTable } from "./adopt.ts";

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
