import { defineCommand } from "citty";
import { loadConfig, resolveConfigPath, type Config } from "../config/index.ts";
import { startDaemon, type Daemon } from "../daemon/daemon.ts";
import { errorMessage } from "../util/errors.ts";
import { logger } from "../util/log.ts";
import { configArg, loggingArgs, runCli, setUpLogging } from "./common.ts";

export default defineCommand({
  meta: { name: "serve", description: "Monitor the tunnels and run hooks (the default command)" },
  args: {
    ...configArg,
    ...loggingArgs,
    "dry-run": { type: "boolean", description: "Log the hooks that would run; run none" },
  },
  run: ({ args }) =>
    runCli(async () => {
      setUpLogging(args);
      const log = logger.withTag("serve");
      // From the start: a SIGHUP before the daemon is up would otherwise kill the process.
      const signals = listenForSignals();
      const path = resolveConfigPath(args.config, process.env, process.cwd());
      const { config, warnings } = loadConfig(path);
      for (const w of warnings) log.warn(w);
      const daemon = await startDaemon(config, args["dry-run"] ? { dryRun: true } : {});
      await signals.serve(daemon, () => {
        const next = loadConfig(path);
        for (const w of next.warnings) log.warn(w);
        return next.config;
      });
    }),
});

/**
 * SIGTERM/SIGINT: stop probing and serving, let a running hook finish, exit 0.
 * SIGHUP: reload; an invalid config keeps the old one running and says why.
 * Signals that arrive before the daemon is up wait for it; a SIGHUP while
 * stopping is ignored (it would start bridges again).
 */
export function listenForSignals(): {
  serve(daemon: Daemon, reloadConfig: () => Config): Promise<void>;
} {
  const log = logger.withTag("serve");
  let daemon: Daemon | undefined;
  let reloadConfig: (() => Config) | undefined;
  let reloadPending = false;
  let stopping = false;
  let reloading = Promise.resolve();
  let stopRequested: ((signal: string) => void) | undefined;
  let earlyStop: string | undefined;

  const reload = (): void => {
    if (stopping) return void log.warn("SIGHUP ignored: stopping");
    if (!daemon || !reloadConfig) {
      reloadPending = true;
      return;
    }
    const d = daemon;
    const load = reloadConfig;
    reloading = reloading.then(async () => {
      try {
        const result = await d.reload(load());
        d.metrics.configReloads.inc({ outcome: result.failed.length ? "failed" : "ok" });
        for (const f of result.failed) {
          log.error(
            `reload: ${f.key} could not start with its new settings (${f.error}); ` +
              (f.rolledBack ? "it runs with its previous settings" : "it is stopped"),
          );
        }
      } catch (error) {
        d.metrics.configReloads.inc({ outcome: "failed" });
        const problems = (error as { problems?: readonly string[] }).problems ?? [errorMessage(error)];
        log.error(`reload failed, still running the previous configuration: ${problems.join("; ")}`);
      }
    });
  };
  const stop = (signal: string): void => {
    if (stopRequested) stopRequested(signal);
    else earlyStop ??= signal;
  };
  process.on("SIGHUP", reload);
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));

  return {
    async serve(started, loadConfig) {
      daemon = started;
      reloadConfig = loadConfig;
      if (reloadPending && !earlyStop) reload();
      const signal = await new Promise<string>((resolve) => {
        if (earlyStop) resolve(earlyStop);
        else stopRequested = resolve;
      });
      stopping = true;
      log.info(`${signal}: stopping`);
      await reloading;
      await started.stop();
      log.info("stopped");
      process.exit(0);
    },
  };
}
