/**
 * What the reconciler needs from a DNS provider (docs/dns-failover.md §Providers): read a name's
 * A/AAAA records, and turn planned changes into steps — one step per API call, each carrying the
 * changes it makes (they are counted and logged when it succeeds). RFC 2136 makes one step (one
 * UPDATE); Cloudflare one per record, adds before deletes.
 */
import { createCredentialsProvider } from "../cloud/aws/credentials.ts";
import { createImdsClient } from "../cloud/aws/imds.ts";
import { metadataEndpoint, type Env } from "../cloud/aws/settings.ts";
import { createHttpClient, type HttpClientOptions, type HttpFetch } from "../cloud/http.ts";
import { proxySettings } from "../cloud/proxy.ts";
import type { Action } from "../reconcile/action.ts";
import { errorMessage } from "../util/errors.ts";
import { logger } from "../util/log.ts";
import { createCloudflareClient } from "./cloudflare.ts";
import type { DnsProvider } from "./config.ts";
import type { DnsRecord, RecordChange } from "./plan.ts";
import { createRfc2136Client } from "./rfc2136.ts";
import { createRoute53Client, route53Endpoint, ROUTE53_API_VERSION } from "./route53.ts";

export interface ChangeStep {
  readonly changes: readonly RecordChange[];
  readonly action: Action;
}

export interface DnsProviderClient {
  read(name: string, signal: AbortSignal): Promise<DnsRecord[]>;
  /** `actual` is what the plan was made from (a provider may need its record ids). */
  steps(name: string, changes: readonly RecordChange[], actual: readonly DnsRecord[]): ChangeStep[];
  /** Drops what the client holds open (keep-alive sockets); never throws. */
  close?(): void;
}

/** What a provider may take from outside: the environment (AWS credentials, endpoints, proxies) and a transport (tests). */
export interface ProviderDeps {
  readonly env?: Env;
  readonly fetch?: HttpFetch;
}

/** Where a provider sends its changes, for logs and status (never a secret). */
export function providerEndpoint(provider: DnsProvider, env: Env = process.env): string {
  if (provider.kind === "rfc2136") return provider.server.text;
  if (provider.kind === "route53") return `${route53Endpoint(provider, env)}/${ROUTE53_API_VERSION}/hostedzone/${provider.hostedZoneId}`;
  return `${provider.apiBase}/zones/${provider.zoneId}`;
}

function proxyOf(env: Env): HttpClientOptions {
  try {
    return { proxy: proxySettings(env) };
  } catch (error) {
    logger.withTag("dns").error(`${errorMessage(error)}; Route 53 goes without a proxy`);
    return {};
  }
}

export function createProviderClient(provider: DnsProvider, deps: ProviderDeps = {}): DnsProviderClient {
  if (provider.kind === "rfc2136") return createRfc2136Client(provider);
  if (provider.kind === "cloudflare") return createCloudflareClient(provider);
  // Route 53: the cloud job's transport (proxies from the environment) and credential chain (docs/dns-failover.md §Route 53).
  const env = deps.env ?? process.env;
  const http = deps.fetch ? undefined : createHttpClient(proxyOf(env));
  const fetch = deps.fetch ?? http!.fetch;
  const imdsEndpoint = metadataEndpoint({}, env);
  const credentials = createCredentialsProvider({ env, ...(imdsEndpoint === undefined ? {} : { imds: createImdsClient({ endpoint: imdsEndpoint, fetch }) }) });
  const client = createRoute53Client(provider, { fetch, credentials, env });
  return { ...client, close: () => http?.close() };
}
