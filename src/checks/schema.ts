/**
 * The `checks:` section (docs/checks.md): check name → kind, target and timing. One flat mapping
 * per check so the reference table lists every key; which keys a kind needs or refuses is checked
 * in the transform, which also yields the model the runtime uses ({@link CheckSpec}).
 */
import { z } from "zod";
import type { HostPort } from "../config/address.ts";
import { formatDurationMs } from "../config/duration.ts";
import { duration, hostPort, httpUrl, show, threshold } from "../config/fields.ts";
import {
  checkNameProblem,
  defaultExpectedStatus,
  defaultStatusRanges,
  parseIpvsService,
  parsePingHost,
  parseStatusRanges,
  type IpvsService,
  type StatusRange,
} from "./targets.ts";

export const CHECK_KINDS = ["tcp", "http", "https", "icmp", "exec", "ipvs", "bridge_active"] as const;
export type CheckKind = (typeof CHECK_KINDS)[number];

export const checkDefaults = {
  interval: "5s",
  timeout: "2s",
  thresholdDown: 3,
  thresholdUp: 2,
  maxBodyBytes: 64 * 1024,
  minServers: 1,
  ipvsPath: "/proc/net/ip_vs",
} as const;

type Common = { intervalMs: number; timeoutMs: number; thresholdDown: number; thresholdUp: number };
export type HttpTarget = {
  kind: "http" | "https";
  url: string;
  expectedStatus: StatusRange[];
  bodyMatch?: string;
  bodyRegex?: string;
  maxBodyBytes: number;
  tlsSkipVerify: boolean;
};
export type CheckTarget =
  | { kind: "tcp"; address: HostPort }
  | HttpTarget
  | { kind: "icmp"; host: string }
  | { kind: "exec"; command: string[] }
  | { kind: "ipvs"; service: IpvsService; minServers: number; path: string }
  | { kind: "bridge_active"; bridge: string };
/** One check as the runtime sees it. */
export type CheckSpec = Common & CheckTarget;
/** The section: check name → spec, in YAML order. */
export type ChecksConfig = Record<string, CheckSpec>;

type Ctx = z.RefinementCtx;
const fail = (ctx: Ctx, value: unknown, message: string): never => {
  ctx.addIssue({ code: "custom", message, input: value });
  return z.NEVER;
};

const text = (type: string, description: string, parse?: (value: string) => { ok: true; value: string } | { ok: false; error: string }) =>
  z
    .unknown()
    .transform((value, ctx): string => {
      if (value === "") return fail(ctx, value, `empty (expected ${type === "string" ? "a string" : `a ${type}`})`);
      if (typeof value !== "string") return fail(ctx, value, `${show(value)} is not ${type === "string" ? "a string" : `a ${type}`}`);
      if (!parse) return value;
      const parsed = parse(value);
      return parsed.ok ? parsed.value : fail(ctx, value, parsed.error);
    })
    .optional()
    .meta({ type, description });

/** A whole number in min..max, absent when not written (so a kind can refuse it); the default applies later. */
const count = (description: string, defaultValue: number, min: number, max: number) =>
  z
    .unknown()
    .transform((value, ctx): number => {
      if (typeof value !== "number" || !Number.isInteger(value)) return fail(ctx, value, `${show(value)} is not a whole number (expected ${min}..${max})`);
      return value >= min && value <= max ? value : fail(ctx, value, `${value} is out of range ${min}..${max}`);
    })
    .optional()
    .meta({ type: `integer ${min}..${max}`, default: String(defaultValue), description });

const argv = z
  .array(
    z.unknown().transform((value, ctx): string => {
      if (typeof value === "number" || typeof value === "boolean") return String(value);
      return typeof value === "string" ? value : fail(ctx, value, `${show(value)} is not a string (the command is a list of argv strings)`);
    }),
    { error: (issue) => `${show(issue.input)} is not a command: write a list of argv strings, e.g. ["/usr/local/bin/check", "--quiet"]` },
  )
  .min(1, { error: "an empty command cannot run" })
  .optional()
  .meta({ type: "list of strings", description: "exec: argv run without a shell, in its own process group; exit status 0 = good" });

const checkFields = z.strictObject({
  kind: z.enum(CHECK_KINDS).meta({ type: CHECK_KINDS.join(" | "), description: "what the check probes" }),
  interval: duration({ minMs: 100, zeroIsDefault: true, default: checkDefaults.interval, meta: { description: "time between the starts of two probes" } }),
  timeout: duration({
    minMs: 10,
    zeroIsDefault: true,
    default: checkDefaults.timeout,
    meta: { description: "time limit of one probe (must be shorter than interval); a probe past it is a bad sample" },
  }),
  threshold_down: threshold("consecutive bad samples that make the check down", checkDefaults.thresholdDown),
  threshold_up: threshold("consecutive good samples that make the check up", checkDefaults.thresholdUp),
  address: hostPort({ description: "tcp: ip:port to connect to; good when the connection is accepted in time" }).optional(),
  url: httpUrl({ description: "http/https: the URL to GET (the scheme must match the kind)" }).optional(),
  expected_status: z
    .unknown()
    .transform((value, ctx): StatusRange[] => {
      const parsed = parseStatusRanges(value);
      return parsed.ok ? parsed.value : fail(ctx, value, parsed.error);
    })
    .optional()
    .meta({ type: "status, range or list", default: defaultExpectedStatus, description: "http/https: accepted status codes, e.g. 200, 200-399, [200, 204]" }),
  body_match: text("string", "http/https: the first max_body_bytes of the body must contain this text"),
  body_regex: text("regular expression", "http/https: the first max_body_bytes of the body must match this JavaScript regular expression", (value) => {
    try {
      new RegExp(value);
      return { ok: true, value };
    } catch (error) {
      return { ok: false, error: `${show(value)} is not a regular expression: ${(error as Error).message}` };
    }
  }),
  max_body_bytes: count("http/https: bytes of the body read for body_match/body_regex; the rest is never read", checkDefaults.maxBodyBytes, 1, 16 * 1024 * 1024),
  tls_skip_verify: z.boolean().optional().meta({ type: "boolean", default: "false", description: "https: accept any server certificate" }),
  host: text("IP address or host name", "icmp: the host to ping (`ping -c 1 -W <timeout> -n <host>`)", parsePingHost),
  command: argv,
  service: text("IPVS service", 'ipvs: the virtual service, "TCP 10.0.0.100:80", "UDP [2001:db8::1]:53" or "FWM 5"', (value) => {
    const parsed = parseIpvsService(value);
    return parsed.ok ? { ok: true, value } : parsed;
  }),
  min_servers: count("ipvs: real servers with weight > 0 needed for a good sample", checkDefaults.minServers, 1, 100_000),
  path: text("path", "ipvs: the file to read (tests point it elsewhere)").meta({ default: checkDefaults.ipvsPath }),
  bridge: text("bridge name", "bridge_active: good while this daemon's bridge of that name is active"),
});

type RawCheck = z.output<typeof checkFields>;

/** Keys each kind uses besides the common ones; any other target key is refused. */
const kindKeys: Record<CheckKind, { required: Array<keyof RawCheck>; optional: Array<keyof RawCheck> }> = {
  tcp: { required: ["address"], optional: [] },
  http: { required: ["url"], optional: ["expected_status", "body_match", "body_regex", "max_body_bytes"] },
  https: { required: ["url"], optional: ["expected_status", "body_match", "body_regex", "max_body_bytes", "tls_skip_verify"] },
  icmp: { required: ["host"], optional: [] },
  exec: { required: ["command"], optional: [] },
  ipvs: { required: ["service"], optional: ["min_servers", "path"] },
  bridge_active: { required: ["bridge"], optional: [] },
};
const commonKeys = new Set(["kind", "interval", "timeout", "threshold_down", "threshold_up"]);

const checkSchema = checkFields
  .transform((raw, ctx): CheckSpec => {
    const present = new Set(Object.keys(raw).filter((key) => (raw as Record<string, unknown>)[key] !== undefined));
    const keys = kindKeys[raw.kind];
    const problem = (key: string, message: string) => ctx.addIssue({ code: "custom", path: [key], message });
    for (const key of keys.required) if (!present.has(key)) problem(key, `missing (kind ${raw.kind} needs it)`);
    const allowed = new Set<string>([...commonKeys, ...keys.required, ...keys.optional]);
    for (const key of present) if (!allowed.has(key)) problem(key, `not used by kind ${raw.kind}`);
    if (raw.timeout >= raw.interval) {
      problem("timeout", `${formatDurationMs(raw.timeout)} is not shorter than interval ${formatDurationMs(raw.interval)}`);
    }
    const common: Common = { intervalMs: raw.interval, timeoutMs: raw.timeout, thresholdDown: raw.threshold_down, thresholdUp: raw.threshold_up };
    switch (raw.kind) {
      case "tcp":
        return { ...common, kind: "tcp", address: raw.address! };
      case "http":
      case "https": {
        const url = raw.url ?? "";
        if (url !== "" && !url.toLowerCase().startsWith(`${raw.kind}:`)) problem("url", `${show(url)} is not an ${raw.kind}:// URL (kind ${raw.kind})`);
        return {
          ...common,
          kind: raw.kind,
          url,
          expectedStatus: raw.expected_status ?? [...defaultStatusRanges],
          ...(raw.body_match === undefined ? {} : { bodyMatch: raw.body_match }),
          ...(raw.body_regex === undefined ? {} : { bodyRegex: raw.body_regex }),
          maxBodyBytes: raw.max_body_bytes ?? checkDefaults.maxBodyBytes,
          tlsSkipVerify: raw.tls_skip_verify ?? false,
        };
      }
      case "icmp":
        return { ...common, kind: "icmp", host: raw.host! };
      case "exec":
        return { ...common, kind: "exec", command: raw.command! };
      case "ipvs": {
        const parsed = parseIpvsService(raw.service ?? "");
        return { ...common, kind: "ipvs", service: parsed.ok ? parsed.value : { protocol: "FWM", fwmark: 0 }, minServers: raw.min_servers ?? checkDefaults.minServers, path: raw.path ?? checkDefaults.ipvsPath };
      }
      case "bridge_active":
        return { ...common, kind: "bridge_active", bridge: raw.bridge! };
    }
  })
  .meta({ type: "mapping", description: "one check: a kind, its target, interval, timeout and thresholds" });

/** `checks:`: check name → check. Attached to the top-level schema in src/config/schema.ts. */
export const checksSchema = z
  .record(
    z.string().superRefine((name, ctx) => {
      const problem = checkNameProblem(name);
      if (problem) ctx.addIssue({ code: "custom", message: problem, input: name });
    }),
    checkSchema,
  )
  .meta({ type: "map", keyName: "check", description: "health checks (tcp, http(s), icmp, exec, ipvs, bridge_active) used by other jobs; see docs/checks.md" });

/** Problems across sections (raw YAML data, read defensively): bridge_active must name a bridge. */
export function checksCrossCheck(raw: unknown): string[] {
  const isData = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
  if (!isData(raw) || !isData(raw.checks)) return [];
  const bridges = isData(raw.bridges) ? Object.keys(raw.bridges) : [];
  const problems: string[] = [];
  for (const [name, check] of Object.entries(raw.checks)) {
    if (!isData(check) || check.kind !== "bridge_active" || typeof check.bridge !== "string") continue;
    if (!bridges.includes(check.bridge)) {
      problems.push(`checks.${name}.bridge: no bridge named ${show(check.bridge)} in bridges:${bridges.length > 0 ? ` (have ${bridges.join(", ")})` : ""}`);
    }
  }
  return problems;
}
