/**
 * Zod builders for config values. Each attaches the metadata the reference table is made from
 * (`type`, `default`, `description`), and each error message names the value and what was
 * expected (the key path is prepended by issues.ts).
 *
 * Go compatibility: where Go treats a zero value as "use the default" (thresholds, most
 * durations, metrics numbers) so do we; YAML `null` counts as absent (stripped before parsing).
 */
import { z } from "zod";
import { parseCidr, parseHostPort, type Cidr, type HostPort } from "./address.ts";
import { formatDurationMs, parseDurationMs } from "./duration.ts";
import { placeholderProblems, type HookName } from "./placeholders.ts";
import { ROLES } from "../roles/role.ts";

export type FieldMeta = { description: string; type?: string; default?: string; keyName?: string };

type Ctx = z.RefinementCtx;

/** A value as shown in an error message (secrets never reach this). */
export function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (value === null || value === undefined) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return String(value);
}

function fail(ctx: Ctx, value: unknown, message: string): never {
  ctx.addIssue({ code: "custom", message, input: value });
  return z.NEVER;
}

/** Message for a required value that is absent, or for one of the wrong kind. */
function wrongKind(value: unknown, expected: string): string {
  if (value === undefined || value === null) return `${value === null ? "empty" : "missing"} (expected ${expected})`;
  return `${show(value)} is not ${expected}`;
}

type DurationOptions = {
  meta: FieldMeta;
  /** Smallest allowed value in ms; 0 allows zero. */
  minMs: number;
  /** Go semantics: an explicit zero means "use the default". */
  zeroIsDefault?: boolean;
};

function durationBase(options: DurationOptions, defaultMs?: number) {
  return z.unknown().transform((value, ctx): number => {
    if (typeof value === "number" && value !== 0) {
      return fail(ctx, value, `${value} is a bare number, not a duration: use a unit, e.g. ${value}s`);
    }
    if (typeof value !== "string" && value !== 0) {
      return fail(ctx, value, `${show(value)} is not a duration (expected e.g. 1s, 250ms, 1m30s)`);
    }
    let ms: number;
    try {
      ms = value === 0 ? 0 : parseDurationMs(value as string);
    } catch (error) {
      return fail(ctx, value, `${show(value)}: ${(error as Error).message}`);
    }
    if (ms === 0 && options.zeroIsDefault && defaultMs !== undefined) return defaultMs;
    if (ms < 0) return fail(ctx, value, `${show(value)} is negative`);
    if (ms < options.minMs) {
      return fail(ctx, value, `${show(value)} is too short (minimum ${formatDurationMs(options.minMs)})`);
    }
    return ms;
  });
}

/** Go duration string → milliseconds; absent → `default`. */
export function duration(options: DurationOptions & { default: string }) {
  return durationBase(options, parseDurationMs(options.default))
    .prefault(options.default)
    .meta({ type: "duration", default: options.default, ...options.meta });
}

/** A duration that may be absent (undefined); its default is the caller's to apply. */
export function optionalDuration(options: DurationOptions & { default: string }) {
  return durationBase(options).optional().meta({ type: "duration", default: options.default, ...options.meta });
}

/** Integer in `min..max`; absent or 0 → default (as Go). */
export function integer(options: { meta: FieldMeta; default: number; min: number; max: number }) {
  return z
    .unknown()
    .transform((value, ctx): number => {
      if (typeof value !== "number" || !Number.isInteger(value)) {
        return fail(ctx, value, `${show(value)} is not a whole number (expected ${options.min}..${options.max})`);
      }
      if (value === 0) return options.default;
      if (value < options.min || value > options.max) {
        return fail(ctx, value, `${value} is out of range ${options.min}..${options.max}`);
      }
      return value;
    })
    .prefault(0)
    .meta({ type: `integer ${options.min}..${options.max}`, default: String(options.default), ...options.meta });
}

export const threshold = (description: string, defaultValue: number) =>
  integer({ meta: { description }, default: defaultValue, min: 2, max: 100 });

export const role = (description: string) =>
  z.enum(ROLES).meta({ type: "active | standby", description });

/** `ip:port` / `[ipv6]:port`. `default` is used when absent or "" (as Go). */
export function hostPort(meta: FieldMeta, defaultText?: string) {
  const base = z.unknown().transform((value, ctx): HostPort => {
    if (typeof value !== "string") return fail(ctx, value, wrongKind(value, "an address (ip:port)"));
    if (value === "" && defaultText !== undefined) value = defaultText;
    const parsed = parseHostPort(value as string);
    return parsed.ok ? parsed.value : fail(ctx, value, `${show(value)}: ${parsed.error}`);
  });
  const withMeta = { type: "ip:port", ...meta, ...(defaultText ? { default: defaultText } : {}) };
  return (defaultText === undefined ? base : base.prefault(defaultText)).meta(withMeta);
}

export function cidr(meta: FieldMeta) {
  return z
    .unknown()
    .transform((value, ctx): Cidr => {
      if (typeof value !== "string") return fail(ctx, value, wrongKind(value, "a CIDR, e.g. 10.1.0.0/16"));
      const parsed = parseCidr(value);
      return parsed.ok ? parsed.value : fail(ctx, value, `${show(value)}: ${parsed.error}`);
    })
    .meta({ type: "CIDR", ...meta });
}

export function httpUrl(meta: FieldMeta) {
  return z
    .unknown()
    .transform((value, ctx): string => {
      if (typeof value !== "string") return fail(ctx, value, wrongKind(value, "an http(s) URL, e.g. http://10.0.0.3:8080/"));
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        return fail(ctx, value, `${show(value)} is not a URL (expected http://ip:port/)`);
      }
      if (url.protocol !== "http:" && url.protocol !== "https:") {
        return fail(ctx, value, `${show(value)} is not an http(s) URL`);
      }
      if (url.hostname === "") return fail(ctx, value, `${show(value)} has no host`);
      return value;
    })
    .meta({ type: "http(s) URL", ...meta });
}

/** A network interface name as Linux accepts it (existence is only a warning, later). */
export function interfaceNameProblem(name: string): string | undefined {
  if (name === "") return "interface name is empty";
  if (new TextEncoder().encode(name).length > 15) return `interface name ${show(name)} is longer than 15 bytes`;
  if (/[\s/]/.test(name)) return `interface name ${show(name)} contains "/" or white space`;
  return undefined;
}

export function interfaceName(meta: FieldMeta) {
  return z
    .unknown()
    .transform((value, ctx): string => {
      if (typeof value !== "string") return fail(ctx, value, wrongKind(value, "an interface name"));
      const problem = interfaceNameProblem(value);
      return problem ? fail(ctx, value, problem) : value;
    })
    .meta({ type: "interface name", ...meta });
}

/** Key schema for maps keyed by interface name. */
export const interfaceNameKey = z.string().superRefine((name, ctx) => {
  const problem = interfaceNameProblem(name);
  if (problem) ctx.addIssue({ code: "custom", message: problem, input: name });
});

export function probeLocation(meta: FieldMeta) {
  return z
    .unknown()
    .transform((value, ctx): string => {
      if (typeof value !== "string") return fail(ctx, value, `${show(value)} is not a string`);
      const bytes = new TextEncoder().encode(value).length;
      if (bytes > 36) return fail(ctx, value, `${show(value)} is ${bytes} bytes long (max 36 bytes UTF-8)`);
      if (value.includes("\0")) return fail(ctx, value, "must not contain NUL characters");
      return value;
    })
    .prefault("")
    .meta({ type: "string (≤ 36 bytes)", default: '""', ...meta });
}

/**
 * A hook's commands: a list of argv lists, run without a shell. Scalars are taken as text
 * (Go's YAML decodes `["sleep", 15]` into strings too); placeholders must be known to the hook.
 */
export function commands(hook: HookName, meta: FieldMeta) {
  const argvElement = z.unknown().transform((value, ctx): string => {
    if (typeof value === "number" || typeof value === "boolean") value = String(value);
    if (typeof value !== "string") {
      return fail(ctx, value, `${show(value)} is not a string (each command is a list of argv strings)`);
    }
    for (const problem of placeholderProblems(hook, value)) ctx.addIssue({ code: "custom", message: problem, input: value });
    return value;
  });
  const command = z
    .array(argvElement, { error: (issue) => `${show(issue.input)} is not a command: write a list of argv strings, e.g. ["sh", "-c", "…"]` })
    .min(1, { error: "an empty command cannot run" });
  return z
    .array(command, { error: (issue) => `${show(issue.input)} is not a list of commands, e.g. [["ip", "route", "replace", "\${bridge_peer_cidr}", "dev", "eth1"]]` })
    .meta({ type: "list of argv lists", ...meta });
}

export function stringList<T extends z.ZodType>(element: T, meta: FieldMeta) {
  return z.array(element).default([]).meta({ default: "[]", ...meta });
}
