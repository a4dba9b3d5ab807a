/**
 * The Azure Resource Manager calls the Azure route job makes (docs/cloud-routes.md §Azure): read
 * a route table, PUT a route (create or update in place), DELETE a route; each write's
 * long-running operation polled through `Azure-AsyncOperation` (or `Location`) until it
 * `Succeeded`. `api-version` pinned by config. Throttling (429), 5xx and
 * `AnotherOperationInProgress` are retryable.
 */
import { RetryableError } from "../../reconcile/action.ts";
import { bearerJsonCall, cloudApiError, sleepUnlessAborted, type BearerAuth } from "../api.ts";
import { headerValue, type HttpResponse } from "../http.ts";

export const defaultArmEndpoint = "https://management.azure.com/";
export const defaultNetworkApiVersion = "2023-09-01";

export interface AzureRoute {
  readonly name: string;
  readonly addressPrefix: string;
  readonly nextHopType: string;
  readonly nextHopIpAddress?: string;
  readonly provisioningState?: string;
}

export interface AzureError extends Error {
  readonly status: number;
  readonly code: string;
}

const retryableCodes = new Set(["AnotherOperationInProgress", "RetryableError", "TooManyRequests", "InternalServerError", "ServerBusy", "OperationPreempted", "Canceled", "ReferencedResourceNotProvisioned"]);

const apiError = (message: string, status: number, code: string, retryable: boolean): AzureError => cloudApiError("AzureApiError", message, { status, code }, retryable);

export function azureError(what: string, status: number, body: string): AzureError {
  let code = `HTTP${status}`;
  let message = body.slice(0, 200);
  try {
    const doc = JSON.parse(body) as { error?: { code?: string; message?: string } };
    code = doc.error?.code ?? code;
    message = doc.error?.message ?? message;
  } catch {
    // not JSON: the status decides
  }
  const text = `${what}: ${code}: ${message}`;
  return apiError(text, status, code, retryableCodes.has(code) || status === 429 || status >= 500);
}

export function parseRouteTable(body: string): AzureRoute[] {
  const doc = JSON.parse(body) as { properties?: { routes?: Array<{ name?: string; properties?: Record<string, unknown> }> } };
  return (doc.properties?.routes ?? []).map((r) => {
    const p = r.properties ?? {};
    const hop = typeof p.nextHopIpAddress === "string" ? p.nextHopIpAddress : undefined;
    const state = typeof p.provisioningState === "string" ? p.provisioningState : undefined;
    return { name: r.name ?? "", addressPrefix: String(p.addressPrefix ?? ""), nextHopType: String(p.nextHopType ?? ""), ...(hop ? { nextHopIpAddress: hop } : {}), ...(state ? { provisioningState: state } : {}) };
  });
}

export interface RouteTableRef {
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly routeTable: string;
}

export interface ArmClient {
  routes(table: RouteTableRef, signal: AbortSignal): Promise<AzureRoute[]>;
  putRoute(table: RouteTableRef, name: string, addressPrefix: string, nextHopIpAddress: string, signal: AbortSignal): Promise<void>;
  deleteRoute(table: RouteTableRef, name: string, signal: AbortSignal): Promise<void>;
}

export interface ArmOptions extends BearerAuth {
  readonly endpoint: string;
  readonly apiVersion: string;
  /** Between polls when the service gives no Retry-After; default 1 s. */
  readonly pollIntervalMs?: number;
}

export function createArmClient(options: ArmOptions): ArmClient {
  const base = options.endpoint.endsWith("/") ? options.endpoint : `${options.endpoint}/`;
  const path = (t: RouteTableRef) =>
    `subscriptions/${encodeURIComponent(t.subscriptionId)}/resourceGroups/${encodeURIComponent(t.resourceGroup)}/providers/Microsoft.Network/routeTables/${encodeURIComponent(t.routeTable)}`;

  async function call(what: string, method: string, url: string, signal: AbortSignal, body?: unknown): Promise<HttpResponse> {
    const res = await bearerJsonCall(options, method, url, signal, body);
    if (res.status === 401) throw apiError(`${what}: 401: token refused`, 401, "Unauthorized", true);
    if (res.status < 200 || res.status >= 300) throw azureError(what, res.status, res.body);
    return res;
  }

  /** Follows a long-running operation to its end. */
  async function settle(what: string, res: HttpResponse, signal: AbortSignal): Promise<void> {
    const asyncUrl = headerValue(res, "azure-asyncoperation");
    const location = headerValue(res, "location");
    const delay = (r: HttpResponse) => {
      const after = Number(headerValue(r, "retry-after"));
      return Number.isFinite(after) && after > 0 ? Math.min(after * 1000, 30_000) : (options.pollIntervalMs ?? 1000);
    };
    if (asyncUrl) {
      let last = res;
      for (;;) {
        await sleepUnlessAborted(delay(last), signal);
        last = await call(`${what} (operation)`, "GET", asyncUrl, signal);
        const doc = JSON.parse(last.body) as { status?: string; error?: { code?: string; message?: string } };
        if (doc.status === "Succeeded") return;
        if (doc.status === "Failed" || doc.status === "Canceled") throw azureError(what, 409, JSON.stringify({ error: doc.error ?? { code: doc.status, message: `operation ${doc.status}` } }));
      }
    }
    if (res.status === 202 && location) {
      let last = res;
      for (;;) {
        await sleepUnlessAborted(delay(last), signal);
        last = await call(`${what} (operation)`, "GET", location, signal);
        if (last.status !== 202) return;
      }
    }
  }

  return {
    async routes(table, signal) {
      const res = await call("routeTables.get", "GET", `${base}${path(table)}?api-version=${encodeURIComponent(options.apiVersion)}`, signal);
      try {
        return parseRouteTable(res.body);
      } catch {
        throw new RetryableError("routeTables.get: unreadable answer");
      }
    },
    async putRoute(table, name, addressPrefix, nextHopIpAddress, signal) {
      const url = `${base}${path(table)}/routes/${encodeURIComponent(name)}?api-version=${encodeURIComponent(options.apiVersion)}`;
      const res = await call("routes.createOrUpdate", "PUT", url, signal, { properties: { addressPrefix, nextHopType: "VirtualAppliance", nextHopIpAddress } });
      await settle("routes.createOrUpdate", res, signal);
    },
    async deleteRoute(table, name, signal) {
      const url = `${base}${path(table)}/routes/${encodeURIComponent(name)}?api-version=${encodeURIComponent(options.apiVersion)}`;
      const res = await call("routes.delete", "DELETE", url, signal);
      await settle("routes.delete", res, signal);
    },
  };
}
