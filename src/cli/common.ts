import { UserError, errorMessage } from "../util/errors.ts";
import { escapeControl } from "../util/escape.ts";
import { configureLogger, logLevelNames, type LogFormat } from "../util/log.ts";

/** Options every subcommand shares. */
export const loggingArgs = {
  "log-level": {
    type: "string",
    description: `Log level: ${logLevelNames.join(", ")}`,
    default: "info",
  },
  "log-format": {
    type: "string",
    description: "json | pretty (default: json when stdout is not a terminal)",
  },
} as const;

export const configArg = {
  config: {
    type: "string",
    alias: "c",
    description: "Config file (else $VPNHAM_CONFIG, $VPNHAM__CONFIG, ./.vpnham.yaml)",
  },
} as const;

export function setUpLogging(args: { "log-level"?: string; "log-format"?: string }): void {
  const format = args["log-format"] ?? (process.stdout.isTTY ? "pretty" : "json");
  if (format !== "json" && format !== "pretty") throw new UserError(`--log-format: ${format} is not json or pretty`);
  const level = args["log-level"] ?? "info";
  if (!logLevelNames.includes(level)) throw new UserError(`--log-level: ${level} is not one of ${logLevelNames.join(", ")}`);
  configureLogger({ level, format: format as LogFormat });
}

/**
 * Run a subcommand: a UserError is printed without a stack trace (each
 * problem on its own line) and exits 1; anything else is a bug and shows
 * its stack.
 */
export async function runCli(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    // Problems quote config keys and network answers: escaped (docs/hardening.md, "Terminal and log output").
    if (error instanceof UserError) {
      for (const problem of error.problems) process.stderr.write(`error: ${escapeControl(problem)}\n`);
      process.exit(1);
    }
    // Plain stderr, like the problems above: consola's own reporters (and their imports, ~6 MiB of
    // resident memory in the binary) stay out of the daemon (docs/performance.md §Memory).
    process.stderr.write(`error: unexpected failure: ${escapeControl(errorMessage(error))}\n`);
    if (error instanceof Error && error.stack) process.stderr.write(error.stack.split("\n").map(escapeControl).join("\n") + "\n");
    process.exit(2);
  }
}
