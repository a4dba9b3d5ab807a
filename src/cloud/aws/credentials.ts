/**
 * AWS credentials in the order users expect (docs/cloud-routes.md §Credentials and metadata):
 * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, then the instance role from
 * IMDSv2, refreshed before its Expiration. Secrets are never logged and never leave this
 * module except into the signer.
 */
import { RetryableError } from "../../reconcile/action.ts";
import type { AwsCredentials } from "./sigv4.ts";
import type { ImdsClient } from "./imds.ts";
import type { Env } from "./settings.ts";

export type { AwsCredentials };

/** Static credentials from the environment, when both the key id and the secret are set. */
export function envCredentials(env: Env): AwsCredentials | undefined {
  const accessKeyId = env.AWS_ACCESS_KEY_ID?.trim();
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY?.trim();
  if (!accessKeyId || !secretAccessKey) return undefined;
  const sessionToken = env.AWS_SESSION_TOKEN?.trim();
  return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
}

/** The role document IMDS serves at iam/security-credentials/<role>. Throws on anything else. */
export function parseRoleCredentials(text: string): AwsCredentials {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error("IMDS role credentials: not JSON");
  }
  if (doc === null || typeof doc !== "object") throw new Error("IMDS role credentials: not an object");
  if (doc.Code !== undefined && doc.Code !== "Success") throw new RetryableError(`IMDS role credentials: Code ${String(doc.Code)}`);
  const { AccessKeyId, SecretAccessKey, Token, Expiration } = doc;
  if (typeof AccessKeyId !== "string" || typeof SecretAccessKey !== "string" || AccessKeyId === "" || SecretAccessKey === "") {
    throw new Error("IMDS role credentials: AccessKeyId or SecretAccessKey missing");
  }
  const expiresAtMs = typeof Expiration === "string" ? Date.parse(Expiration) : Number.NaN;
  return {
    accessKeyId: AccessKeyId,
    secretAccessKey: SecretAccessKey,
    ...(typeof Token === "string" && Token !== "" ? { sessionToken: Token } : {}),
    ...(Number.isFinite(expiresAtMs) ? { expiresAtMs } : {}),
  };
}

/**
 * Whether to fetch again before signing at `nowMs`: within `marginMs` of expiry (5 min by
 * default, as the SDKs do), or past half the remaining life when that is shorter.
 */
export function needsRefresh(credentials: AwsCredentials, fetchedAtMs: number, nowMs: number, marginMs = 5 * 60_000): boolean {
  if (credentials.expiresAtMs === undefined) return false;
  const lifeMs = credentials.expiresAtMs - fetchedAtMs;
  return nowMs >= credentials.expiresAtMs - Math.min(marginMs, Math.max(0, lifeMs / 2));
}

export interface CredentialsProvider {
  get(signal: AbortSignal): Promise<AwsCredentials>;
  /** After the API said the credentials are expired or unknown: fetch again next time. */
  invalidate(): void;
  /** Where the current ones came from ("environment", "instance role <name>"), for status and logs. */
  source(): string | undefined;
}

export function createCredentialsProvider(options: { env: Env; imds?: ImdsClient; now?: () => number; refreshMarginMs?: number }): CredentialsProvider {
  const now = options.now ?? Date.now;
  let cached: { credentials: AwsCredentials; fetchedAtMs: number; source: string } | undefined;
  let inFlight: Promise<AwsCredentials> | undefined;

  async function fromImds(signal: AbortSignal): Promise<AwsCredentials> {
    if (!options.imds) throw new Error("no AWS credentials: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run on EC2 with an instance role (IMDS is disabled)");
    const fetchedAtMs = now();
    const roles = await options.imds.get("iam/security-credentials/", signal);
    const role = roles?.split("\n").map((line) => line.trim()).find((line) => line !== "");
    if (!role) throw new Error("no AWS credentials: the instance has no IAM role (IMDS iam/security-credentials/ is empty) and AWS_ACCESS_KEY_ID is not set");
    const text = await options.imds.get(`iam/security-credentials/${encodeURIComponent(role)}`, signal);
    if (text === undefined) throw new RetryableError(`IMDS: role ${role} has no credentials (yet)`);
    const credentials = parseRoleCredentials(text);
    cached = { credentials, fetchedAtMs, source: `instance role ${role}` };
    return credentials;
  }

  return {
    async get(signal) {
      const fromEnv = envCredentials(options.env);
      if (fromEnv) {
        cached = { credentials: fromEnv, fetchedAtMs: now(), source: "environment" };
        return fromEnv;
      }
      if (cached && !needsRefresh(cached.credentials, cached.fetchedAtMs, now(), options.refreshMarginMs)) return cached.credentials;
      // Concurrent callers (one loop per route table) share one fetch.
      inFlight ??= fromImds(signal).finally(() => (inFlight = undefined));
      return await inFlight;
    },
    invalidate() {
      cached = undefined;
    },
    source: () => cached?.source,
  };
}
