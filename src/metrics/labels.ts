/** Label values known up front, so their series can exist at 0 from the start. */

/** Hook names used as the `hook` label: the config's vocabulary (docs/behaviour.md §Hooks). */
export { hookNames as HOOK_NAMES, type HookName } from "../hooks/names.ts";
/** `vpnham_hook_runs_total{outcome}` values. */
export const HOOK_OUTCOMES = ["ok", "failed", "timeout", "dry_run"] as const;
export type HookOutcome = (typeof HOOK_OUTCOMES)[number];
/** `vpnham_hook_runs_dropped_total{reason}` values (src/hooks/coalesce.ts). */
export const HOOK_DROP_REASONS = ["coalesced", "overflow"] as const;
/** `vpnham_errors_total{scope}` values known up front (Go's); `job_<hook>` is added per hook. */
export const ERROR_SCOPES = ["peer_probing", "partner_polling", "status_listener", "system"] as const;
/** `vpnham_config_reloads_total{outcome}` values. */
export const RELOAD_OUTCOMES = ["ok", "failed"] as const;
