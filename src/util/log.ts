import { createConsola, type ConsolaInstance, type LogType } from "consola";

/**
 * One process-wide logger. The CLI sets level and format at start-up; every
 * component takes a tagged child (`logger.withTag("hooks")`).
 * JSON lines go to stdout (one event per line) so init scripts and journald
 * can keep them; the pretty reporter is for terminals.
 */
export type LogFormat = "json" | "pretty";

const levels: Record<string, number> = { silent: -999, error: 0, warn: 1, info: 3, debug: 4, trace: 5 };
export const logLevelNames = Object.keys(levels);

export const logger: ConsolaInstance = createConsola({ level: levels.info });

export function configureLogger(options: { level?: string; format?: LogFormat }): void {
  if (options.level !== undefined) {
    const level = levels[options.level];
    if (level === undefined) throw new Error(`unknown log level ${options.level}`);
    logger.level = level;
  }
  if (options.format === "json") {
    logger.setReporters([
      {
        log(entry) {
          const [message, ...rest] = entry.args as unknown[];
          const fields = rest.length === 1 && typeof rest[0] === "object" && rest[0] !== null ? rest[0] : rest.length ? { args: rest } : {};
          const line = JSON.stringify({
            time: entry.date.toISOString(),
            level: levelName(entry.type),
            ...(entry.tag ? { component: entry.tag } : {}),
            msg: typeof message === "string" ? message : JSON.stringify(message),
            ...fields,
          });
          process.stdout.write(line + "\n");
        },
      },
    ]);
  }
}

function levelName(type: LogType): string {
  return type === "log" || type === "success" || type === "start" || type === "ready" || type === "box" ? "info" : type;
}
