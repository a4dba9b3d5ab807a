/**
 * `dns_failover.providers.<provider>` (docs/dns-failover.md §Providers): one flat mapping per
 * provider so the reference table lists every key; which keys a kind needs or refuses is checked
 * in the transform. Every endpoint is a key (the RFC 2136 server, Cloudflare's API base), so
 * private endpoints, proxies and tests work. Secrets are read later (config.ts).
 */
import { z } from "zod";
import type { HostPort } from "../config/address.ts";
import { duration, hostPort, httpUrl, optionalDuration, show } from "../config/fields.ts";
import { parseDurationMs } from "../config/duration.ts";
import { parseDnsName } from "./names.ts";
import { TSIG_ALGORITHMS, type TsigAlgorithm } from "./tsig.ts";

export const PROVIDER_KINDS = ["rfc2136", "cloudflare", "route53"] as const;
export const CLOUDFLARE_API_BASE = "https://api.cloudflare.com/client/v4";
export const DEFAULT_PROVIDER_TIMEOUT = "5s";

type Common = { zone: string; timeoutMs: number };
export type Rfc2136ProviderConfig = Common & {
  kind: "rfc2136";
  /** The primary server's address (UPDATEs and reads go there). */
  server: HostPort;
  tsig?: { keyName: string; algorithm: TsigAlgorithm; secret?: string; secretFile?: string };
};
export type CloudflareProviderConfig = Common & {
  kind: "cloudflare";
  zoneId: string;
  apiBase: string;
  proxied: boolean;
  token?: string;
  tokenFile?: string;
};
export type Route53ProviderConfig = Common & {
  kind: "route53";
  hostedZoneId: string;
  /** The API base; undefined: AWS_ENDPOINT_URL_ROUTE_53, AWS_ENDPOINT_URL, else Route 53's public one (route53.ts). */
  endpoint?: string;
  /** The SigV4 signing region (us-east-1 for Route 53 in the aws partition). */
  region: string;
  /** How long a change may stay PENDING before the run counts as failed; 0: do not wait for INSYNC. */
  insyncTimeoutMs: number;
};
export type DnsProviderConfig = Rfc2136ProviderConfig | CloudflareProviderConfig | Route53ProviderConfig;
export const ROUTE53_SIGNING_REGION = "us-east-1";
export const DEFAULT_INSYNC_TIMEOUT = "120s";

type Ctx = z.RefinementCtx;
const fail = (ctx: Ctx, value: unknown, message: string): never => {
  ctx.addIssue({ code: "custom", message, input: value });
  return z.NEVER;
};

export const dnsName = (description: string) =>
  z
    .unknown()
    .transform((value, ctx): string => {
      if (typeof value !== "string") return fail(ctx, value, `${show(value)} is not a DNS name`);
      const parsed = parseDnsName(value);
      return parsed.ok ? parsed.value : fail(ctx, value, parsed.error);
    })
    .meta({ type: "DNS name", description });

const secretText = (type: string, description: string) => z.string().min(1).optional().meta({ type, description });

const providerFields = z.strictObject({
  kind: z.enum(PROVIDER_KINDS).meta({ type: PROVIDER_KINDS.join(" | "), description: "the DNS API: rfc2136 (dynamic update: BIND, Knot, PowerDNS…) or cloudflare (API v4)" }),
  zone: dnsName("the zone the names are in (rfc2136: the zone section of each UPDATE)"),
  timeout: duration({ minMs: 10, zeroIsDefault: true, default: DEFAULT_PROVIDER_TIMEOUT, meta: { description: "time limit of one query, update or API call" } }),
  server: hostPort({ description: "rfc2136: the primary server, ip:port (UPDATE and the read-back go there)" }).optional(),
  tsig_key: dnsName("rfc2136: TSIG key name, as the server knows it").optional(),
  tsig_algorithm: z.enum(TSIG_ALGORITHMS).optional().meta({ type: TSIG_ALGORITHMS.join(" | "), default: "hmac-sha256", description: "rfc2136: TSIG algorithm" }),
  tsig_secret: secretText("base64", "rfc2136: the TSIG secret (base64); prefer tsig_secret_file"),
  tsig_secret_file: secretText("path", "rfc2136: file with the TSIG secret, base64 or a BIND key file (tsig-keygen), relative to the config"),
  zone_id: z
    .string()
    .regex(/^[0-9A-Za-z-]{1,64}$/, { error: "is not a Cloudflare zone id (letters, digits, -)" })
    .optional()
    .meta({ type: "string", description: "cloudflare: the zone's id (dashboard → Overview → Zone ID)" }),
  api_base: httpUrl({ description: "cloudflare: the API base URL (a private endpoint, a proxy or a test fake)" }).optional().meta({ default: CLOUDFLARE_API_BASE }),
  token: secretText("string", "cloudflare: API token with Zone.DNS edit on the zone; prefer token_file"),
  token_file: secretText("path", "cloudflare: file holding the API token, relative to the config"),
  hosted_zone_id: z
    .string()
    .regex(/^(\/hostedzone\/)?[A-Z0-9]{1,32}$/, { error: "is not a Route 53 hosted zone id (Z…, upper-case letters and digits)" })
    .optional()
    .meta({ type: "string", description: "route53: the hosted zone's id (Z0123…; /hostedzone/ in front is accepted)" }),
  endpoint: httpUrl({ description: "route53: the API base URL (default: AWS_ENDPOINT_URL_ROUTE_53, AWS_ENDPOINT_URL, else https://route53.amazonaws.com)" }).optional(),
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, { error: "is not an AWS region" }).optional().meta({ type: "string", default: "us-east-1", description: "route53: the SigV4 signing region (cn-northwest-1 in China, us-gov-west-1 in GovCloud)" }),
  insync_timeout: optionalDuration({ minMs: 0, default: DEFAULT_INSYNC_TIMEOUT, meta: { description: "route53: how long to wait for a change to be INSYNC (GetChange); 0: do not wait" } }),
  proxied: z.boolean().optional().meta({ type: "boolean", default: "false", description: "cloudflare: records are proxied through Cloudflare (goavail's dns_proxied; Cloudflare then sets TTL 1, automatic)" }),
});

type RawProvider = z.output<typeof providerFields>;
const kindKeys: Record<(typeof PROVIDER_KINDS)[number], { required: Array<keyof RawProvider>; optional: Array<keyof RawProvider> }> = {
  rfc2136: { required: ["server"], optional: ["tsig_key", "tsig_algorithm", "tsig_secret", "tsig_secret_file"] },
  cloudflare: { required: ["zone_id"], optional: ["api_base", "token", "token_file", "proxied"] },
  route53: { required: ["hosted_zone_id"], optional: ["endpoint", "region", "insync_timeout"] },
};
const commonKeys = new Set(["kind", "zone", "timeout"]);

export const providerSchema = providerFields
  .transform((raw, ctx): DnsProviderConfig => {
    const problem = (key: string, message: string) => ctx.addIssue({ code: "custom", path: [key], message });
    const present = new Set(Object.keys(raw).filter((key) => (raw as Record<string, unknown>)[key] !== undefined));
    const keys = kindKeys[raw.kind];
    for (const key of keys.required) if (!present.has(key)) problem(key, `missing (kind ${raw.kind} needs it)`);
    const allowed = new Set<string>([...commonKeys, ...keys.required, ...keys.optional]);
    for (const key of present) if (!allowed.has(key)) problem(key, `not used by kind ${raw.kind}`);
    const common = { zone: raw.zone, timeoutMs: raw.timeout };
    const exclusive = (a: keyof RawProvider, b: keyof RawProvider) => present.has(a) && present.has(b) && problem(b, `cannot be combined with ${a}; set only one`);
    if (raw.kind === "cloudflare") {
      exclusive("token", "token_file");
      if (!present.has("token") && !present.has("token_file")) problem("token_file", "missing (kind cloudflare needs an API token: token_file or token)");
      return {
        ...common,
        kind: "cloudflare",
        zoneId: raw.zone_id ?? "",
        apiBase: (raw.api_base ?? CLOUDFLARE_API_BASE).replace(/\/+$/, ""),
        proxied: raw.proxied ?? false,
        ...(raw.token === undefined ? {} : { token: raw.token }),
        ...(raw.token_file === undefined ? {} : { tokenFile: raw.token_file }),
      };
    }
    if (raw.kind === "route53") {
      return {
        ...common,
        kind: "route53",
        hostedZoneId: (raw.hosted_zone_id ?? "").replace(/^\/hostedzone\//, ""),
        ...(raw.endpoint === undefined ? {} : { endpoint: raw.endpoint.replace(/\/+$/, "") }),
        region: raw.region ?? ROUTE53_SIGNING_REGION,
        insyncTimeoutMs: raw.insync_timeout ?? parseDurationMs(DEFAULT_INSYNC_TIMEOUT),
      };
    }
    exclusive("tsig_secret", "tsig_secret_file");
    const secrets = present.has("tsig_secret") || present.has("tsig_secret_file");
    if (raw.tsig_key === undefined && secrets) problem("tsig_key", "missing (a TSIG secret needs its key name)");
    if (raw.tsig_key !== undefined && !secrets) problem("tsig_secret_file", `missing (key ${raw.tsig_key} needs its secret)`);
    const tsig =
      raw.tsig_key === undefined
        ? {}
        : {
            tsig: {
              keyName: raw.tsig_key,
              algorithm: raw.tsig_algorithm ?? "hmac-sha256",
              ...(raw.tsig_secret === undefined ? {} : { secret: raw.tsig_secret }),
              ...(raw.tsig_secret_file === undefined ? {} : { secretFile: raw.tsig_secret_file }),
            },
          };
    return { ...common, kind: "rfc2136", server: raw.server!, ...tsig };
  })
  .meta({ type: "mapping", description: "one DNS provider: where the zone is and how to authenticate" });
