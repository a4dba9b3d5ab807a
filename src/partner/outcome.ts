import type { BridgeStatus } from "./status-body.ts";

/** Why a partner poll did not count as a good sample (also the `outcome` label values). */
export const POLL_FAILURE_REASONS = [
  "timeout",
  "connect",
  "http_status",
  "invalid_body",
  "too_large",
  "name_mismatch",
  "role_mismatch",
  "auth",
] as const;

export type PollFailureReason = (typeof POLL_FAILURE_REASONS)[number];

/** Result of one poll. `ok` means HTTP 200 with a valid body from the right partner. */
export type PollOutcome =
  | { ok: true; status: BridgeStatus }
  | { ok: false; reason: PollFailureReason; detail: string };

/** Label value for `vpnham_partner_polls_total{outcome}`. */
export function pollOutcomeLabel(outcome: PollOutcome): "ok" | PollFailureReason {
  return outcome.ok ? "ok" : outcome.reason;
}
