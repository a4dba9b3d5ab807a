/**
 * The control socket's protocol (docs/operations.md §Control socket), pure: JSON lines, one
 * request per line, one answer per request, in order.
 *
 *   → {"id": 1, "command": "status"}
 *   → {"id": 2, "command": "drain", "args": {"target": "web", "reason": "maintenance"}}
 *   ← {"id": 1, "ok": true, "result": {...}}
 *   ← {"id": 1, "ok": false, "error": "..."}
 *
 * `status` and `reload` are the daemon's own; jobs add theirs (registry.ts), so the server
 * passes the commands it serves to {@link parseRequest}.
 */
export const controlCommands = ["status", "reload"] as const;
/** A command the server serves: its own or a job's. */
export type ControlCommand = string;

/** Longest request line; anything longer is refused and the connection closed. */
export const MAX_REQUEST_BYTES = 64 * 1024;

export type RequestId = string | number | null;

export interface ControlRequest {
  readonly id: RequestId;
  readonly command: ControlCommand;
  /** The command's arguments: a JSON object, present only when the request had one. */
  readonly args?: Readonly<Record<string, unknown>>;
}

export type ParsedRequest = { ok: true; request: ControlRequest } | { ok: false; id: RequestId; error: string };

export type ControlResponse = { id: RequestId; ok: true; result: unknown } | { id: RequestId; ok: false; error: string };

/** One line (without its newline) → a request for one of `commands`, or why not. */
export function parseRequest(line: string, commands: readonly string[] = controlCommands): ParsedRequest {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { ok: false, id: null, error: "not JSON: send one JSON object per line" };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, id: null, error: "a request is a JSON object" };
  }
  const { id: rawId, command, args } = value as { id?: unknown; command?: unknown; args?: unknown };
  const id: RequestId = typeof rawId === "string" || typeof rawId === "number" ? rawId : null;
  if (typeof command !== "string" || !commands.includes(command)) {
    return { ok: false, id, error: `command must be one of ${commands.join(", ")}` };
  }
  if (args === undefined) return { ok: true, request: { id, command } };
  if (typeof args !== "object" || args === null || Array.isArray(args)) return { ok: false, id, error: "args must be a JSON object" };
  return { ok: true, request: { id, command, args: args as Record<string, unknown> } };
}

/** The metric label for a request line: a known command, else "invalid" (bounded series). */
export function commandLabel(parsed: ParsedRequest): string {
  return parsed.ok ? parsed.request.command : "invalid";
}

export function encodeResponse(response: ControlResponse): string {
  return `${JSON.stringify(response)}\n`;
}

/**
 * Splits a byte stream into lines, refusing a line longer than `maxBytes` (the
 * attacker's endless line never grows our memory past it).
 */
export class LineSplitter {
  private pending = "";
  constructor(private readonly maxBytes = MAX_REQUEST_BYTES) {}

  push(chunk: string): { lines: string[]; overflow: boolean } {
    const text = this.pending + chunk;
    const parts = text.split("\n");
    this.pending = parts.pop()!;
    const lines = parts.map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l)).filter((l) => l.trim() !== "");
    const overflow = Buffer.byteLength(this.pending) > this.maxBytes || lines.some((l) => Buffer.byteLength(l) > this.maxBytes);
    return { lines, overflow };
  }
}
