/**
 * The Route 53 provider (docs/dns-failover.md §Route 53): the REST API 2013-04-01, XML bodies,
 * SigV4-signed with the cloud job's signer and credential chain (src/cloud/aws/). Read =
 * ListResourceRecordSets from (name, A), page by page while the name lasts; change = one
 * ChangeResourceRecordSets per name and run, one UPSERT per type with the whole record set after
 * the change (Route 53 applies a batch whole or not at all, so a name never passes through an
 * empty state), a DELETE of the exact set read when nothing would remain (the plan never asks for
 * that: docs/dns-failover.md §Safety); then GetChange until INSYNC. Throttling,
 * PriorRequestNotComplete, 429 and 5xx are worth another try; other errors are final.
 */
import { cloudApiError, sleepUnlessAborted } from "../cloud/api.ts";
import type { CredentialsProvider } from "../cloud/aws/credentials.ts";
import { signV4 } from "../cloud/aws/sigv4.ts";
import type { Env } from "../cloud/aws/settings.ts";
import type { HttpFetch } from "../cloud/http.ts";
import { child, childrenNamed, childText, parseXml, type XmlElement } from "../cloud/xml.ts";
import { isRetryable, RetryableError } from "../reconcile/action.ts";
import type { Route53Provider } from "./config.ts";
import { parseAddress } from "./names.ts";
import type { DnsRecord, RecordChange, RecordType } from "./plan.ts";
import type { ChangeStep, DnsProviderClient } from "./provider.ts";

export const ROUTE53_API_VERSION = "2013-04-01";
export const ROUTE53_NS = `https://route53.amazonaws.com/doc/${ROUTE53_API_VERSION}/`;
export const ROUTE53_PUBLIC_ENDPOINT = "https://route53.amazonaws.com";
const MAX_PAGES = 50;
const PAGE_ITEMS = 300;

/** Codes another try can fix: throttling, a change still running on the zone, the service's own trouble, stale credentials. */
const retryableCodes = new Set(["Throttling", "ThrottlingException", "PriorRequestNotComplete", "ServiceUnavailable", "InternalFailure", "InternalError", "RequestExpired", "ExpiredToken"]);
const staleCredentialCodes = new Set(["ExpiredToken", "RequestExpired", "InvalidClientTokenId"]);

export interface Route53Error extends Error {
  readonly code: string;
  readonly status: number;
}

const nonEmpty = (value: string | undefined): string | undefined => (value === undefined || value.trim() === "" ? undefined : value.trim().replace(/\/+$/, ""));

/** The API base: the config key, AWS_ENDPOINT_URL_ROUTE_53, AWS_ENDPOINT_URL, else the public endpoint. */
export function route53Endpoint(provider: Pick<Route53Provider, "endpoint" | "region">, env: Env): string {
  const given = nonEmpty(provider.endpoint) ?? nonEmpty(env.AWS_ENDPOINT_URL_ROUTE_53) ?? nonEmpty(env.AWS_ENDPOINT_URL);
  if (given) return given;
  return provider.region.startsWith("cn-") ? "https://route53.amazonaws.com.cn" : ROUTE53_PUBLIC_ENDPOINT;
}

/** The error Route 53 answered: `<ErrorResponse><Error><Code/>…` or `<InvalidChangeBatch><Messages>…`. */
export function parseRoute53Error(what: string, status: number, body: string): Route53Error {
  let code = `HTTP${status}`;
  let message = body.slice(0, 200).replace(/\s+/g, " ").trim();
  try {
    const root = parseXml(body);
    if (root.name === "InvalidChangeBatch") {
      code = "InvalidChangeBatch";
      message = childrenNamed(child(root, "Messages"), "Message").map((m) => m.text).join("; ") || message;
    } else {
      const error = child(root, "Error");
      code = childText(error, "Code") || code;
      message = childText(error, "Message") ?? message;
    }
  } catch {
    // Not XML (a proxy's page): the status decides.
  }
  const retryable = retryableCodes.has(code) || status === 429 || status >= 500;
  return cloudApiError("Route53ApiError", `${what}: ${code}: ${message}`, { code, status }, retryable);
}

const xmlEscape = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** Route 53 writes some characters of names as `\ooo` (octal); lower case, no trailing dot. */
export function route53Name(text: string): string {
  return text.replace(/\\(\d{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8))).replace(/\.$/, "").toLowerCase();
}

export interface RecordSet {
  readonly type: RecordType;
  readonly ttlS: number;
  readonly values: readonly string[];
}

export interface RecordSetChange {
  readonly action: "UPSERT" | "DELETE";
  readonly set: RecordSet;
}

/** The record-set changes that make `changes` at one name: per type, the whole set after them (pure). */
export function recordSetChanges(changes: readonly RecordChange[], actual: readonly DnsRecord[]): RecordSetChange[] {
  const out: RecordSetChange[] = [];
  for (const type of ["A", "AAAA"] as const) {
    const ofType = changes.filter((c) => c.type === type);
    if (ofType.length === 0) continue;
    const have = actual.filter((r) => r.type === type);
    const values = have.map((r) => r.address).filter((a) => !ofType.some((c) => c.action === "delete" && c.address === a));
    for (const c of ofType) if (c.action === "add" && !values.includes(c.address)) values.push(c.address);
    const add = ofType.find((c) => c.action === "add");
    const ttlS = add?.ttlS ?? have[0]?.ttlS ?? 0;
    if (values.length > 0) out.push({ action: "UPSERT", set: { type, ttlS, values } });
    // Never planned (the last address is kept), but a DELETE must match the set exactly as it is.
    else if (have.length > 0) out.push({ action: "DELETE", set: { type, ttlS: have[0]!.ttlS, values: have.map((r) => r.address) } });
  }
  return out;
}

/** The ChangeResourceRecordSetsRequest body, as the API reference shows it. */
export function changeBatchXml(name: string, changes: readonly RecordSetChange[], comment: string): string {
  const change = (c: RecordSetChange) =>
    `<Change><Action>${c.action}</Action><ResourceRecordSet><Name>${xmlEscape(name)}.</Name><Type>${c.set.type}</Type><TTL>${c.set.ttlS}</TTL><ResourceRecords>${c.set.values
      .map((v) => `<ResourceRecord><Value>${xmlEscape(v)}</Value></ResourceRecord>`)
      .join("")}</ResourceRecords></ResourceRecordSet></Change>`;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<ChangeResourceRecordSetsRequest xmlns="${ROUTE53_NS}"><ChangeBatch><Comment>${xmlEscape(comment)}</Comment><Changes>${changes.map(change).join("")}</Changes></ChangeBatch></ChangeResourceRecordSetsRequest>`;
}

/** One ListResourceRecordSets page: the simple A/AAAA sets of `name`, and where to go on (undefined: done). */
export function parseRecordSets(root: XmlElement, name: string): { records: DnsRecord[]; next?: { name: string; type: string; identifier?: string } } {
  if (root.name !== "ListResourceRecordSetsResponse") throw new Error(`ListResourceRecordSets: unexpected answer <${root.name}>`);
  const records: DnsRecord[] = [];
  let pastName = false;
  for (const set of childrenNamed(child(root, "ResourceRecordSets"), "ResourceRecordSet")) {
    const setName = route53Name(childText(set, "Name") ?? "");
    const type = childText(set, "Type");
    if (setName !== name) {
      pastName = true;
      continue;
    }
    // Alias and routing-policy sets (weighted, latency, failover…) are not ours to manage.
    if ((type !== "A" && type !== "AAAA") || child(set, "AliasTarget") || childText(set, "SetIdentifier")) continue;
    const ttlS = Number(childText(set, "TTL") ?? "0");
    for (const record of childrenNamed(child(set, "ResourceRecords"), "ResourceRecord")) {
      const address = parseAddress(childText(record, "Value") ?? "");
      if (address.ok) records.push({ type, address: address.value.address, ttlS });
    }
  }
  const nextName = childText(root, "NextRecordName");
  const nextType = childText(root, "NextRecordType");
  const identifier = childText(root, "NextRecordIdentifier");
  if (childText(root, "IsTruncated") !== "true" || pastName || !nextName || !nextType || route53Name(nextName) !== name) return { records };
  return { records, next: { name: nextName, type: nextType, ...(identifier ? { identifier } : {}) } };
}

export interface Route53ClientOptions {
  readonly fetch: HttpFetch;
  readonly credentials: CredentialsProvider;
  readonly env: Env;
  readonly now?: () => number;
  /** Between two GetChange calls; default 2 s (GetChange allows 5 per second per account). */
  readonly pollIntervalMs?: number;
}

export function createRoute53Client(provider: Route53Provider, options: Route53ClientOptions): DnsProviderClient {
  const now = options.now ?? Date.now;
  const base = `${route53Endpoint(provider, options.env)}/${ROUTE53_API_VERSION}`;
  const rrset = `${base}/hostedzone/${encodeURIComponent(provider.hostedZoneId)}/rrset`;
  const pollIntervalMs = options.pollIntervalMs ?? 2000;

  async function call(method: string, url: string, signal: AbortSignal, body = ""): Promise<XmlElement> {
    const what = `${method} ${url}`;
    const credentials = await options.credentials.get(signal);
    const headers: Record<string, string> = method === "POST" ? { "content-type": "application/xml" } : {};
    const signed = signV4({ method, url, headers, body }, credentials, { region: provider.region, service: "route53" }, now());
    const bounded = AbortSignal.any([signal, AbortSignal.timeout(provider.timeoutMs)]);
    const res = await options.fetch({ method, url, headers: signed.headers, ...(method === "POST" ? { body } : {}), signal: bounded });
    if (res.status < 200 || res.status >= 300) {
      const error = parseRoute53Error(what, res.status, res.body);
      if (staleCredentialCodes.has(error.code)) options.credentials.invalidate();
      throw error;
    }
    try {
      return parseXml(res.body);
    } catch (error) {
      throw new RetryableError(`${what}: unreadable answer (${(error as Error).message})`);
    }
  }

  /** GetChange until INSYNC, or until insync_timeout (then retryable: the read-back decides). */
  async function waitInSync(changeId: string, signal: AbortSignal): Promise<void> {
    const deadlineMs = now() + provider.insyncTimeoutMs;
    const url = `${base}/change/${encodeURIComponent(changeId.replace(/^\/change\//, ""))}`;
    for (;;) {
      let status: string | undefined;
      try {
        status = childText(child(await call("GET", url, signal), "ChangeInfo"), "Status");
      } catch (error) {
        // The change is submitted: a throttled or failed poll is polled again, not the change redone.
        if (!isRetryable(error) || signal.aborted) throw error;
        status = `unknown (${(error as Error).message})`;
      }
      if (status === "INSYNC") return;
      if (now() + pollIntervalMs > deadlineMs) throw new RetryableError(`GET ${url}: change still ${status ?? "unknown"} after ${provider.insyncTimeoutMs} ms`);
      await sleepUnlessAborted(pollIntervalMs, signal);
    }
  }

  return {
    async read(name, signal) {
      const found: DnsRecord[] = [];
      let start: { name: string; type: string; identifier?: string } | undefined = { name: `${name}.`, type: "A" };
      for (let page = 0; start && page < MAX_PAGES; page++) {
        const query = `name=${encodeURIComponent(start.name)}&type=${start.type}${start.identifier ? `&identifier=${encodeURIComponent(start.identifier)}` : ""}&maxitems=${PAGE_ITEMS}`;
        const parsed = parseRecordSets(await call("GET", `${rrset}?${query}`, signal), name);
        found.push(...parsed.records);
        start = parsed.next;
      }
      return found;
    },
    steps(name, changes, actual): ChangeStep[] {
      const sets = recordSetChanges(changes, actual);
      if (sets.length === 0) return [];
      const body = changeBatchXml(name, sets, "vpnham dns_failover");
      const shown = sets.map((c) => `${c.action} ${name}. ${c.set.type} ${c.set.ttlS} ${c.set.values.join(" ")}`).join("; ");
      return [
        {
          changes,
          action: {
            kind: "route53.change",
            describe: () => `POST ${rrset}/ ${shown}`,
            async apply(signal) {
              const info = child(await call("POST", `${rrset}/`, signal, body), "ChangeInfo");
              const id = childText(info, "Id");
              if (provider.insyncTimeoutMs > 0 && id && childText(info, "Status") !== "INSYNC") await waitInSync(id, signal);
            },
          },
        },
      ];
    },
  };
}
