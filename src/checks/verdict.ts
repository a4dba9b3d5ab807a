/**
 * A check's verdict from its samples, pure (docs/checks.md §Verdicts): the shared hysteresis of
 * src/monitor/hysteresis.ts plus what status shows (the last failure). Probing lives in the
 * probe modules; the runtime feeds each sample through {@link checkStep}.
 */
import { hysteresisSample, initialHysteresis, type HysteresisChange, type HysteresisState } from "../monitor/hysteresis.ts";

/** Why a probe was a bad sample; the `reason` label of vpnham_check_failures_total. */
export const FAILURE_REASONS = [
  "timeout", // no answer within the check's timeout
  "refused", // tcp/http: connection refused
  "connect", // tcp/http: another connection or TLS error
  "status", // http: status code not expected
  "body", // http: body did not match
  "no_reply", // icmp: ping got no reply
  "exit", // exec/icmp: non-zero exit status
  "signal", // exec: killed by a signal
  "spawn", // exec/icmp: the command could not start
  "read", // ipvs: the file could not be read
  "not_found", // ipvs: the virtual service is not listed
  "servers", // ipvs: fewer real servers with weight > 0 than min_servers
  "inactive", // bridge_active: the bridge is not active
  "unknown_bridge", // bridge_active: no such bridge is running
  "internal", // a bug: the probe threw
] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

/** One probe's outcome. `detail` is for logs and status only (never a metric label). */
export type Sample = { readonly ok: true } | { readonly ok: false; readonly reason: FailureReason; readonly detail: string };

export interface CheckState {
  readonly health: HysteresisState;
  /** The newest sample's failure, cleared by a good sample. */
  readonly lastError?: string;
  readonly lastReason?: FailureReason;
}

export function initialCheckState(thresholdDown: number, thresholdUp: number): CheckState {
  return { health: initialHysteresis(thresholdDown, thresholdUp) };
}

/** (state, sample) → (state, changed?): `changed` on the first verdict and on every flip. */
export function checkStep(state: CheckState, sample: Sample): { state: CheckState; changed?: HysteresisChange } {
  const next = hysteresisSample(state.health, sample.ok);
  const health = next.state;
  const newState: CheckState = sample.ok ? { health } : { health, lastError: `${sample.reason}: ${sample.detail}`, lastReason: sample.reason };
  return next.changed === undefined ? { state: newState } : { state: newState, changed: next.changed };
}

/** What status() reports per check. */
export type CheckStatus = { up: boolean; decided: boolean; lastError?: string };

export function statusOf(state: CheckState): CheckStatus {
  const { up, decided } = state.health;
  return state.lastError === undefined ? { up, decided } : { up, decided, lastError: state.lastError };
}
