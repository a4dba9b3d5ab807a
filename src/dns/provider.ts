/**
 * What the reconciler needs from a DNS provider (docs/dns-failover.md §Providers): read a name's
 * A/AAAA records, and turn planned changes into steps — one step per API call, each carrying the
 * changes it makes (they are counted and logged when it succeeds). RFC 2136 makes one step (one
 * UPDATE); Cloudflare one per record, adds before deletes.
 */
import type { Action } from "../reconcile/action.ts";
import { createCloudflareClient } from "./cloudflare.ts";
import type { DnsProvider } from "./config.ts";
import type { DnsRecord, RecordChange } from "./plan.ts";
import { createRfc2136Client } from "./rfc2136.ts";

export interface ChangeStep {
  readonly changes: readonly RecordChange[];
  readonly action: Action;
}

export interface DnsProviderClient {
  read(name: string, signal: AbortSignal): Promise<DnsRecord[]>;
  /** `actual` is what the plan was made from (a provider may need its record ids). */
  steps(name: string, changes: readonly RecordChange[], actual: readonly DnsRecord[]): ChangeStep[];
}

/** Where a provider sends its changes, for logs and status (never a secret). */
export function providerEndpoint(provider: DnsProvider): string {
  return provider.kind === "rfc2136" ? provider.server.text : `${provider.apiBase}/zones/${provider.zoneId}`;
}

export function createProviderClient(provider: DnsProvider): DnsProviderClient {
  return provider.kind === "rfc2136" ? createRfc2136Client(provider) : createCloudflareClient(provider);
}
