/**
 * The Cloudflare v4 provider (docs/dns-failover.md §Cloudflare): `Authorization: Bearer <token>`;
 * read = `GET /zones/{zone}/dns_records?type=A&name=…` page by page; add = `POST` of one record
 * (81057/81058, "the record already exists", is success); delete = `DELETE …/dns_records/{id}`
 * with the id the read found; a TTL repair = `PATCH …/dns_records/{id}`. 429 and 5xx are worth
 * another try (the reconcile engine backs off); any other error is final. The global fetch honours
 * HTTPS_PROXY/NO_PROXY under Bun and Deno; the API base is a config key.
 */
import { RetryableError } from "../reconcile/action.ts";
import type { CloudflareProvider } from "./config.ts";
import { parseAddress } from "./names.ts";
import type { DnsRecord, RecordChange, RecordType } from "./plan.ts";
import type { ChangeStep, DnsProviderClient } from "./provider.ts";
import { DnsRefusedError } from "./rfc2136.ts";

/** Cloudflare's "an identical record already exists" codes: an add that finds it done. */
export const ALREADY_EXISTS = new Set([81057, 81058]);
const PER_PAGE = 100;
const MAX_PAGES = 50;
const MAX_BODY_BYTES = 4 * 1024 * 1024;

type Envelope = { success?: unknown; errors?: unknown; result?: unknown; result_info?: unknown };
type ApiRecord = { id: string; type: string; name: string; content: string; ttl: number };

export class CloudflareError extends DnsRefusedError {
  override name = "CloudflareError";
  constructor(
    message: string,
    readonly codes: readonly number[],
  ) {
    super(message);
  }
}

function errorsOf(body: Envelope): { codes: number[]; text: string } {
  const list = Array.isArray(body.errors) ? (body.errors as Array<{ code?: unknown; message?: unknown }>) : [];
  const codes = list.map((e) => (typeof e.code === "number" ? e.code : 0));
  const text = list.map((e) => `${String(e.code)} ${String(e.message ?? "")}`.trim()).join("; ") || "no error given";
  return { codes, text };
}

const isApiRecord = (r: unknown): r is ApiRecord =>
  typeof r === "object" && r !== null && typeof (r as ApiRecord).id === "string" && typeof (r as ApiRecord).content === "string" && typeof (r as ApiRecord).ttl === "number" && typeof (r as ApiRecord).name === "string";

export function createCloudflareClient(provider: CloudflareProvider, fetchImpl: typeof fetch = fetch): DnsProviderClient {
  const records = `${provider.apiBase}/zones/${encodeURIComponent(provider.zoneId)}/dns_records`;

  /** One API call; the envelope when `success`, else an error (retryable on 429 and 5xx). */
  async function call(method: string, url: string, signal: AbortSignal, body?: unknown): Promise<Envelope> {
    const what = `${method} ${url}`;
    let response: Response;
    try {
      response = await fetchImpl(url, {
        method,
        signal,
        headers: { Authorization: `Bearer ${provider.token}`, Accept: "application/json", ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      if ((error as Error).name === "TimeoutError" || (error as Error).name === "AbortError") throw error;
      throw new RetryableError(`${what}: ${(error as Error).message}`);
    }
    const text = await response.text();
    if (text.length > MAX_BODY_BYTES) throw new RetryableError(`${what}: answer over ${MAX_BODY_BYTES} bytes`);
    let envelope: Envelope = {};
    try {
      envelope = JSON.parse(text) as Envelope;
    } catch {
      // A proxy's HTML error page: judged by the status below.
    }
    if (response.status === 429 || response.status >= 500) throw new RetryableError(`${what}: HTTP ${response.status} (${errorsOf(envelope).text})`);
    if (envelope.success === true && response.ok) return envelope;
    const { codes, text: reason } = errorsOf(envelope);
    throw new CloudflareError(`${what}: HTTP ${response.status}: ${reason}`, codes);
  }

  async function readType(name: string, type: RecordType, signal: AbortSignal): Promise<DnsRecord[]> {
    const found: DnsRecord[] = [];
    for (let page = 1; page <= MAX_PAGES; page++) {
      const url = `${records}?type=${type}&name=${encodeURIComponent(name)}&per_page=${PER_PAGE}&page=${page}`;
      const envelope = await call("GET", url, signal);
      if (!Array.isArray(envelope.result)) throw new RetryableError(`GET ${url}: the answer has no result list`);
      for (const record of envelope.result) {
        if (!isApiRecord(record) || record.type !== type || record.name.toLowerCase().replace(/\.$/, "") !== name) continue;
        const address = parseAddress(record.content);
        if (address.ok) found.push({ type, address: address.value.address, ttlS: record.ttl, id: record.id });
      }
      const totalPages = Number((envelope.result_info as { total_pages?: unknown } | undefined)?.total_pages ?? 1);
      if (!Number.isFinite(totalPages) || page >= totalPages) return found;
    }
    throw new DnsRefusedError(`GET ${records}: more than ${MAX_PAGES} pages of ${type} records for ${name}`);
  }

  const recordBody = (name: string, change: RecordChange) => ({ type: change.type, name, content: change.address, ttl: change.ttlS, proxied: provider.proxied });

  function step(name: string, change: RecordChange, actual: readonly DnsRecord[]): ChangeStep | undefined {
    const existing = actual.find((r) => r.type === change.type && r.address === change.address);
    if (change.action === "delete") {
      if (!existing?.id) return undefined; // nothing there (or not ours to find): the read-back decides
      const url = `${records}/${encodeURIComponent(existing.id)}`;
      return { changes: [change], action: { kind: "cloudflare.delete", describe: () => `DELETE ${url} (${name} ${change.type} ${change.address})`, apply: async (signal) => void (await call("DELETE", url, signal)) } };
    }
    if (change.fromTtlS !== undefined && existing?.id) {
      const url = `${records}/${encodeURIComponent(existing.id)}`;
      const body = { ttl: change.ttlS };
      return { changes: [change], action: { kind: "cloudflare.patch", describe: () => `PATCH ${url} ${JSON.stringify(body)} (${name} ${change.type} ${change.address})`, apply: async (signal) => void (await call("PATCH", url, signal, body)) } };
    }
    const body = recordBody(name, change);
    return {
      changes: [change],
      action: {
        kind: "cloudflare.create",
        describe: () => `POST ${records} ${JSON.stringify(body)}`,
        async apply(signal) {
          try {
            await call("POST", records, signal, body);
          } catch (error) {
            if (error instanceof CloudflareError && error.codes.some((code) => ALREADY_EXISTS.has(code))) return; // done already
            throw error;
          }
        },
      },
    };
  }

  return {
    async read(name, signal) {
      const [a, aaaa] = await Promise.all([readType(name, "A", signal), readType(name, "AAAA", signal)]);
      return [...a, ...aaaa];
    },
    // One call per record, adds first: the set is never emptied between two calls.
    steps: (name, changes, actual) => changes.flatMap((change) => step(name, change, actual) ?? []),
  };
}
