/**
 * AWS Signature Version 4, pure (docs/cloud-routes.md §Signing): canonical request → string to
 * sign → HMAC chain `AWS4`+secret / date / region / service / `aws4_request`. Our own, no SDK:
 * tested against the AWS SigV4 test-suite vectors and against requests the official JS SDK and
 * aws4fetch signed (test/cloud/aws/sigv4.test.ts). The loopback fake EC2 verifies with
 * `verifySigV4`, so every request the tests make is checked by the same rules.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

export const SIGV4_ALGORITHM = "AWS4-HMAC-SHA256";

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Temporary credentials (IMDS role, STS) come with one; sent as X-Amz-Security-Token. */
  readonly sessionToken?: string;
  /** When temporary credentials stop working (ms since epoch). */
  readonly expiresAtMs?: number;
}

export interface SigV4Request {
  readonly method: string;
  readonly url: string;
  /** Any case; the signer lower-cases them. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface SigV4Scope {
  readonly region: string;
  readonly service: string;
}

export const sha256Hex = (data: string | Uint8Array): string => createHash("sha256").update(data).digest("hex");
const hmac = (key: string | Uint8Array, data: string): Buffer => createHmac("sha256", key).update(data, "utf8").digest();

/** `20150830T123600Z` for a time in ms since epoch. */
export function amzDate(unixMs: number): string {
  return new Date(unixMs).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

/** RFC 3986 percent-encoding, as SigV4 wants it (unreserved: A-Z a-z 0-9 - _ . ~). */
export function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, " "));
  } catch {
    return text;
  }
}

/** The path, each segment encoded once (what EC2 and S3 agree on for plain paths like `/`). */
export function canonicalUri(url: URL): string {
  const path = url.pathname || "/";
  return path
    .split("/")
    .map((segment) => uriEncode(decode(segment)))
    .join("/");
}

/** Query parameters encoded and sorted by name, then value. */
export function canonicalQuery(url: URL): string {
  const raw = url.search.replace(/^\?/, "");
  if (raw === "") return "";
  const pairs = raw
    .split("&")
    .filter((p) => p !== "")
    .map((p) => {
      const at = p.indexOf("=");
      const [k, v] = at < 0 ? [p, ""] : [p.slice(0, at), p.slice(at + 1)];
      return [uriEncode(decode(k)), uriEncode(decode(v))] as const;
    });
  pairs.sort(([ka, va], [kb, vb]) => (ka < kb ? -1 : ka > kb ? 1 : va < vb ? -1 : va > vb ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join("&");
}

/** Header value as signed: trimmed, runs of spaces collapsed. */
const canonicalValue = (value: string): string => value.trim().replace(/\s+/g, " ");

export function lowerCaseHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = value;
  return out;
}

/** The canonical request of the SigV4 spec; `headers` lower-cased, `signed` sorted lower-case names. */
export function canonicalRequest(method: string, url: URL, headers: Readonly<Record<string, string>>, signed: readonly string[], payloadHash: string): string {
  const lines = signed.map((name) => `${name}:${canonicalValue(headers[name] ?? "")}\n`).join("");
  return [method.toUpperCase(), canonicalUri(url), canonicalQuery(url), lines, signed.join(";"), payloadHash].join("\n");
}

export function credentialScope(date: string, scope: SigV4Scope): string {
  return `${date}/${scope.region}/${scope.service}/aws4_request`;
}

export function stringToSign(amz: string, scope: string, canonical: string): string {
  return [SIGV4_ALGORITHM, amz, scope, sha256Hex(canonical)].join("\n");
}

export function signingKey(secret: string, date: string, scope: SigV4Scope): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), scope.region), scope.service), "aws4_request");
}

export interface SignOptions {
  /** Also send and sign `x-amz-content-sha256` (as the JS SDK does; EC2 does not need it). */
  readonly contentSha256?: boolean;
}

export interface Signed {
  /** Every header to send, lower-cased: the caller's plus host, x-amz-date, the token and authorization. */
  readonly headers: Record<string, string>;
  readonly canonicalRequest: string;
  readonly stringToSign: string;
  readonly signature: string;
}

/** Signs every header given plus host, x-amz-date and x-amz-security-token (never the secret, never logged). */
export function signV4(request: SigV4Request, credentials: AwsCredentials, scope: SigV4Scope, nowMs: number, options: SignOptions = {}): Signed {
  const url = new URL(request.url);
  const amz = amzDate(nowMs);
  const payloadHash = sha256Hex(request.body);
  const headers = lowerCaseHeaders(request.headers);
  headers.host ??= url.host;
  headers["x-amz-date"] = amz;
  if (credentials.sessionToken) headers["x-amz-security-token"] = credentials.sessionToken;
  if (options.contentSha256) headers["x-amz-content-sha256"] = payloadHash;
  delete headers.authorization;
  const signed = Object.keys(headers).sort();
  const canonical = canonicalRequest(request.method, url, headers, signed, payloadHash);
  const scopeText = credentialScope(amz.slice(0, 8), scope);
  const toSign = stringToSign(amz, scopeText, canonical);
  const signature = createHmac("sha256", signingKey(credentials.secretAccessKey, amz.slice(0, 8), scope)).update(toSign, "utf8").digest("hex");
  headers.authorization = `${SIGV4_ALGORITHM} Credential=${credentials.accessKeyId}/${scopeText}, SignedHeaders=${signed.join(";")}, Signature=${signature}`;
  return { headers, canonicalRequest: canonical, stringToSign: toSign, signature };
}

export interface ParsedAuthorization {
  readonly accessKeyId: string;
  readonly date: string;
  readonly region: string;
  readonly service: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
}

/** The parts of an `Authorization: AWS4-HMAC-SHA256 …` header; undefined when malformed. */
export function parseAuthorization(header: string | undefined): ParsedAuthorization | undefined {
  const m = /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/.exec(header ?? "");
  if (!m) return undefined;
  return { accessKeyId: m[1]!, date: m[2]!, region: m[3]!, service: m[4]!, signedHeaders: m[5]!.split(";"), signature: m[6]! };
}

export type VerifyResult = { ok: true; auth: ParsedAuthorization } | { ok: false; reason: string; code: "IncompleteSignature" | "AuthFailure" | "SignatureDoesNotMatch" | "RequestExpired" };

/**
 * Checks a received request as AWS would (the loopback fakes use it): the authorization header
 * parses, host and x-amz-date are signed, the date is within `skewMs` of `nowMs`, the body hash
 * matches x-amz-content-sha256 when sent, and the signature matches the secret of the key id.
 */
export function verifySigV4(
  request: { method: string; path: string; headers: Readonly<Record<string, string | undefined>>; body: string },
  secretOf: (accessKeyId: string) => { secret: string; sessionToken?: string } | undefined,
  nowMs: number,
  skewMs = 5 * 60_000,
): VerifyResult {
  const auth = parseAuthorization(request.headers.authorization);
  if (!auth) return { ok: false, code: "IncompleteSignature", reason: "missing or malformed Authorization header" };
  const known = secretOf(auth.accessKeyId);
  if (!known) return { ok: false, code: "AuthFailure", reason: `unknown access key ${auth.accessKeyId}` };
  for (const name of ["host", "x-amz-date"]) {
    if (!auth.signedHeaders.includes(name)) return { ok: false, code: "IncompleteSignature", reason: `${name} is not signed` };
  }
  const amz = request.headers["x-amz-date"] ?? "";
  const at = Date.parse(amz.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, "$1-$2-$3T$4:$5:$6Z"));
  if (!Number.isFinite(at) || amz.slice(0, 8) !== auth.date) return { ok: false, code: "IncompleteSignature", reason: "bad x-amz-date" };
  if (Math.abs(at - nowMs) > skewMs) return { ok: false, code: "RequestExpired", reason: `x-amz-date ${amz} is too far from now` };
  if (known.sessionToken !== undefined && request.headers["x-amz-security-token"] !== known.sessionToken) {
    return { ok: false, code: "AuthFailure", reason: "missing or wrong security token" };
  }
  const payloadHash = sha256Hex(request.body);
  const declared = request.headers["x-amz-content-sha256"];
  if (declared !== undefined && declared !== payloadHash) return { ok: false, code: "SignatureDoesNotMatch", reason: "body does not match x-amz-content-sha256" };
  const url = new URL(request.path, "http://placeholder");
  const headers: Record<string, string> = {};
  for (const name of auth.signedHeaders) headers[name] = request.headers[name] ?? "";
  const canonical = canonicalRequest(request.method, url, headers, auth.signedHeaders, payloadHash);
  const scope = { region: auth.region, service: auth.service };
  const toSign = stringToSign(amz, credentialScope(auth.date, scope), canonical);
  const expected = createHmac("sha256", signingKey(known.secret, auth.date, scope)).update(toSign, "utf8").digest();
  if (!timingSafeEqual(expected, Buffer.from(auth.signature, "hex"))) {
    return { ok: false, code: "SignatureDoesNotMatch", reason: "the request signature we calculated does not match the signature you provided" };
  }
  return { ok: true, auth };
}
