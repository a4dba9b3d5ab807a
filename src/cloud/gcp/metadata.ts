/**
 * The GCE metadata server (docs/cloud-routes.md §GCP): `Metadata-Flavor: Google` on every
 * request, base from config, `GCE_METADATA_HOST` or `http://metadata.google.internal`; the
 * instance's project, zone, name and network interfaces; the default service account's access
 * token, fetched again shortly before `expires_in` ends or after the API refused it.
 */
import { RetryableError } from "../../reconcile/action.ts";
import { errorMessage } from "../../util/errors.ts";
import { HttpTransportError, type HttpFetch } from "../http.ts";
import type { Env } from "../aws/settings.ts";

export const defaultGceMetadataEndpoint = "http://metadata.google.internal";

/** Config key, then GCE_METADATA_HOST (a host[:port], as the Google libraries read it), then the default. */
export function gceMetadataEndpoint(configured: string | undefined, env: Env): string {
  if (configured?.trim()) return configured.trim().replace(/\/+$/, "");
  const host = env.GCE_METADATA_HOST?.trim();
  if (host) return host.includes("://") ? host.replace(/\/+$/, "") : `http://${host}`;
  return defaultGceMetadataEndpoint;
}

export interface GceNic {
  readonly ip: string;
  /** Short name of the VPC network (`default`). */
  readonly network: string;
  readonly ipv6s: readonly string[];
}

export interface GceInstance {
  readonly project: string;
  readonly zone: string;
  readonly name: string;
  readonly nics: readonly GceNic[];
}

export interface GceMetadata {
  get(path: string, signal: AbortSignal): Promise<string>;
  instance(signal: AbortSignal): Promise<GceInstance>;
  token(signal: AbortSignal): Promise<string>;
  invalidateToken(): void;
}

const lastSegment = (text: string): string => text.split("/").filter((s) => s !== "").pop() ?? text;

/** Whether a token fetched at `fetchedAtMs` with `expiresInS` should be replaced at `nowMs`. */
export function gceTokenStale(fetchedAtMs: number, expiresInS: number, nowMs: number): boolean {
  const lifeMs = expiresInS * 1000;
  return nowMs >= fetchedAtMs + lifeMs - Math.min(60_000, lifeMs / 2);
}

export function createGceMetadata(options: { endpoint: string; fetch: HttpFetch; now?: () => number }): GceMetadata {
  const now = options.now ?? Date.now;
  let token: { value: string; fetchedAtMs: number; expiresInS: number } | undefined;
  const get = async (path: string, signal: AbortSignal): Promise<string> => {
    let res;
    try {
      res = await options.fetch({ method: "GET", url: `${options.endpoint}/computeMetadata/v1/${path}`, headers: { "metadata-flavor": "Google" }, signal, direct: true, maxBodyBytes: 256 * 1024 });
    } catch (error) {
      if (error instanceof HttpTransportError) throw new HttpTransportError(`GCE metadata server (is this a GCE instance?): ${errorMessage(error)}`);
      throw error;
    }
    if (res.status === 200) return res.body;
    const message = `GCE metadata ${path}: HTTP ${res.status}`;
    throw res.status >= 500 || res.status === 429 ? new RetryableError(message) : new Error(message);
  };
  return {
    get,
    async instance(signal) {
      const [project, zone, name, nics] = await Promise.all([
        get("project/project-id", signal),
        get("instance/zone", signal),
        get("instance/name", signal),
        get("instance/network-interfaces/?recursive=true", signal),
      ]);
      let list: Array<{ ip?: string; network?: string; ipv6s?: string[] }>;
      try {
        list = JSON.parse(nics) as typeof list;
      } catch {
        throw new Error("GCE metadata instance/network-interfaces: not JSON");
      }
      return {
        project: project.trim(),
        zone: lastSegment(zone.trim()),
        name: name.trim(),
        nics: list.map((n) => ({ ip: n.ip ?? "", network: lastSegment(n.network ?? ""), ipv6s: n.ipv6s ?? [] })),
      };
    },
    async token(signal) {
      if (token && !gceTokenStale(token.fetchedAtMs, token.expiresInS, now())) return token.value;
      const fetchedAtMs = now();
      const text = await get("instance/service-accounts/default/token", signal);
      let doc: { access_token?: unknown; expires_in?: unknown };
      try {
        doc = JSON.parse(text) as typeof doc;
      } catch {
        throw new Error("GCE metadata token: not JSON");
      }
      if (typeof doc.access_token !== "string" || doc.access_token === "") throw new Error("GCE metadata token: no access_token (does the instance have a service account?)");
      const expiresInS = typeof doc.expires_in === "number" && doc.expires_in > 0 ? doc.expires_in : 300;
      token = { value: doc.access_token, fetchedAtMs, expiresInS };
      return token.value;
    },
    invalidateToken() {
      token = undefined;
    },
  };
}
