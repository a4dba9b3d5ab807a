/**
 * The control socket's protocol (docs/operations.md §Control socket), pure: JSON lines, one
 * request per line, one answer per request, in order.
 *
 *   → {"id": 1, "command": "status"}
 *   ← {"id": 1, "ok": true, "result": {...}}
 *   ← {"id": 1, "ok": false, "error": "..."}
 */
export const controlCommands = ["status", "reload"] as const;
export type ControlCommand = (typeof controlCommands)[number];

/** Longest request line; anything longer is refused and the connection closed. */
export const MAX_REQUEST_BYTES = 64 * 1024;

export type RequestId = string | number | null;

export interface ControlRequest {
  readonly id: RequestId;
  readonly command: ControlCommand;
}

export type ParsedRequest = { ok: true; request: ControlRequest } | { ok: false; id: RequestId; error: string };

export type ControlResponse = { id: RequestId; ok: true; result: unknown } | { id: RequestId; ok: false; error: string };

function isCommand(value: unknown): value is ControlCommand {
  return typeof value === "string" && (controlCommands as readonly string[]).includes(value);
}

/** One line (without its newline) → a request, or why not. */
export function parseRequest(line: string): ParsedRequest {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { ok: false, id: null, error: "not JSON: send one JSON object per line" };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, id: null, error: "a request is a JSON object" };
  }
  const { id: rawId, command } = value as { id?: unknown; command?: unknown };
  const id: RequestId = typeof rawId === "string" || typeof rawId === "number" ? rawId : null;
  if (!isCommand(command)) {
    return { ok: false, id, error: `command must be one of ${controlCommands.join(", ")}` };
  }
  return { ok: true, request: { id, command } };
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
