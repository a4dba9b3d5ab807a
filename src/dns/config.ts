/**
 * The `dns_failover:` section with its secrets read (docs/dns-failover.md §Secrets): the agents'
 * shared secret and each TSIG secret, from the config or from a file next to it. Files are read
 * by the config loader (load.ts, off the event loop) and handed in through NormalizeEnv, so the
 * secrets are part of the settings a reload compares: a changed file restarts what uses it.
 */
import { resolve } from "node:path";
import type { NormalizeEnv } from "../config/normalize.ts";
import { FileRefusedError } from "../util/read-file.ts";
import type { CloudflareProviderConfig, Rfc2136ProviderConfig, Route53ProviderConfig } from "./provider-schema.ts";
import type { DnsFailoverSection } from "./schema.ts";
import { tsigSecretFromText, type TsigAlgorithm } from "./tsig.ts";

export type Rfc2136Provider = Omit<Rfc2136ProviderConfig, "tsig"> & {
  /** The secret as base64 text (kept as text so settings compare and print safely). */
  tsig?: { keyName: string; algorithm: TsigAlgorithm; secretBase64: string };
};
export type CloudflareProvider = Omit<CloudflareProviderConfig, "token" | "tokenFile"> & { token: string };
/** Route 53 has no secret in the config: AWS credentials come from the environment or the instance role (src/cloud/aws/credentials.ts). */
export type Route53Provider = Route53ProviderConfig;
export type DnsProvider = Rfc2136Provider | CloudflareProvider | Route53Provider;

export type DnsFailoverConfig = Omit<DnsFailoverSection, "secret" | "secretFile" | "providers"> & {
  providers: Record<string, DnsProvider>;
  /** The agents' shared secret; never logged. */
  secret?: string;
};

type Data = Record<string, unknown>;
const isData = (value: unknown): value is Data => typeof value === "object" && value !== null && !Array.isArray(value);

/** Absolute paths of the secret files `dns_failover:` names (read defensively: the data may be anything). */
export function dnsSecretFilePaths(data: unknown, baseDir: string): string[] {
  const section = isData(data) && isData(data.dns_failover) ? data.dns_failover : undefined;
  if (!section) return [];
  const paths = [section.secret_file, ...Object.values(isData(section.providers) ? section.providers : {}).flatMap((p) => (isData(p) ? [p.tsig_secret_file, p.token_file] : []))];
  return paths.filter((p): p is string => typeof p === "string" && p !== "").map((p) => resolve(baseDir, p));
}

function readText(path: string, file: string, env: NormalizeEnv, problems: string[], warnings: string[]): string | undefined {
  const absolute = resolve(env.baseDir, file);
  try {
    const read = env.readSecretFile(absolute);
    if (read.worldReadable) warnings.push(`${path}: ${absolute} is readable by everyone; chmod 600 it`);
    return read.text;
  } catch (error) {
    const reason = error instanceof FileRefusedError ? error.message : ((error as NodeJS.ErrnoException).code ?? (error as Error).message);
    problems.push(`${path}: cannot read ${absolute} (${reason})`);
    return undefined;
  }
}

export function resolveDnsSecrets(section: DnsFailoverSection, env: NormalizeEnv, problems: string[], warnings: string[]): DnsFailoverConfig {
  const { secret: inline, secretFile, providers, ...rest } = section;
  let secret = inline;
  if (secret === undefined && secretFile !== undefined) {
    secret = readText("dns_failover.secret_file", secretFile, env, problems, warnings)?.replace(/[\r\n]+$/, "");
    if (secret === "") problems.push("dns_failover.secret_file: the secret is empty");
  }
  if (secret !== undefined && secret !== "" && new TextEncoder().encode(secret).length < 16) {
    warnings.push("dns_failover.secret: the secret is shorter than 16 bytes; use a longer one");
  }
  const resolved: Record<string, DnsProvider> = {};
  for (const [name, provider] of Object.entries(providers)) {
    const at = `dns_failover.providers.${name}`;
    if (provider.kind === "cloudflare") {
      const { token: inlineToken, tokenFile, ...plain } = provider;
      const text = inlineToken ?? (tokenFile === undefined ? undefined : readText(`${at}.token_file`, tokenFile, env, problems, warnings));
      const token = text?.trim();
      if (text !== undefined && !token) problems.push(`${at}.${inlineToken === undefined ? "token_file" : "token"}: the token is empty`);
      resolved[name] = { ...plain, token: token ?? "" };
      continue;
    }
    if (provider.kind === "route53") {
      resolved[name] = provider;
      continue;
    }
    const { tsig, ...plain } = provider;
    if (!tsig) {
      resolved[name] = plain;
      continue;
    }
    const text = tsig.secret ?? (tsig.secretFile === undefined ? undefined : readText(`${at}.tsig_secret_file`, tsig.secretFile, env, problems, warnings));
    const bytes = text === undefined ? undefined : tsigSecretFromText(text);
    if (text !== undefined && bytes === undefined) {
      problems.push(`${at}.${tsig.secret === undefined ? "tsig_secret_file" : "tsig_secret"}: no base64 secret found (expected base64, or a key file with secret "…";)`);
    }
    resolved[name] = bytes ? { ...plain, tsig: { keyName: tsig.keyName, algorithm: tsig.algorithm, secretBase64: bytes.toString("base64") } } : plain;
  }
  return { ...rest, providers: resolved, ...(secret ? { secret } : {}) };
}
