/**
 * The Compute Engine calls the GCP route job makes (docs/cloud-routes.md §GCP): list the
 * project's routes (paged), insert one, delete one, and wait on the Operation each write returns
 * until it is `DONE`. Bearer token from the metadata server. Rate limits, 5xx and the races a
 * re-read settles (alreadyExists, notFound) are retryable.
 */
import { RetryableError } from "../../reconcile/action.ts";
import { bearerJsonCall, cloudApiError, sleepUnlessAborted, type BearerAuth } from "../api.ts";

export const defaultComputeEndpoint = "https://compute.googleapis.com/compute/v1/";

export interface GceRoute {
  readonly name: string;
  /** Short network name. */
  readonly network: string;
  readonly destRange: string;
  readonly priority: number;
  readonly tags: readonly string[];
  /** `projects/p/zones/z/instances/n` (the API's URL without its host part), if that is the next hop. */
  readonly nextHopInstance?: string;
  /** The next hop's address, if that is the next hop (an instance's IP, as a route may name it instead). */
  readonly nextHopIp?: string;
  /** The next hop, whatever its kind, for logs and plans. */
  readonly target: string;
  /** The API warns that the next hop is gone or cannot forward. */
  readonly dead: boolean;
}

export interface NewRoute {
  readonly name: string;
  readonly network: string;
  readonly destRange: string;
  readonly priority: number;
  readonly tags: readonly string[];
  readonly nextHopInstance: string;
  readonly description: string;
}

export interface GceError extends Error {
  readonly status: number;
  readonly reason: string;
}

const retryableReasons = new Set(["rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded", "backendError", "internalError", "alreadyExists", "notFound", "resourceNotReady", "RESOURCE_EXHAUSTED", "ALREADY_EXISTS", "RESOURCE_NOT_FOUND", "RESOURCE_NOT_READY"]);

const apiError = (message: string, status: number, reason: string, retryable: boolean): GceError => cloudApiError("GceApiError", message, { status, reason }, retryable);

/** `{"error":{"code":409,"message":"…","errors":[{"reason":"alreadyExists"}]}}` or an Operation's error. */
export function gceError(what: string, status: number, body: unknown): GceError {
  const doc = (typeof body === "string" ? safeJson(body) : body) as { error?: { message?: string; status?: string; errors?: Array<{ reason?: string; code?: string; message?: string }> } } | undefined;
  const first = doc?.error?.errors?.[0];
  const reason = first?.reason ?? first?.code ?? doc?.error?.status ?? `HTTP${status}`;
  const message = `${what}: ${reason}: ${doc?.error?.message ?? first?.message ?? (typeof body === "string" ? body.slice(0, 200) : "")}`;
  return apiError(message, status, reason, retryableReasons.has(reason) || status === 429 || status >= 500);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const lastSegment = (text: string): string => text.split("/").filter((s) => s !== "").pop() ?? text;

/** `https://www.googleapis.com/compute/v1/projects/p/zones/z/instances/n` → `projects/p/zones/z/instances/n`. */
export function resourcePath(url: string): string {
  const at = url.indexOf("projects/");
  return at >= 0 ? url.slice(at) : url;
}

export function parseRoute(item: Record<string, unknown>): GceRoute {
  const str = (k: string): string | undefined => (typeof item[k] === "string" ? (item[k] as string) : undefined);
  const instance = str("nextHopInstance");
  const ip = str("nextHopIp");
  const target = instance ? resourcePath(instance) : (ip ?? str("nextHopGateway") ?? str("nextHopVpnTunnel") ?? str("nextHopIlb") ?? str("nextHopPeering") ?? str("nextHopNetwork") ?? "");
  const warnings = Array.isArray(item.warnings) ? (item.warnings as Array<{ code?: string }>) : [];
  return {
    name: str("name") ?? "",
    network: lastSegment(str("network") ?? ""),
    destRange: str("destRange") ?? "",
    priority: typeof item.priority === "number" ? item.priority : Number(item.priority ?? 1000),
    tags: Array.isArray(item.tags) ? (item.tags as string[]) : [],
    ...(instance ? { nextHopInstance: resourcePath(instance) } : {}),
    ...(ip ? { nextHopIp: ip } : {}),
    target: target ? resourcePath(target) : "",
    dead: warnings.some((w) => w.code === "NEXT_HOP_INSTANCE_NOT_FOUND" || w.code === "NEXT_HOP_CANNOT_IP_FORWARD" || w.code === "NEXT_HOP_INSTANCE_NOT_ON_NETWORK"),
  };
}

export interface ComputeClient {
  listRoutes(project: string, signal: AbortSignal): Promise<GceRoute[]>;
  insertRoute(project: string, route: NewRoute, signal: AbortSignal): Promise<void>;
  deleteRoute(project: string, name: string, signal: AbortSignal): Promise<void>;
}

export interface ComputeOptions extends BearerAuth {
  readonly endpoint: string;
  /** Between Operation polls; default 500 ms. */
  readonly pollIntervalMs?: number;
}

export function createComputeClient(options: ComputeOptions): ComputeClient {
  const base = options.endpoint.endsWith("/") ? options.endpoint : `${options.endpoint}/`;
  async function call(what: string, method: string, path: string, signal: AbortSignal, body?: unknown): Promise<Record<string, unknown>> {
    const res = await bearerJsonCall(options, method, `${base}${path}`, signal, body);
    if (res.status < 200 || res.status >= 300) {
      const error = gceError(what, res.status, res.body);
      throw res.status === 401 ? apiError(error.message, 401, error.reason, true) : error;
    }
    const doc = safeJson(res.body);
    if (doc === null || typeof doc !== "object") throw new RetryableError(`${what}: unreadable answer`);
    return doc as Record<string, unknown>;
  }

  async function wait(project: string, what: string, op: Record<string, unknown>, signal: AbortSignal): Promise<void> {
    let current = op;
    for (;;) {
      if (current.status === "DONE") {
        if (current.error) throw gceError(what, Number(current.httpErrorStatusCode ?? 400), { error: current.error as never });
        return;
      }
      await sleepUnlessAborted(options.pollIntervalMs ?? 500, signal);
      current = await call(`${what} (operation)`, "GET", `projects/${encodeURIComponent(project)}/global/operations/${encodeURIComponent(String(current.name))}`, signal);
    }
  }

  return {
    async listRoutes(project, signal) {
      const routes: GceRoute[] = [];
      let pageToken: string | undefined;
      for (let page = 0; page < 100; page++) {
        const query = new URLSearchParams({ maxResults: "500", ...(pageToken ? { pageToken } : {}) });
        const doc = await call("routes.list", "GET", `projects/${encodeURIComponent(project)}/global/routes?${query}`, signal);
        for (const item of Array.isArray(doc.items) ? (doc.items as Array<Record<string, unknown>>) : []) routes.push(parseRoute(item));
        pageToken = typeof doc.nextPageToken === "string" && doc.nextPageToken !== "" ? doc.nextPageToken : undefined;
        if (!pageToken) break;
      }
      return routes;
    },
    async insertRoute(project, route, signal) {
      const body = {
        name: route.name,
        network: `projects/${project}/global/networks/${route.network}`,
        destRange: route.destRange,
        priority: route.priority,
        ...(route.tags.length ? { tags: route.tags } : {}),
        nextHopInstance: route.nextHopInstance,
        description: route.description,
      };
      const op = await call("routes.insert", "POST", `projects/${encodeURIComponent(project)}/global/routes`, signal, body);
      await wait(project, "routes.insert", op, signal);
    },
    async deleteRoute(project, name, signal) {
      const op = await call("routes.delete", "DELETE", `projects/${encodeURIComponent(project)}/global/routes/${encodeURIComponent(name)}`, signal);
      await wait(project, "routes.delete", op, signal);
    },
  };
}
