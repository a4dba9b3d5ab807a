/**
 * The body of `GET /dns/verdicts` (docs/dns-failover.md §Peers): the answering agent's name and
 * its decided verdict per address. An address it has no verdict on yet is left out (no vote).
 *
 *   {"agent":"b","verdicts":{"192.0.2.1":"up","2001:db8::1":"down"}}
 *
 * Parsing is strict and bounded: a body that does not have exactly this shape is refused whole.
 */
import { parseAddress } from "./names.ts";

export const VERDICTS_PATH = "/dns/verdicts";
export const MAX_VERDICTS_BODY_BYTES = 256 * 1024;
const MAX_ADDRESSES = 10_000;

export interface VerdictsBody {
  readonly agent: string;
  /** Canonical address → down? */
  readonly verdicts: ReadonlyMap<string, boolean>;
}

export function formatVerdictsBody(agent: string, verdicts: Iterable<readonly [string, "up" | "down"]>): string {
  return JSON.stringify({ agent, verdicts: Object.fromEntries(verdicts) });
}

export type ParsedVerdicts = { ok: true; body: VerdictsBody } | { ok: false; reason: string };

export function parseVerdictsBody(text: string): ParsedVerdicts {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return { ok: false, reason: "not JSON" };
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) return { ok: false, reason: "not a JSON object" };
  const { agent, verdicts, ...rest } = data as Record<string, unknown>;
  if (Object.keys(rest).length > 0) return { ok: false, reason: `unknown key ${JSON.stringify(Object.keys(rest)[0]!.slice(0, 40))}` };
  if (typeof agent !== "string" || agent.length === 0 || agent.length > 64) return { ok: false, reason: "agent is not a name" };
  if (typeof verdicts !== "object" || verdicts === null || Array.isArray(verdicts)) return { ok: false, reason: "verdicts is not an object" };
  const entries = Object.entries(verdicts as Record<string, unknown>);
  if (entries.length > MAX_ADDRESSES) return { ok: false, reason: `more than ${MAX_ADDRESSES} verdicts` };
  const result = new Map<string, boolean>();
  for (const [key, value] of entries) {
    const address = parseAddress(key);
    if (!address.ok) return { ok: false, reason: `${JSON.stringify(key.slice(0, 60))} is not an address` };
    if (value !== "up" && value !== "down") return { ok: false, reason: `verdict of ${address.value.address} is not "up" or "down"` };
    result.set(address.value.address, value === "down");
  }
  return { ok: true, body: { agent, verdicts: result } };
}
