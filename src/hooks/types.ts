/**
 * Shapes of the hook runner. Hook names and hook settings are the config
 * model's (one vocabulary); results and reports are defined here.
 */
export { hookNames, type HookName } from "./names.ts";
export type { HookConfig, Reapply } from "../config/index.ts";
import type { HookName } from "./names.ts";

/** What happened to one command. */
export type CommandResult = {
  argv: string[];
  /** Exit status; null when killed by a signal or never started. */
  exitCode: number | null;
  /** Signal that ended the process (e.g. "SIGTERM"), else null. */
  signal: string | null;
  /** The command ran past its timeout and its process group was killed. */
  timedOut: boolean;
  /** The caller's AbortSignal fired and the process group was killed. */
  aborted?: boolean;
  durationMs: number;
  /** First maxOutputBytes of each stream (UTF-8, lossy at the cut). */
  stdout: string;
  stderr: string;
  /** Some output was dropped because it exceeded maxOutputBytes. */
  truncated: boolean;
  /** The command never ran: spawn failed (ENOENT, EACCES…), or placeholders failed. */
  error?: string;
};

/** A transition that asks for a hook run. */
export type HookEvent = { hook: HookName; tunnel?: string; reason?: string };

/** One run of one hook (all its commands), handed to the lead for metrics and logs. */
export type HookRunReport = {
  event: HookEvent;
  /** Per-process increasing number, also given to the commands as VPNHAM_SEQUENCE. */
  sequence: number;
  /** This run is a reapply re-run, not a transition. */
  reapply: boolean;
  dryRun: boolean;
  results: CommandResult[];
  /** Every command exited 0 (always true for a dry run). */
  ok: boolean;
  durationMs: number;
};

/** A command succeeded: started, not killed, exit status 0. */
export function commandOk(result: CommandResult): boolean {
  return result.error === undefined && !result.timedOut && !result.aborted && result.exitCode === 0;
}
