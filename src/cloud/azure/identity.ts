/**
 * Azure Resource Manager tokens (docs/cloud-routes.md §Azure), in this order: a service
 * principal whose secret is in a file (`client_secret_file`), workload identity
 * (`AZURE_FEDERATED_TOKEN_FILE` + `AZURE_CLIENT_ID` + `AZURE_TENANT_ID`), else the VM's managed
 * identity from IMDS (`Metadata: true`, optional `client_id` for a user-assigned one). Cached until
 * shortly before expiry; dropped when ARM answers 401. Secrets and tokens are never logged.
 */
import { readFileSync } from "node:fs";
import { RetryableError } from "../../reconcile/action.ts";
import { errorMessage } from "../../util/errors.ts";
import { HttpTransportError, type HttpFetch } from "../http.ts";
import type { Env } from "../aws/settings.ts";

export const armResource = "https://management.azure.com/";

export interface AzureIdentityOptions {
  readonly fetch: HttpFetch;
  readonly env: Env;
  /** IMDS base, default http://169.254.169.254. */
  readonly metadataEndpoint: string;
  /** Entra ID base, default https://login.microsoftonline.com/. */
  readonly authority: string;
  readonly resource: string;
  readonly clientId?: string;
  readonly tenantId?: string;
  /** Absolute path of the service principal's secret. */
  readonly clientSecretFile?: string;
  readonly now?: () => number;
}

export interface AzureIdentity {
  token(signal: AbortSignal): Promise<string>;
  invalidate(): void;
  /** "managed identity", "service principal <id>", "workload identity <id>". */
  source(): string;
}

/** Refresh 5 minutes before expiry, or at half life when that is shorter. */
export function azureTokenStale(fetchedAtMs: number, expiresInS: number, nowMs: number): boolean {
  const lifeMs = expiresInS * 1000;
  return nowMs >= fetchedAtMs + lifeMs - Math.min(300_000, lifeMs / 2);
}

export function createAzureIdentity(options: AzureIdentityOptions): AzureIdentity {
  const now = options.now ?? Date.now;
  const clientId = options.clientId ?? options.env.AZURE_CLIENT_ID?.trim() ?? undefined;
  const tenantId = options.tenantId ?? options.env.AZURE_TENANT_ID?.trim() ?? undefined;
  const federatedFile = options.env.AZURE_FEDERATED_TOKEN_FILE?.trim();
  const mode: "secret" | "federated" | "managed" = options.clientSecretFile ? "secret" : federatedFile && clientId && tenantId ? "federated" : "managed";
  let cached: { value: string; fetchedAtMs: number; expiresInS: number } | undefined;
  let inFlight: Promise<string> | undefined;

  async function request(url: string, init: { method: string; headers: Record<string, string>; body?: string }, signal: AbortSignal, what: string): Promise<{ access_token?: unknown; expires_in?: unknown }> {
    let res;
    try {
      res = await options.fetch({ ...init, url, signal, direct: mode === "managed", maxBodyBytes: 64 * 1024 });
    } catch (error) {
      if (error instanceof HttpTransportError) throw new HttpTransportError(`${what}: ${errorMessage(error)}`);
      throw error;
    }
    if (res.status !== 200) {
      const message = `${what}: HTTP ${res.status}`;
      throw res.status >= 500 || res.status === 429 || res.status === 404 ? new RetryableError(message) : new Error(message);
    }
    try {
      return JSON.parse(res.body) as { access_token?: unknown; expires_in?: unknown };
    } catch {
      throw new Error(`${what}: not JSON`);
    }
  }

  async function fetchToken(signal: AbortSignal): Promise<{ access_token?: unknown; expires_in?: unknown }> {
    if (mode === "managed") {
      const query = new URLSearchParams({ "api-version": "2018-02-01", resource: options.resource, ...(clientId ? { client_id: clientId } : {}) });
      return await request(`${options.metadataEndpoint}/metadata/identity/oauth2/token?${query}`, { method: "GET", headers: { metadata: "true" } }, signal, "Azure IMDS managed identity token (is this an Azure VM with an identity?)");
    }
    if (!clientId || !tenantId) throw new Error("azure: client_secret_file needs client_id and tenant_id (or AZURE_CLIENT_ID and AZURE_TENANT_ID)");
    const form = new URLSearchParams({ grant_type: "client_credentials", client_id: clientId, scope: `${options.resource.replace(/\/$/, "")}/.default` });
    if (mode === "secret") form.set("client_secret", readFileSync(options.clientSecretFile!, "utf8").replace(/[\r\n]+$/, ""));
    else {
      form.set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
      form.set("client_assertion", readFileSync(federatedFile!, "utf8").trim());
    }
    const authority = options.authority.endsWith("/") ? options.authority : `${options.authority}/`;
    return await request(`${authority}${encodeURIComponent(tenantId)}/oauth2/v2.0/token`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: form.toString() }, signal, `Entra ID token (${mode === "secret" ? "service principal" : "workload identity"})`);
  }

  return {
    async token(signal) {
      if (cached && !azureTokenStale(cached.fetchedAtMs, cached.expiresInS, now())) return cached.value;
      // Concurrent callers (one loop per route table) share one fetch.
      inFlight ??= (async () => {
        const fetchedAtMs = now();
        const doc = await fetchToken(signal);
        if (typeof doc.access_token !== "string" || doc.access_token === "") throw new Error("Azure token: no access_token in the answer");
        const expiresInS = Number(doc.expires_in);
        cached = { value: doc.access_token, fetchedAtMs, expiresInS: Number.isFinite(expiresInS) && expiresInS > 0 ? expiresInS : 300 };
        return cached.value;
      })().finally(() => (inFlight = undefined));
      return await inFlight;
    },
    invalidate() {
      cached = undefined;
    },
    source: () => (mode === "managed" ? `managed identity${clientId ? ` ${clientId}` : ""}` : `${mode === "secret" ? "service principal" : "workload identity"} ${clientId}`),
  };
}
