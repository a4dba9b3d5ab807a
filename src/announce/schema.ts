/**
 * The `announce:` section (docs/announce.md): services, each a set of prefixes (the allow-list)
 * with the health that decides whether they are announced, and one backend that carries the
 * decision to the routing daemon. Attached to the top-level schema in src/config/schema.ts.
 */
import { z } from "zod";
import { parseCidr, parseIp } from "../config/address.ts";
import { formatDurationMs } from "../config/duration.ts";
import { duration, show, threshold } from "../config/fields.ts";
import { checkDefaults } from "../checks/schema.ts";
import { parseIpvsService, type IpvsService } from "../checks/targets.ts";
import type { AnnounceBackend, AnnounceConfig, AnnouncePrefix, AnnounceService, IpvsThreshold } from "./model.ts";

export const announceDefaults = {
  stateFile: "/var/lib/vpnham/announce-state.json",
  interval: "10s",
  timeout: "5s",
  minInterval: "2s",
  holdDown: "10s",
  maxHoldDown: "5m",
  vtysh: ["vtysh"],
  birdc: ["birdc"],
  birdProtocol: "vpnham",
  ip: ["ip"],
  kernelTable: 254,
  kernelProtocol: 233,
  exabgpPipeIn: "/run/exabgp/exabgp.in",
  exabgpPipeOut: "/run/exabgp/exabgp.out",
  ipvsInterval: "5s",
  ipvsTimeout: "1s",
} as const;

type Ctx = z.RefinementCtx;
const fail = (ctx: Ctx, value: unknown, message: string): never => {
  ctx.addIssue({ code: "custom", message, input: value });
  return z.NEVER;
};

/** Names that reach a routing daemon's command line or a metric label: plain words only. */
const word = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const wordProblem = (what: string, value: string) =>
  `${what} ${show(value)} must be 1..63 letters, digits, "_", "." or "-", starting with a letter or digit`;

const plainWord = (what: string, description: string) =>
  z
    .unknown()
    .transform((value, ctx): string => {
      if (typeof value !== "string") return fail(ctx, value, `${show(value)} is not a ${what}`);
      return word.test(value) ? value : fail(ctx, value, wordProblem(what, value));
    })
    .meta({ type: what, description });

const absolutePath = (description: string, defaultValue?: string) =>
  z
    .unknown()
    .transform((value, ctx): string => {
      if (typeof value !== "string" || value === "") return fail(ctx, value, `${show(value)} is not a path`);
      return value.startsWith("/") ? value : fail(ctx, value, `${show(value)} must be an absolute path`);
    })
    .meta({ type: "path", description, ...(defaultValue ? { default: defaultValue } : {}) });

const argvPrefix = (example: string, defaultValue: readonly string[]) =>
  z
    .array(
      z.unknown().transform((value, ctx): string =>
        typeof value === "string" && value !== "" ? value : fail(ctx, value, `${show(value)} is not an argv string`),
      ),
      { error: (issue) => `${show(issue.input)} is not a command: write a list of argv strings, e.g. ${example}` },
    )
    .min(1, { error: "an empty command cannot run" })
    .optional()
    .meta({ type: "list of strings", default: JSON.stringify(defaultValue), description: `the command and its first arguments, e.g. ${example}` });

/** A prefix of the allow-list: an IPv4 or IPv6 network without host bits ("192.0.2.10/32"). */
export function parseAnnouncePrefix(text: string): { ok: true; value: AnnouncePrefix } | { ok: false; error: string } {
  const parsed = parseCidr(text);
  if (!parsed.ok) return parsed;
  if (parsed.value.hostBitsSet) return { ok: false, error: `${JSON.stringify(text)} has host bits set (the network is ${parsed.value.text})` };
  return { ok: true, value: { prefix: parsed.value.text, family: parsed.value.family } };
}

const prefixField = z.unknown().transform((value, ctx): AnnouncePrefix => {
  if (typeof value !== "string") return fail(ctx, value, `${show(value)} is not a prefix (expected e.g. 192.0.2.10/32 or 2001:db8::10/128)`);
  const parsed = parseAnnouncePrefix(value);
  return parsed.ok ? parsed.value : fail(ctx, value, parsed.error);
});

const ipvsFields = z.strictObject({
  service: z
    .unknown()
    .transform((value, ctx): IpvsService => {
      if (typeof value !== "string") return fail(ctx, value, `${show(value)} is not an IPVS service`);
      const parsed = parseIpvsService(value);
      return parsed.ok ? parsed.value : fail(ctx, value, parsed.error);
    })
    .meta({ type: "IPVS service", description: 'the virtual service, "TCP 192.0.2.10:80", "UDP [2001:db8::10]:53" or "FWM 5"' }),
  withdraw_at_or_below: z
    .number({ error: (issue) => `${show(issue.input)} is not a number` })
    .int()
    .min(0)
    .default(0)
    .meta({ type: "integer ≥ 0", default: "0", description: "withdraw when real servers with weight > 0 fall to this many" }),
  announce_at_or_above: z
    .number({ error: (issue) => `${show(issue.input)} is not a number` })
    .int()
    .min(1)
    .default(1)
    .meta({ type: "integer ≥ 1", default: "1", description: "announce again only when at least this many are back (greater than withdraw_at_or_below)" }),
  interval: duration({ minMs: 100, zeroIsDefault: true, default: announceDefaults.ipvsInterval, meta: { description: "how often the IPVS table is read" } }),
  timeout: duration({ minMs: 10, zeroIsDefault: true, default: announceDefaults.ipvsTimeout, meta: { description: "time limit of one read" } }),
  threshold_down: threshold("consecutive reads at or below withdraw_at_or_below that withdraw", checkDefaults.thresholdDown),
  threshold_up: threshold("consecutive reads at or above announce_at_or_above that announce", checkDefaults.thresholdUp),
  path: absolutePath("the file to read (tests point it elsewhere)", checkDefaults.ipvsPath).optional(),
});

const ipvsSchema = ipvsFields
  .transform((raw, ctx): IpvsThreshold => {
    if (raw.announce_at_or_above <= raw.withdraw_at_or_below) {
      ctx.addIssue({
        code: "custom",
        path: ["announce_at_or_above"],
        message: `${raw.announce_at_or_above} is not greater than withdraw_at_or_below ${raw.withdraw_at_or_below}`,
      });
    }
    if (raw.timeout >= raw.interval) {
      ctx.addIssue({ code: "custom", path: ["timeout"], message: `${formatDurationMs(raw.timeout)} is not shorter than interval ${formatDurationMs(raw.interval)}` });
    }
    return {
      service: raw.service,
      withdrawAtOrBelow: raw.withdraw_at_or_below,
      announceAtOrAbove: raw.announce_at_or_above,
      intervalMs: raw.interval,
      timeoutMs: raw.timeout,
      thresholdDown: raw.threshold_down,
      thresholdUp: raw.threshold_up,
      path: raw.path ?? checkDefaults.ipvsPath,
    };
  })
  .meta({ type: "mapping", description: "vip_watchdog's rule on the IPVS real servers of one virtual service, with hysteresis" });

const dnsNamePattern = /^(?=.{1,253}\.?$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)+\.?$/;

/** "192.0.2.53", "192.0.2.53:5353", "2001:db8::53", "[2001:db8::53]:53" → canonical form for node:dns setServers, or why not. */
export function parseResolver(text: string): { ok: true; value: string } | { ok: false; error: string } {
  const bad = { ok: false as const, error: `${show(text)} is not a resolver: write ip or ip:port (IPv6 with a port in brackets, [2001:db8::53]:53)` };
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(text);
  const plainV4 = /^([0-9.]+)(?::(\d{1,5}))?$/.exec(text);
  const [host, portText] = bracketed ? [bracketed[1]!, bracketed[2]] : plainV4 ? [plainV4[1]!, plainV4[2]] : [text, undefined];
  const ip = parseIp(host);
  if (!ip) return bad;
  const port = portText === undefined ? 53 : Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return bad;
  return { ok: true, value: ip.family === 4 ? `${host}:${port}` : `[${host}]:${port}` };
}

const serviceFields = z.strictObject({
  prefixes: z
    .array(prefixField)
    .optional()
    .meta({ type: "list of prefixes", description: "the service's VIPs (IPv4 /32, IPv6 /128 or wider): the allow-list, nothing else is ever touched; required unless dns_name is set" }),
  dns_name: z
    .unknown()
    .transform((value, ctx): string => {
      if (typeof value !== "string" || !dnsNamePattern.test(value)) return fail(ctx, value, `${show(value)} is not a DNS name (e.g. vip.example.com)`);
      return value.replace(/\.$/, "").toLowerCase();
    })
    .optional()
    .meta({ type: "DNS name", description: "its A/AAAA addresses (as /32 and /128) are prefixes of the service too, resolved at start and every interval; a failed or empty answer keeps the last good set" }),
  resolver: z
    .unknown()
    .transform((value, ctx): string => {
      if (typeof value !== "string") return fail(ctx, value, `${show(value)} is not a resolver (ip or ip:port)`);
      const parsed = parseResolver(value);
      return parsed.ok ? parsed.value : fail(ctx, value, parsed.error);
    })
    .optional()
    .meta({ type: "ip[:port]", default: "the system resolver", description: "the DNS server asked for dns_name" }),
  route_map: plainWord("route-map name", "FRR: `network <prefix> route-map <name>` for every prefix of the service").optional(),
  route_maps: z
    .record(z.string(), plainWord("route-map name", "the route-map of that prefix"))
    .optional()
    .meta({ type: "map", keyName: "prefix", description: "FRR: a route-map per prefix, overriding route_map" }),
  checks: z
    .array(z.string({ error: (issue) => `${show(issue.input)} is not a check name` }))
    .default([])
    .meta({ type: "list of check names", default: "[]", description: "checks (in checks:) that must all be up for the prefixes to be announced" }),
  ipvs: ipvsSchema.optional(),
});

const serviceSchema = serviceFields
  .transform((raw, ctx): AnnounceService => {
    const staticPrefixes = raw.prefixes ?? [];
    if (staticPrefixes.length === 0 && raw.dns_name === undefined) {
      ctx.addIssue({ code: "custom", path: ["prefixes"], message: "a service needs at least one prefix, or a dns_name resolved to them" });
    }
    if (raw.resolver !== undefined && raw.dns_name === undefined) ctx.addIssue({ code: "custom", path: ["resolver"], message: "resolver is only used with dns_name" });
    const own = new Set(staticPrefixes.map((p) => p.prefix));
    const routeMaps = new Map<string, string>();
    for (const [written, name] of Object.entries(raw.route_maps ?? {})) {
      const parsed = parseAnnouncePrefix(written);
      if (!parsed.ok) ctx.addIssue({ code: "custom", path: ["route_maps", written], message: parsed.error });
      else if (!own.has(parsed.value.prefix)) ctx.addIssue({ code: "custom", path: ["route_maps", written], message: "not one of the service's prefixes" });
      else routeMaps.set(parsed.value.prefix, name);
    }
    const seen = new Set<string>();
    for (const [i, p] of staticPrefixes.entries()) {
      if (seen.has(p.prefix)) ctx.addIssue({ code: "custom", path: ["prefixes", i], message: `${p.prefix} is listed twice` });
      seen.add(p.prefix);
    }
    const prefixes = staticPrefixes.map((p): AnnouncePrefix => {
      const routeMap = routeMaps.get(p.prefix) ?? raw.route_map;
      return routeMap === undefined ? p : { ...p, routeMap };
    });
    const dns =
      raw.dns_name === undefined
        ? {}
        : { dnsName: raw.dns_name, ...(raw.resolver === undefined ? {} : { resolver: raw.resolver }), ...(raw.route_map === undefined ? {} : { routeMap: raw.route_map }) };
    return { prefixes, checks: raw.checks, ...(raw.ipvs ? { ipvs: raw.ipvs } : {}), ...dns };
  })
  .meta({ type: "mapping", description: "one service: its prefixes and what decides their health" });

const frrSchema = z
  .strictObject({
    vtysh: argvPrefix('["vtysh"]', announceDefaults.vtysh),
    namespace: plainWord("namespace", "FRR pathspace of the daemons (`vtysh -N <namespace>`), one set of FRR daemons per network namespace").optional(),
    socket_dir: absolutePath("directory of FRR's vty sockets (`vtysh --vty_socket <dir>`)").optional(),
    asn: z
      .number({ error: (issue) => `${show(issue.input)} is not an AS number` })
      .int()
      .min(1)
      .max(4294967295)
      .optional()
      .meta({ type: "integer 1..4294967295", default: "read from FRR", description: "the `router bgp` AS number; when set, FRR's must match" }),
  })
  .meta({ type: "mapping", description: "announce through FRR: `network` lines per address family, by vtysh" });

const birdSchema = z
  .strictObject({
    birdc: argvPrefix('["birdc"]', announceDefaults.birdc),
    socket: absolutePath("BIRD's control socket (`birdc -s <socket>`)").optional(),
    include_file: absolutePath("the file vpnham writes (static protocols); bird.conf must `include` it"),
    protocol: plainWord("protocol name", "static protocols are named <protocol>4 and <protocol>6").optional().meta({ default: announceDefaults.birdProtocol }),
  })
  .meta({ type: "mapping", description: "announce through BIRD 2: an include file of static routes and `birdc configure`" });

const kernelSchema = z
  .strictObject({
    ip: argvPrefix('["ip"]', announceDefaults.ip),
    namespace: plainWord("namespace", "network namespace of the routes (`ip -n <namespace>`)").optional(),
    table: z
      .number({ error: (issue) => `${show(issue.input)} is not a table number` })
      .int()
      .min(1)
      .max(4294967295)
      .default(announceDefaults.kernelTable)
      .meta({ type: "integer 1..4294967295", default: String(announceDefaults.kernelTable), description: "routing table of the blackhole routes (254 = main)" }),
    protocol: z
      .number({ error: (issue) => `${show(issue.input)} is not a route protocol number` })
      .int()
      .min(5)
      .max(255)
      .default(announceDefaults.kernelProtocol)
      .meta({ type: "integer 5..255", default: String(announceDefaults.kernelProtocol), description: "route protocol number marking vpnham's routes; only routes with it are read or deleted" }),
  })
  .meta({ type: "mapping", description: "announce through kernel blackhole routes that the routing daemon redistributes" });

const exabgpSchema = z
  .strictObject({
    pipe_in: absolutePath("ExaBGP's command pipe (`<pipename>.in` of its api.cli): vpnham writes one command at a time", announceDefaults.exabgpPipeIn).optional(),
    pipe_out: absolutePath("ExaBGP's answer pipe (`<pipename>.out`): vpnham reads each answer up to `done`", announceDefaults.exabgpPipeOut).optional(),
  })
  .meta({ type: "mapping", description: "announce through ExaBGP 4's named-pipe API: `announce route <prefix> next-hop self`, read back with `show adj-rib out`" });

const dampingFields = z.strictObject({
  min_interval: duration({ minMs: 0, default: announceDefaults.minInterval, meta: { description: "least time between two changes (announce ↔ withdraw) of one prefix" } }),
  hold_down: duration({ minMs: 0, default: announceDefaults.holdDown, meta: { description: "from a prefix's second flap on, it is re-announced only after this long, doubled per further flap" } }),
  max_hold_down: duration({ minMs: 0, default: announceDefaults.maxHoldDown, meta: { description: "cap of the hold-down; a prefix that stays put this long starts counting flaps again" } }),
});

const announceFields = z.strictObject({
  frr: frrSchema.optional(),
  bird: birdSchema.optional(),
  kernel: kernelSchema.optional(),
  exabgp: exabgpSchema.optional(),
  state_file: absolutePath("where drains are kept across restarts (written atomically)", announceDefaults.stateFile).optional(),
  interval: duration({ minMs: 100, zeroIsDefault: true, default: announceDefaults.interval, meta: { description: "re-read the routing daemon this often and repair drift (an FRR or ExaBGP restart forgets runtime routes)" } }),
  timeout: duration({ minMs: 10, zeroIsDefault: true, default: announceDefaults.timeout, meta: { description: "time limit of each backend command (vtysh, birdc, ip, an ExaBGP pipe exchange)" } }),
  damping: dampingFields.prefault({}).meta({ type: "mapping", default: "all defaults", description: "flap damping per prefix" }),
  services: z
    .record(
      z.string().superRefine((name, ctx) => {
        if (!word.test(name)) ctx.addIssue({ code: "custom", message: wordProblem("service name", name), input: name });
      }),
      serviceSchema,
    )
    .refine((services) => Object.keys(services).length > 0, { error: "at least one service is required" })
    .meta({ type: "map", keyName: "service", description: "services by name (drain/undrain take the name)" }),
});

export const announceSchema = announceFields
  .transform((raw, ctx): AnnounceConfig => {
    const backends: AnnounceBackend[] = [];
    if (raw.frr) {
      backends.push({
        kind: "frr",
        vtysh: raw.frr.vtysh ?? announceDefaults.vtysh,
        ...(raw.frr.namespace === undefined ? {} : { namespace: raw.frr.namespace }),
        ...(raw.frr.socket_dir === undefined ? {} : { socketDir: raw.frr.socket_dir }),
        ...(raw.frr.asn === undefined ? {} : { asn: raw.frr.asn }),
      });
    }
    if (raw.bird) {
      backends.push({
        kind: "bird",
        birdc: raw.bird.birdc ?? announceDefaults.birdc,
        ...(raw.bird.socket === undefined ? {} : { socket: raw.bird.socket }),
        includeFile: raw.bird.include_file,
        protocol: raw.bird.protocol ?? announceDefaults.birdProtocol,
      });
    }
    if (raw.kernel) {
      backends.push({
        kind: "kernel",
        ip: raw.kernel.ip ?? announceDefaults.ip,
        ...(raw.kernel.namespace === undefined ? {} : { namespace: raw.kernel.namespace }),
        table: raw.kernel.table,
        protocol: raw.kernel.protocol,
      });
    }
    if (raw.exabgp) {
      backends.push({ kind: "exabgp", pipeIn: raw.exabgp.pipe_in ?? announceDefaults.exabgpPipeIn, pipeOut: raw.exabgp.pipe_out ?? announceDefaults.exabgpPipeOut });
    }
    if (backends.length !== 1) {
      const set = backends.map((b) => `${b.kind}:`).join(" and ");
      ctx.addIssue({ code: "custom", path: [], message: `set exactly one backend: frr:, bird:, kernel: or exabgp: (${backends.length === 0 ? "none is set" : `${set} are set`})` });
    }
    const owner = new Map<string, string>();
    for (const [name, service] of Object.entries(raw.services)) {
      for (const { prefix } of service.prefixes) {
        const other = owner.get(prefix);
        if (other !== undefined) ctx.addIssue({ code: "custom", path: ["services", name, "prefixes"], message: `${prefix} is also a prefix of service ${other}` });
        else owner.set(prefix, name);
      }
    }
    if (backends.length === 1 && backends[0]!.kind !== "frr") {
      for (const [name, service] of Object.entries(raw.services)) {
        if (service.prefixes.some((p) => p.routeMap !== undefined) || service.routeMap !== undefined) {
          ctx.addIssue({ code: "custom", path: ["services", name], message: `route_map/route_maps are FRR's; the ${backends[0]!.kind} backend has none (use its filters)` });
        }
      }
    }
    const { min_interval, hold_down, max_hold_down } = raw.damping;
    if (max_hold_down < hold_down) {
      ctx.addIssue({ code: "custom", path: ["damping", "max_hold_down"], message: `${formatDurationMs(max_hold_down)} is shorter than hold_down ${formatDurationMs(hold_down)}` });
    }
    return {
      backend: backends[0] ?? { kind: "frr", vtysh: announceDefaults.vtysh },
      stateFile: raw.state_file ?? announceDefaults.stateFile,
      intervalMs: raw.interval,
      timeoutMs: raw.timeout,
      damping: { minIntervalMs: min_interval, holdDownMs: hold_down, maxHoldDownMs: max_hold_down },
      services: raw.services,
    };
  })
  .meta({ type: "mapping", description: "announce and withdraw BGP prefixes on health, with manual drain; see docs/announce.md" });

/** Problems across sections (raw YAML data, read defensively): a service's checks must exist. */
export function announceCrossCheck(raw: unknown): string[] {
  const isData = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
  if (!isData(raw) || !isData(raw.announce) || !isData(raw.announce.services)) return [];
  const checks = isData(raw.checks) ? Object.keys(raw.checks) : [];
  const problems: string[] = [];
  for (const [name, service] of Object.entries(raw.announce.services)) {
    if (!isData(service) || !Array.isArray(service.checks)) continue;
    for (const [i, check] of service.checks.entries()) {
      if (typeof check === "string" && !checks.includes(check)) {
        problems.push(`announce.services.${name}.checks[${i}]: no check named ${show(check)} in checks:${checks.length > 0 ? ` (have ${checks.join(", ")})` : ""}`);
      }
    }
  }
  return problems;
}
