import { createConsola, type ConsolaInstance, type LogObject, type LogType } from "consola/core";
import { escapeControl, escapeJsonControl } from "./escape.ts";

/**
 * One process-wide logger, on consola/core (consola's own reporters are not used: docs/performance.md
 * §Memory). Components take a tagged child at import time
 * (`logger.withTag("hooks")`); consola copies options into children, so the
 * level and format live here in module state and one reporter reads them on
 * every line — configuring after import works.
 *
 * JSON lines (default when stdout is not a terminal) go to stdout, one event
 * per line with `time`, `level`, `component`, `msg` and the event's fields.
 */
export type LogFormat = "json" | "pretty";

const levels: Record<string, number> = { silent: -999, error: 0, warn: 1, info: 3, debug: 4, trace: 5 };
export const logLevelNames = Object.keys(levels);

let currentLevel = levels.info!;
let currentFormat: LogFormat = process.stdout.isTTY ? "pretty" : "json";

export const logger: ConsolaInstance = createConsola({
  level: 999, // filtering happens in the reporter, against currentLevel
  reporters: [{ log: (entry) => report(entry) }],
});

/**
 * A tagged logger without a consola child of its own: each `withTag` child carries some thirty
 * functions, and a daemon with 1 000 tunnels kept 2 000 of them alive, one per tunnel and one per
 * probe socket (docs/performance.md §Memory). This one hands its entries to the same reporter
 * as every other logger (same level, format and observers); its methods live on the prototype.
 * consola's throttling of repeated lines does not apply: its users log changes only.
 */
export class TaggedLog {
  constructor(private readonly tag: string) {}
  error(message: unknown, ...args: unknown[]): void {
    this.emit("error", 0, message, args);
  }
  warn(message: unknown, ...args: unknown[]): void {
    this.emit("warn", 1, message, args);
  }
  info(message: unknown, ...args: unknown[]): void {
    this.emit("info", 3, message, args);
  }
  debug(message: unknown, ...args: unknown[]): void {
    this.emit("debug", 4, message, args);
  }
  trace(message: unknown, ...args: unknown[]): void {
    this.emit("trace", 5, message, args);
  }
  private emit(type: LogType, level: number, message: unknown, args: unknown[]): void {
    if (level > currentLevel) return;
    report({ type, level, tag: this.tag, args: [message, ...args], date: new Date() } as LogObject);
  }
}

const listeners = new Set<(entry: LogObject) => void>();

/** Observe every entry that passes the level (tests, the demo); returns the unsubscribe. */
export function onLogEntry(listener: (entry: LogObject) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function configureLogger(options: { level?: string; format?: LogFormat }): void {
  if (options.level !== undefined) {
    const level = levels[options.level];
    if (level === undefined) throw new Error(`unknown log level ${options.level}`);
    currentLevel = level;
  }
  if (options.format !== undefined) currentFormat = options.format;
}

function report(entry: LogObject): void {
  if (entry.level > currentLevel) return;
  for (const listener of listeners) {
    try {
      listener(entry);
    } catch {
      /* an observer must never break the caller that logged */
    }
  }
  const [message, ...rest] = entry.args as unknown[];
  const fields =
    rest.length === 1 && typeof rest[0] === "object" && rest[0] !== null
      ? (rest[0] as Record<string, unknown>)
      : rest.length
        ? { args: rest }
        : {};
  const msg = typeof message === "string" ? message : message instanceof Error ? message.message : String(JSON.stringify(message));
  const level = levelName(entry.type);
  // Every interpolated string is escaped: control characters from the network or the config
  // never reach a terminal or a log file raw (docs/hardening.md, "Terminal and log output").
  if (currentFormat === "json") {
    const line = JSON.stringify({ time: entry.date.toISOString(), level, ...(entry.tag ? { component: entry.tag } : {}), msg, ...fields });
    process.stdout.write(escapeJsonControl(line) + "\n");
    return;
  }
  const extra = Object.keys(fields).length ? " " + escapeJsonControl(JSON.stringify(fields)) : "";
  const time = entry.date.toISOString().slice(11, 23);
  const stream = entry.level <= 1 ? process.stderr : process.stdout;
  const tag = entry.tag ? `[${escapeControl(entry.tag)}] ` : "";
  stream.write(`${time} ${level.toUpperCase().padEnd(5)} ${tag}${escapeControl(msg)}${extra}\n`);
}

function levelName(type: LogType): string {
  switch (type) {
    case "fatal":
    case "error":
      return "error";
    case "warn":
      return "warn";
    case "debug":
      return "debug";
    case "trace":
    case "verbose":
      return "trace";
    default:
      return "info";
  }
}
