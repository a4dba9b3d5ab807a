/**
 * A service's health from the check engine's verdicts, pure (docs/announce.md §Health).
 * `undefined` means "not known yet": a prefix whose health is unknown is left as the routing
 * daemon has it, so a vpnham restart never withdraws a healthy VIP while its checks warm up.
 */
import type { CheckStatus } from "../checks/verdict.ts";

export type Verdict = boolean | undefined;

/** A check's verdict: undefined while undecided or not running (a reload in progress). */
export function checkVerdict(status: CheckStatus | undefined): Verdict {
  return status === undefined || !status.decided ? undefined : status.up;
}

/**
 * vip_watchdog's hysteresis on the IPVS real-server count, from two checks of the engine:
 * `above` is up while more than withdraw_at_or_below servers are left, `enough` while at least
 * announce_at_or_above are. Announced, the service stays up until `above` goes down; withdrawn,
 * it comes back only when `enough` is up. In between, a service not decided yet stays undecided.
 */
export function ipvsVerdict(previous: Verdict, above: Verdict, enough: Verdict): Verdict {
  if (previous === true) return above === false ? false : true;
  if (enough === true) return true;
  if (previous === false) return false;
  return above === false ? false : undefined;
}

export interface ServiceHealthInput {
  /** The service's checks by name, in config order. */
  readonly checks: ReadonlyArray<readonly [name: string, verdict: Verdict]>;
  /** Absent when the service has no `ipvs:`. */
  readonly ipvs?: Verdict;
}

export interface ServiceHealth {
  readonly healthy: Verdict;
  /** Why not healthy, or what is still unknown: "check web is down", "ipvs: too few real servers". */
  readonly reasons: readonly string[];
}

/** All checks up and the IPVS rule satisfied (anycastd's rule); any down → down; else unknown. */
export function serviceHealth(input: ServiceHealthInput): ServiceHealth {
  const down: string[] = [];
  const unknown: string[] = [];
  for (const [name, verdict] of input.checks) {
    if (verdict === false) down.push(`check ${name} is down`);
    else if (verdict === undefined) unknown.push(`check ${name} is not decided yet`);
  }
  if (input.ipvs === false) down.push("ipvs: too few real servers");
  else if ("ipvs" in input && input.ipvs === undefined) unknown.push("ipvs: not decided yet");
  if (down.length > 0) return { healthy: false, reasons: down };
  if (unknown.length > 0) return { healthy: undefined, reasons: unknown };
  return { healthy: true, reasons: [] };
}
