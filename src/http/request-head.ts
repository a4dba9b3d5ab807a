/**
 * Pure HTTP/1.x request-head parser (RFC 9112), the functional core of our HTTP server.
 *
 * Why our own: Bun's and Deno's node:http answer some malformed requests (a missing Host,
 * for one) inside the runtime, before any event reaches us, so they could be neither
 * counted nor bounded the same way on both runtimes. Our endpoints are three GETs that take
 * no body, so the head is all we need to understand; a body is only skipped.
 *
 * Strict where leniency would let a request be read two ways (request smuggling): one
 * Content-Length, never with Transfer-Encoding, no obs-fold, no control characters.
 */

export interface RequestHeadLimits {
  /** Largest head (request line + headers + blank line) in bytes; beyond it → 431. */
  maxHeadBytes: number;
  /** Largest request line in bytes; beyond it → 414. */
  maxRequestLineBytes: number;
  /** Most header fields; beyond it → 431. */
  maxHeaderCount: number;
}

export const DEFAULT_HEAD_LIMITS: RequestHeadLimits = {
  maxHeadBytes: 16 * 1024,
  maxRequestLineBytes: 8 * 1024,
  maxHeaderCount: 100,
};

/** How the body that follows the head is framed. */
export type RequestBody =
  | { kind: "none" }
  | { kind: "length"; bytes: number }
  /** Transfer-Encoding: its end can't be found without decoding it; the connection closes after the answer. */
  | { kind: "unbounded" };

export interface RequestHead {
  method: string;
  /** The request target as sent (`/status?x=1`). */
  target: string;
  /** The target's path, without query or fragment. */
  path: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minorVersion: 0 | 1;
  /** Lower-cased names; repeated fields joined with ", " (RFC 9110 §5.3). */
  headers: Readonly<Record<string, string>>;
  /** The client allows the connection to stay open after the answer. */
  keepAlive: boolean;
  body: RequestBody;
}

export type HeadParse =
  /**
   * More bytes are needed (nothing is consumed). The first `checkedBytes` are valid as far
   * as they go: pass it back with the longer buffer and they are not parsed again.
   */
  | { kind: "incomplete"; checkedBytes: number }
  | { kind: "request"; head: RequestHead; /** bytes of the head, including leading blank lines */ consumed: number }
  | HeadError;

/** The request can't be served; answer `status` and close. */
export interface HeadError {
  kind: "error";
  status: number;
  reason: string;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Field values: visible ASCII, obs-text, space and tab; no other control character.
const BAD_VALUE_CHAR = /[\x00-\x08\x0a-\x1f\x7f]/;
// Request targets: visible ASCII only (RFC 3986 characters, percent-encoded otherwise).
const BAD_TARGET_CHAR = /[^\x21-\x7e]/;
const LF = 0x0a;
const CR = 0x0d;

/**
 * Parses the head at the start of `buf`, or says why it can't. `checkedBytes` is what an
 * earlier call on a prefix of `buf` said was checked already.
 */
export function parseRequestHead(buf: Uint8Array, limits: RequestHeadLimits = DEFAULT_HEAD_LIMITS, checkedBytes = 0): HeadParse {
  // A server SHOULD ignore blank lines (CRLF or LF) before a request line (RFC 9112 §2.2);
  // a lone CR is not one.
  let start = 0;
  while (buf[start] === LF || (buf[start] === CR && buf[start + 1] === LF)) start += buf[start] === CR ? 2 : 1;

  const end = findHeadEnd(buf, start);
  if (end === -1) return incomplete(buf, start, limits, checkedBytes);
  if (end > limits.maxHeadBytes) {
    const lineEnd = buf.indexOf(LF, start);
    if (lineEnd - start > limits.maxRequestLineBytes) return error(414, "request line too long");
    return error(431, "request head too large");
  }

  const lines = splitLines(latin1(buf, start, end));
  if (!Array.isArray(lines)) return lines;
  const requestLine = parseRequestLine(lines[0]!, limits);
  if (requestLine.kind === "error") return requestLine;
  const { method, target, minorVersion } = requestLine;

  const headerLines = lines.slice(1, -2); // the head ends in a line end and an empty line
  if (headerLines.length > limits.maxHeaderCount) return error(431, "too many header fields");
  // No prototype: a header named "constructor" or "__proto__" is just a header.
  const headers: Record<string, string> = Object.create(null) as Record<string, string>;
  const seen = new Map<string, number>();
  for (const line of headerLines) {
    const field = parseHeaderLine(line);
    if (field.kind === "error") return field;
    const { key, value } = field;
    seen.set(key, (seen.get(key) ?? 0) + 1);
    headers[key] = key in headers ? `${headers[key]}, ${value}` : value;
  }

  // A client MUST send Host in HTTP/1.1, once; a server MUST answer 400 otherwise (RFC 9112 §3.2).
  if (minorVersion === 1 && seen.get("host") !== 1) return error(400, seen.has("host") ? "more than one Host" : "missing Host header");
  if (seen.get("host") === 1 && BAD_TARGET_CHAR.test(headers.host!)) return error(400, "malformed Host header");

  const body = bodyFraming(headers, minorVersion);
  if ("status" in body) return body;

  const connection = (headers.connection ?? "").toLowerCase().split(",").map((token) => token.trim());
  const keepAlive = body.kind !== "unbounded" && !connection.includes("close") && (minorVersion === 1 || connection.includes("keep-alive"));
  return {
    kind: "request",
    head: { method, target, path: targetPath(target), minorVersion, headers, keepAlive, body },
    consumed: end,
  };
}

/** The path of an origin-form (`/a?b`) or absolute-form (`http://h/a?b`) target. */
function targetPath(target: string): string {
  const origin = /^https?:\/\/[^/?#]*/i.exec(target);
  const rest = origin ? target.slice(origin[0].length) || "/" : target;
  const query = rest.search(/[?#]/);
  return query === -1 ? rest : rest.slice(0, query) || "/";
}

function bodyFraming(headers: Record<string, string>, minorVersion: 0 | 1): RequestBody | HeadError {
  const transferEncoding = headers["transfer-encoding"];
  const contentLength = headers["content-length"];
  if (transferEncoding !== undefined) {
    // Both at once is how requests are smuggled past proxies (RFC 9112 §6.1).
    if (contentLength !== undefined) return error(400, "both Transfer-Encoding and Content-Length");
    if (minorVersion === 0) return error(400, "Transfer-Encoding in an HTTP/1.0 request");
    return { kind: "unbounded" };
  }
  if (contentLength === undefined) return { kind: "none" };
  // "5, 5" (a repeated field) is allowed when every value is the same (RFC 9110 §8.6).
  const values = new Set(contentLength.split(",").map((v) => v.trim()));
  if (values.size !== 1) return error(400, "conflicting Content-Length values");
  const [value] = values as Set<string> & [string];
  if (!/^\d{1,15}$/.test(value)) return error(400, "malformed Content-Length");
  const bytes = Number(value);
  return bytes === 0 ? { kind: "none" } : { kind: "length", bytes };
}

/**
 * With the head still incomplete, rejects what is already wrong, so that garbage (a TLS
 * hello, binary noise) is refused at once instead of waiting for a blank line that may
 * never come.
 */
function incomplete(buf: Uint8Array, start: number, limits: RequestHeadLimits, checkedBytes: number): HeadParse {
  const firstLineEnd = buf.indexOf(LF, start);
  if (firstLineEnd === -1) {
    if (buf.length - start > limits.maxRequestLineBytes) return error(414, "request line too long");
    // Leading blank lines count against the head's size too: nothing grows without bound.
    if (buf.length > limits.maxHeadBytes) return error(431, "request head too large");
    const partial = latin1(buf, start, buf.length);
    if (!REQUEST_LINE_PREFIX.test(partial.endsWith("\r") ? partial.slice(0, -1) : partial)) return error(400, "malformed request line");
    return { kind: "incomplete", checkedBytes: 0 };
  }
  if (buf.length > limits.maxHeadBytes) return error(431, "request head too large");
  const lastLineEnd = buf.lastIndexOf(LF);
  let headerLines = 0;
  for (let i = buf.indexOf(LF, firstLineEnd + 1); i !== -1 && i <= lastLineEnd; i = buf.indexOf(LF, i + 1)) headerLines++;
  if (headerLines > limits.maxHeaderCount) return error(431, "too many header fields");
  // Check only the lines not checked by an earlier call (a dripped head is parsed once).
  const from = Math.max(start, checkedBytes);
  const lines = splitLines(latin1(buf, from, lastLineEnd + 1));
  if (!Array.isArray(lines)) return lines;
  lines.pop(); // the empty string after the last LF
  if (from === start) {
    const requestLine = parseRequestLine(lines.shift()!, limits);
    if (requestLine.kind === "error") return requestLine;
  }
  for (const line of lines) {
    const field = parseHeaderLine(line);
    if (field.kind === "error") return field;
  }
  return { kind: "incomplete", checkedBytes: lastLineEnd + 1 };
}

function latin1(buf: Uint8Array, from: number, to: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + from, to - from).toString("latin1");
}

// What a request line may look like before its end has arrived.
const REQUEST_LINE_PREFIX = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]*( [\x21-\x7e]*( (H(T(T(P(\/(\d(\.\d?)?)?)?)?)?)?)?)?)?$/;

/** Lines of a head (split at LF, one CR before it dropped), or an error for a bare CR. */
function splitLines(text: string): string[] | HeadError {
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    // CRLF or a bare LF end a line; a CR anywhere else is an error (RFC 9112 §2.2).
    const cut = line.endsWith("\r") ? line.slice(0, -1) : line;
    if (cut.includes("\r")) return error(400, "bare CR in the request head");
    lines[i] = cut;
  }
  return lines;
}

function parseRequestLine(
  line: string,
  limits: RequestHeadLimits,
): { kind: "line"; method: string; target: string; minorVersion: 0 | 1 } | HeadError {
  if (line.length > limits.maxRequestLineBytes) return error(414, "request line too long");
  const parts = line.split(" ");
  if (parts.length !== 3) return error(400, "malformed request line");
  const [method, target, version] = parts as [string, string, string];
  if (!TOKEN.test(method)) return error(400, "malformed method");
  if (target === "" || BAD_TARGET_CHAR.test(target)) return error(400, "malformed request target");
  const versionMatch = /^HTTP\/(\d)\.(\d)$/.exec(version);
  if (!versionMatch) return error(400, "malformed HTTP version");
  if (versionMatch[1] !== "1" || (versionMatch[2] !== "0" && versionMatch[2] !== "1")) {
    return error(505, `HTTP version ${versionMatch[1]}.${versionMatch[2]} not supported`);
  }
  // origin-form, absolute-form, or "*" for OPTIONS (RFC 9112 §3.2).
  if (!target.startsWith("/") && !(target === "*" && method === "OPTIONS") && !/^https?:\/\//i.test(target)) {
    return error(400, "malformed request target");
  }
  return { kind: "line", method, target, minorVersion: versionMatch[2] === "1" ? 1 : 0 };
}

function parseHeaderLine(line: string): { kind: "field"; key: string; value: string } | HeadError {
  if (line.startsWith(" ") || line.startsWith("\t")) return error(400, "obsolete line folding");
  const colon = line.indexOf(":");
  if (colon <= 0) return error(400, "header field without a name and colon");
  const name = line.slice(0, colon);
  if (!TOKEN.test(name)) return error(400, "malformed header field name");
  const value = trimSpaceAndTab(line.slice(colon + 1));
  if (BAD_VALUE_CHAR.test(value)) return error(400, "control character in a header field value");
  return { kind: "field", key: name.toLowerCase(), value };
}

/** Without leading and trailing SP/HTAB. A loop: the regex version is quadratic in a run of inner spaces. */
function trimSpaceAndTab(text: string): string {
  let from = 0;
  let to = text.length;
  while (from < to && (text[from] === " " || text[from] === "\t")) from++;
  while (to > from && (text[to - 1] === " " || text[to - 1] === "\t")) to--;
  return text.slice(from, to);
}

/** Index just past the blank line that ends the head ("\n\n" or "\n\r\n"), or -1. */
function findHeadEnd(buf: Uint8Array, from: number): number {
  for (let i = buf.indexOf(LF, from); i !== -1; i = buf.indexOf(LF, i + 1)) {
    if (buf[i + 1] === LF) return i + 2;
    if (buf[i + 1] === CR && buf[i + 2] === LF) return i + 3;
  }
  return -1;
}

function error(status: number, reason: string): HeadError {
  return { kind: "error", status, reason };
}
