/**
 * The drain state on disk (docs/announce.md §Drain): JSON, mode 0600, replaced atomically
 * (write a temporary file in the same directory, fsync, rename) so a crash never leaves half a
 * file and a drain survives daemon restarts.
 */
import { mkdirSync } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { UserError } from "../util/errors.ts";
import { readRegularFileSync } from "../util/read-file.ts";
import { emptyDrainState, formatDrainState, parseDrainState, type DrainState } from "./drains.ts";

/** A state file of drains is small; anything larger is not ours. */
const maxStateBytes = 1024 * 1024;

/** Missing → no drains. Unreadable or corrupt → refused: starting without its drains would re-announce drained VIPs. */
export function loadDrainFile(path: string): DrainState {
  let text: string;
  try {
    text = readRegularFileSync(path, maxStateBytes).bytes.toString("utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return emptyDrainState;
    throw new UserError(`announce.state_file: cannot read ${path} (${code ?? (error as Error).message}); fix or remove it`);
  }
  const parsed = parseDrainState(text);
  if (!parsed.ok) throw new UserError(`announce.state_file: ${path} is ${parsed.error}; fix or remove it`);
  return parsed.value;
}

export async function saveDrainFile(path: string, state: DrainState): Promise<void> {
  try {
    await writeFileAtomically(path, formatDrainState(state), 0o600);
  } catch (error) {
    throw new Error(`announce.state_file: cannot write ${path}: ${(error as Error).message}`);
  }
}

/** Temporary file in the same directory, fsync, rename: readers see the old file or the new one, never half. */
export async function writeFileAtomically(path: string, text: string, mode: number): Promise<void> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    const file = await open(temporary, "w", mode);
    try {
      await file.writeFile(text);
      await file.chmod(mode);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
