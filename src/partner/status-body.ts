import { z } from "zod";
import { ROLES, type Role } from "../roles/role.ts";

/**
 * The partner status JSON (docs/protocol.md §Partner status), as the Go vpnham v0.0.18 serves and reads it.
 * Times are RFC 3339 strings (Go's time.Time JSON); we write 9 fractional digits in UTC and
 * read anything Go can write (trimmed fractions, numeric zone offsets).
 */
export type { Role };

export interface TunnelStatus {
  active: boolean;
  active_since: string;
  up: boolean;
  up_since: string;
}

export interface BridgeStatus {
  name: string;
  /** Configured role (not state). */
  role: Role;
  active: boolean;
  active_since: string;
  up: boolean;
  up_since: string;
  interfaces: Record<string, TunnelStatus>;
  // Our additions; the Go client ignores unknown fields.
  /** Version of our status document (absent from Go partners). */
  protocol?: number;
  /** vpnham version of the sender. */
  version?: string;
  /** Whether the sender considers its own partner (us) up. */
  partner_up?: boolean;
  /** Whether the sender sees both bridges active. */
  split_brain?: boolean;
  /** Why the sender holds its current state, human-readable. */
  reasons?: string[];
}

/** Go's zero time.Time, what Go writes for a time never set. */
export const ZERO_TIME = "0001-01-01T00:00:00Z";
const zeroTimeUnixMs = -62135596800000;

const rfc3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/**
 * RFC 3339 UTC with nanoseconds, e.g. "2026-11-21T04:55:36.071341089Z"; fractional
 * milliseconds of `unixMs` become the sub-millisecond digits. null (never set) → ZERO_TIME.
 */
export function formatGoTime(unixMs: number | null): string {
  if (unixMs === null || !Number.isFinite(unixMs) || unixMs <= zeroTimeUnixMs) return ZERO_TIME;
  let seconds = Math.floor(unixMs / 1000);
  let nanos = Math.round((unixMs - seconds * 1000) * 1e6);
  if (nanos >= 1e9) {
    seconds += 1;
    nanos -= 1e9;
  }
  const iso = new Date(seconds * 1000).toISOString();
  if (iso.length !== 24) return ZERO_TIME; // year beyond 9999: not representable for Go either
  return `${iso.slice(0, 19)}.${String(nanos).padStart(9, "0")}Z`;
}

/**
 * Unix milliseconds (with sub-ms fraction) of a Go RFC 3339 time; null for Go's zero time;
 * undefined when the text is not a valid RFC 3339 time.
 */
export function parseGoTime(text: string): number | null | undefined {
  const m = rfc3339.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return undefined;
  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not map years 0..99 to 1900..1999.
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  if (date.getUTCDate() !== day) return undefined; // e.g. 02-31
  const fraction = m[7] ?? "";
  const fractionMs = fraction === "" ? 0 : Number(fraction.padEnd(9, "0")) / 1e6;
  const offsetMinutes = m[8] ? 0 : (m[9] === "-" ? -1 : 1) * (Number(m[10]) * 60 + Number(m[11]));
  const unixMs = date.getTime() + fractionMs - offsetMinutes * 60_000;
  return unixMs === zeroTimeUnixMs ? null : unixMs;
}

const goTime = z.string().refine((text) => parseGoTime(text) !== undefined, "not an RFC 3339 time");

const tunnelSchema = z.object({
  active: z.boolean(),
  active_since: goTime.default(ZERO_TIME),
  up: z.boolean(),
  up_since: goTime.default(ZERO_TIME),
});

// Fields we require are the ones decisions depend on; missing times default to Go's zero
// time (Go writes them always). Our optional extras never invalidate a body: a wrongly
// typed one is dropped, so a future partner version cannot break an older one.
const bridgeStatusSchema = z.object({
  name: z.string().min(1),
  role: z.enum(ROLES),
  active: z.boolean(),
  active_since: goTime.default(ZERO_TIME),
  up: z.boolean(),
  up_since: goTime.default(ZERO_TIME),
  interfaces: z
    .record(z.string(), tunnelSchema)
    .nullish()
    .transform((value) => value ?? {}),
  protocol: z.number().int().optional().catch(undefined),
  version: z.string().optional().catch(undefined),
  partner_up: z.boolean().optional().catch(undefined),
  split_brain: z.boolean().optional().catch(undefined),
  reasons: z.array(z.string()).optional().catch(undefined),
});

export type ParseStatusResult = { ok: true; status: BridgeStatus } | { ok: false; reason: string };

/** Parses and validates a status body. Unknown fields are allowed and dropped. */
export function parseStatusBody(text: string): ParseStatusResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: `not JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  const parsed = bridgeStatusSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join(".") : "body";
    return { ok: false, reason: `${where}: ${issue?.message ?? "invalid"}` };
  }
  return { ok: true, status: withoutUndefined(parsed.data) };
}

/** Compact JSON in Go's field order, with a trailing newline as Go's encoder writes. */
export function formatStatusBody(status: BridgeStatus): string {
  const interfaces: Record<string, TunnelStatus> = {};
  for (const [name, t] of Object.entries(status.interfaces)) {
    interfaces[name] = { active: t.active, active_since: t.active_since, up: t.up, up_since: t.up_since };
  }
  const { name, role, active, active_since, up, up_since, protocol, version, partner_up, split_brain, reasons } = status;
  return `${JSON.stringify({ name, role, active, active_since, up, up_since, interfaces, protocol, version, partner_up, split_brain, reasons })}\n`;
}

function withoutUndefined(status: BridgeStatus): BridgeStatus {
  const copy: Record<string, unknown> = { ...status };
  for (const key of Object.keys(copy)) if (copy[key] === undefined) delete copy[key];
  return copy as unknown as BridgeStatus;
}
