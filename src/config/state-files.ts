/**
 * One writer per state file (docs/cloud-routes.md §Adopting the partner's routes): the files
 * components keep across restarts — each cloud's `adopt_state_file`, `announce.state_file` —
 * are written atomically through a temporary file beside them, so two writers of one path would
 * overwrite each other's state and race on that temporary file. Checked on the normalized config
 * (paths resolved, defaults filled in).
 */
import { resolve } from "node:path";
import { adoptStateFiles } from "../cloud/schema.ts";
import type { Config } from "./model.ts";

/** Every state file the config makes a component write, with the key that names it. */
export function stateFiles(config: Config): Array<{ key: string; file: string }> {
  const announce = config.announce ? [{ key: "announce.state_file", file: config.announce.stateFile }] : [];
  return [...announce, ...config.bridges.flatMap((bridge) => adoptStateFiles(bridge.name, bridge.hooks.bridge_activate.cloud ?? {}))];
}

/** A problem for each file an earlier key names too. */
export function stateFileProblems(config: Config): string[] {
  const first = new Map<string, string>();
  const problems: string[] = [];
  for (const { key, file } of stateFiles(config)) {
    const path = resolve(file);
    const other = first.get(path);
    if (other === undefined) first.set(path, key);
    else problems.push(`${key}: ${path} is also ${other}'s; each state file needs its own path (two writers would overwrite each other)`);
  }
  return problems;
}
