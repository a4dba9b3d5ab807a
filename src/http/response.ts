/** What a handler answers; the server adds Content-Length, Date and Connection. */
export interface HttpResponse {
  status: number;
  headers?: Readonly<Record<string, string>>;
  body?: string | Uint8Array;
}

const REASONS: Readonly<Record<number, string>> = {
  200: "OK",
  400: "Bad Request",
  401: "Unauthorized",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  413: "Content Too Large",
  414: "URI Too Long",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  503: "Service Unavailable",
  505: "HTTP Version Not Supported",
};

export function reasonPhrase(status: number): string {
  return REASONS[status] ?? "Unknown";
}

/** A short plain-text answer. */
export function textResponse(status: number, body: string, headers: Record<string, string> = {}): HttpResponse {
  return { status, headers: { "Content-Type": "text/plain; charset=utf-8", ...headers }, body };
}

/**
 * The bytes of an HTTP/1.1 response. A HEAD answer keeps the Content-Length of the body it
 * leaves out (RFC 9110 §9.3.2). Header fields a handler must not set, or whose value would
 * break the framing (CR/LF), are dropped.
 */
export function formatResponse(
  res: HttpResponse,
  opts: { omitBody: boolean; close: boolean; nowMs: number; /** HTTP/1.0 keeps a connection only when told so. */ keepAliveHeader?: boolean },
): Buffer {
  // A byte body is viewed, not copied (a scrape of 1 000 tunnels is 14 MB).
  const raw = res.body ?? new Uint8Array(0);
  const body = typeof raw === "string" ? Buffer.from(raw, "utf8") : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  let head = `HTTP/1.1 ${res.status} ${reasonPhrase(res.status)}\r\n`;
  for (const [name, value] of Object.entries(res.headers ?? {})) {
    if (RESERVED.has(name.toLowerCase()) || /[\r\n]/.test(name) || /[\r\n]/.test(value)) continue;
    head += `${name}: ${value}\r\n`;
  }
  head += `Date: ${new Date(opts.nowMs).toUTCString()}\r\nContent-Length: ${body.length}\r\n`;
  if (opts.close) head += "Connection: close\r\n";
  else if (opts.keepAliveHeader) head += "Connection: keep-alive\r\n";
  head += "\r\n";
  const headBytes = Buffer.from(head, "latin1");
  return opts.omitBody || body.length === 0 ? headBytes : Buffer.concat([headBytes, body]);
}

const RESERVED = new Set(["content-length", "connection", "date", "transfer-encoding", "keep-alive"]);
