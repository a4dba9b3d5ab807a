/**
 * The `dns_failover:` section (docs/dns-failover.md §Configuration): the addresses to check and
 * the names each serves, per-name TTL and provider, the peers that must agree, and the safety
 * limits. Attached to the top-level schema in src/config/schema.ts; secret files are read later
 * (config.ts), so this stays pure.
 */
import { z } from "zod";
import type { HostPort } from "../config/address.ts";
import { duration, hostPort, httpUrl, show } from "../config/fields.ts";
import { checkNameProblem } from "../checks/targets.ts";
import type { CheckSpec } from "../checks/schema.ts";
import { addressCheck, addressCheckFields, checkTemplateFields, type CheckTemplate } from "./check-template.ts";
import { inZone, parseAddress, parseDnsName } from "./names.ts";

export type { DnsProviderConfig };
import { dnsName, providerSchema, type DnsProviderConfig } from "./provider-schema.ts";

type Ctx = z.RefinementCtx;
const fail = (ctx: Ctx, value: unknown, message: string): never => {
  ctx.addIssue({ code: "custom", message, input: value });
  return z.NEVER;
};

export const dnsDefaults = {
  ttlS: 60,
  pollInterval: "1s",
  pollTimeout: "1s",
  maxChangesPerInterval: 2,
  changeInterval: "1m",
  driftInterval: "1m",
} as const;

/** A whole number in min..max; 0 is a value here (not "the default" as in Go's keys). */
const count = (description: string, defaultText: string, min: number, max: number) =>
  z
    .unknown()
    .transform((value, ctx): number => {
      if (typeof value !== "number" || !Number.isInteger(value)) return fail(ctx, value, `${show(value)} is not a whole number (expected ${min}..${max})`);
      return value >= min && value <= max ? value : fail(ctx, value, `${value} is out of range ${min}..${max}`);
    })
    .optional()
    .meta({ type: `integer ${min}..${max}`, default: defaultText, description });

const plainName = (what: string) =>
  z.string().superRefine((name, ctx) => {
    const problem = checkNameProblem(name)?.replace("check name", `${what} name`);
    if (problem) ctx.addIssue({ code: "custom", message: problem, input: name });
  });

const nameSchema = z
  .strictObject({
    ttl: count("TTL of the name's A/AAAA records, in seconds", String(dnsDefaults.ttlS), 1, 2_147_483_647),
    provider: plainName("provider").optional().meta({ type: "provider name", default: "the only provider", description: "which entry of providers holds the name" }),
  })
  .meta({ type: "mapping", description: "one DNS name: its TTL and provider" });

const addressSchema = z
  .strictObject({
    names: z
      .array(dnsName("a name"))
      .min(1, { error: "an address must serve at least one name" })
      .meta({ type: "list of DNS names", description: "the names whose A (IPv4) or AAAA (IPv6) records hold this address" }),
    check: addressCheckFields.optional().meta({ type: "mapping", description: "this address's changes to dns_failover.check" }),
  })
  .meta({ type: "mapping", description: "one address to check, and the names it serves" });

export interface DnsAddressConfig {
  address: string;
  family: 4 | 6;
  names: string[];
  check: CheckSpec;
}
export interface DnsNameConfig {
  name: string;
  ttlS: number;
  provider: string;
}
export interface DnsPeerConfig {
  name: string;
  url: string;
}
/** The section as the schema yields it; config.ts fills in the secrets. */
export interface DnsFailoverSection {
  dryRun: boolean;
  agent?: string;
  addresses: DnsAddressConfig[];
  names: DnsNameConfig[];
  providers: Record<string, DnsProviderConfig>;
  peers: DnsPeerConfig[];
  minPeersAgree: number;
  listen?: HostPort;
  secret?: string;
  secretFile?: string;
  pollIntervalMs: number;
  pollTimeoutMs: number;
  voteMaxAgeMs: number;
  maxChangesPerInterval: number;
  changeIntervalMs: number;
  driftIntervalMs: number;
}

const sectionFields = z.strictObject({
  dry_run: z.boolean().optional().meta({ type: "boolean", default: "true", description: "log the DNS changes that would be made, make none (true unless set false, as goavail)" }),
  agent: plainName("agent").optional().meta({ type: "agent name", description: "this agent's name, as the other agents list it under peers (needed with peers)" }),
  check: checkTemplateFields.optional().meta({ type: "mapping", default: "kind: icmp", description: "how every address is checked (the check engine, docs/checks.md)" }),
  addresses: z
    .record(z.string(), addressSchema)
    .refine((map) => Object.keys(map).length > 0, { error: "at least one address is required" })
    .meta({ type: "map", keyName: "address", description: "the addresses to check (IPv4 → A, IPv6 → AAAA), by address" }),
  names: z.record(z.string(), nameSchema).optional().meta({ type: "map", keyName: "name", description: "per-name settings; a name left out gets the defaults" }),
  providers: z
    .record(plainName("provider"), providerSchema)
    .refine((map) => Object.keys(map).length > 0, { error: "at least one provider is required" })
    .meta({ type: "map", keyName: "provider", description: "DNS providers by name" }),
  peers: z.record(plainName("peer"), httpUrl({ description: "the peer's verdicts endpoint base, http://ip:port/ (`dns/verdicts` is appended)" })).optional().meta({
    type: "map",
    keyName: "peer",
    description: "the other agents by their agent name; each is asked for its verdicts every poll_interval",
  }),
  min_peers_agree: count("peers that must also judge an address down before it is removed", "1 with peers, else 0", 0, 100),
  listen: hostPort({ description: "ip:port where the other agents fetch this agent's verdicts (GET /dns/verdicts)" }).optional(),
  secret: z.string().min(1).optional().meta({ type: "string", description: "shared secret of the agents (HMAC of every verdict exchange); prefer secret_file" }),
  secret_file: z.string().min(1).optional().meta({ type: "path", description: "file holding the shared secret, relative to the config" }),
  poll_interval: duration({ minMs: 100, zeroIsDefault: true, default: dnsDefaults.pollInterval, meta: { description: "how often each peer is asked" } }),
  poll_timeout: duration({ minMs: 10, zeroIsDefault: true, default: dnsDefaults.pollTimeout, meta: { description: "time limit of one peer request" } }),
  vote_max_age: duration({ minMs: 0, zeroIsDefault: true, default: "0s", meta: { description: "a peer's vote older than this is no vote (0: 3 × poll_interval)" } }),
  max_changes_per_interval: count("removals allowed within change_interval (0: no limit); restores are never held back", String(dnsDefaults.maxChangesPerInterval), 0, 10_000),
  change_interval: duration({ minMs: 1000, zeroIsDefault: true, default: dnsDefaults.changeInterval, meta: { description: "the window of max_changes_per_interval" } }),
  drift_interval: duration({ minMs: 1000, zeroIsDefault: true, default: dnsDefaults.driftInterval, meta: { description: "how often DNS is read again to repair changes made behind our back" } }),
});

type RawSection = z.output<typeof sectionFields>;

export const dnsFailoverSchema = sectionFields
  .transform((raw, ctx): DnsFailoverSection => {
    const reported = new Set<string>();
    const problem = (path: (string | number)[], message: string) => {
      const key = JSON.stringify([path, message]); // a shared template's problem once, not once per address
      if (reported.has(key)) return;
      reported.add(key);
      ctx.addIssue({ code: "custom", path, message });
    };
    const template: CheckTemplate = raw.check ?? {};
    const addresses: DnsAddressConfig[] = [];
    for (const [text, entry] of Object.entries(raw.addresses)) {
      const parsed = parseAddress(text);
      if (!parsed.ok) {
        problem(["addresses", text], parsed.error);
        continue;
      }
      const check = addressCheck(parsed.value.address, mergeCheck(template, entry.check), (key, message) =>
        problem(entry.check && key in entry.check ? ["addresses", text, "check", key] : ["check", key], message),
      );
      if (addresses.some((a) => a.address === parsed.value.address)) problem(["addresses", text], `${parsed.value.address} is listed twice`);
      if (check) addresses.push({ ...parsed.value, names: [...new Set(entry.names)], check });
    }
    const providerNames = Object.keys(raw.providers);
    const names = namesOf(raw, addresses, providerNames, problem);
    for (const name of names) {
      const provider = raw.providers[name.provider];
      if (provider && !inZone(name.name, provider.zone)) problem(["names", name.name], `${name.name} is not in zone ${provider.zone} of provider ${name.provider}`);
    }
    const peers = Object.entries(raw.peers ?? {}).map(([name, url]) => ({ name, url }));
    const minPeersAgree = raw.min_peers_agree ?? (peers.length > 0 ? 1 : 0);
    if (minPeersAgree > peers.length) problem(["min_peers_agree"], `${minPeersAgree} is more than the ${peers.length} peers listed: nothing could ever be removed`);
    if (raw.secret !== undefined && raw.secret_file !== undefined) problem(["secret_file"], "cannot be combined with secret; set only one");
    const hasSecret = raw.secret !== undefined || raw.secret_file !== undefined;
    if ((peers.length > 0 || raw.listen) && !hasSecret) problem(["secret_file"], "missing: verdicts are exchanged only with a shared secret (secret or secret_file)");
    if (peers.length > 0 && raw.agent === undefined) problem(["agent"], "missing: with peers, this agent needs the name the others list it under");
    if (raw.agent !== undefined && peers.some((p) => p.name === raw.agent)) problem(["peers", raw.agent], "is this agent's own name (agent)");
    return {
      dryRun: raw.dry_run ?? true,
      ...(raw.agent === undefined ? {} : { agent: raw.agent }),
      addresses,
      names,
      providers: raw.providers,
      peers,
      minPeersAgree,
      ...(raw.listen ? { listen: raw.listen } : {}),
      ...(raw.secret === undefined ? {} : { secret: raw.secret }),
      ...(raw.secret_file === undefined ? {} : { secretFile: raw.secret_file }),
      pollIntervalMs: raw.poll_interval,
      pollTimeoutMs: raw.poll_timeout,
      voteMaxAgeMs: raw.vote_max_age > 0 ? raw.vote_max_age : 3 * raw.poll_interval,
      maxChangesPerInterval: raw.max_changes_per_interval ?? dnsDefaults.maxChangesPerInterval,
      changeIntervalMs: raw.change_interval,
      driftIntervalMs: raw.drift_interval,
    };
  })
  .meta({ type: "mapping", description: "DNS failover with peer agreement (a job section); see docs/dns-failover.md" });

/** An address's check: the template with the address's changes; another kind inherits only the timing. */
function mergeCheck(template: CheckTemplate, own: CheckTemplate | undefined): CheckTemplate {
  if (!own) return template;
  if (own.kind === undefined || own.kind === (template.kind ?? "icmp")) return { ...template, ...own };
  const { interval, timeout, threshold_down, threshold_up } = template;
  return { interval, timeout, threshold_down, threshold_up, ...own };
}

/** Every name the addresses serve, in order of first use, with its settings from `names:` or the defaults. */
function namesOf(raw: RawSection, addresses: readonly DnsAddressConfig[], providers: readonly string[], problem: (path: string[], message: string) => void): DnsNameConfig[] {
  const settings = new Map<string, { ttl?: number; provider?: string; key: string }>();
  for (const [key, entry] of Object.entries(raw.names ?? {})) {
    const parsed = parseDnsName(key);
    if (!parsed.ok) problem(["names", key], parsed.error);
    else settings.set(parsed.value, { ...entry, key });
  }
  const used = [...new Set(addresses.flatMap((a) => a.names))];
  for (const [name, entry] of settings) if (!used.includes(name)) problem(["names", entry.key], `no address serves ${name}`);
  return used.map((name) => {
    const entry = settings.get(name);
    let provider = entry?.provider;
    if (provider === undefined) {
      if (providers.length !== 1) problem(["names", name, "provider"], `missing: ${name} needs a provider (there are ${providers.length})`);
      provider = providers[0] ?? "";
    } else if (!providers.includes(provider)) {
      problem(["names", entry!.key, "provider"], `no provider named ${show(provider)} (have ${providers.join(", ")})`);
    }
    return { name, ttlS: entry?.ttl ?? dnsDefaults.ttlS, provider };
  });
}
