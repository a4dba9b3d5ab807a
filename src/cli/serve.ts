import { defineCommand } from "citty";
import { loadConfig, resolveConfigPath, type Config } from "../config/index.ts";
import { loadConfigOffThread } from "../config/load-off-thread.ts";
import { createControlMetrics } from "../control/metrics.ts";
import { startControlServer } from "../control/server.ts";
import { startDaemon, type Daemon, type ReloadResult } from "../daemon/daemon.ts";
import { UserError, errorMessage } from "../util/errors.ts";
import { VERSION } from "../version.ts";
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
      const { config, warnings } = await loadConfig(path);
      for (const w of warnings) log.warn(w);
      const daemon = await startDaemon(config, args["dry-run"] ? { dryRun: true } : {});
      // Monitoring matters more than the control socket: without it the daemon still runs.
      const control = await startControl(daemon, config, signals).catch((error: unknown) => {
        log.error(`${errorMessage(error)}; running without a control socket`);
        return undefined;
      });
      await signals.serve(
        daemon,
        async () => {
          const next = await loadConfigOffThread(path);
          for (const w of next.warnings) log.warn(w);
          if (next.config.control.socketPath !== config.control.socketPath) {
            log.warn(`control.socket_path changed: the new path takes effect at the next restart (still ${config.control.socketPath})`);
          }
          return next.config;
        },
        async () => control?.close(),
      );
    }),
});

/** The control socket (docs/operations.md §Control socket): `vpnham ctl status | reload`. */
function startControl(daemon: Daemon, config: Config, signals: ReturnType<typeof listenForSignals>) {
  const metrics = createControlMetrics(daemon.metrics.registry);
  return startControlServer({
    path: config.control.socketPath,
    onRequest: (command, outcome) => metrics.requests.inc({ command, outcome }),
    handlers: {
      status: async () => ({
        version: VERSION,
        pid: process.pid,
        bridges: Object.fromEntries([...daemon.bridges()].map(([name, bridge]) => [name, bridge.status()])),
        // Every job's components (bridges, checks, collectors, …) by key.
        components: daemon.status(),
      }),
      reload: () => signals.reload(),
      // The jobs' own commands (drain, undrain, …), registered when the daemon set them up.
      ...Object.fromEntries(daemon.controlHandlers()),
    },
  });
}

/**
 * SIGTERM/SIGINT: stop probing and serving, let a running hook finish, exit 0.
 * SIGHUP: reload; an invalid config keeps the old one running and says why. The config is
 * read and checked in a worker thread (loadConfigOffThread), so a hostile or huge file never
 * stalls probing or serving.
 * Signals that arrive before the daemon is up wait for it; a SIGHUP while
 * stopping is ignored (it would start bridges again).
 */
export function listenForSignals(): {
  serve(daemon: Daemon, reloadConfig: () => Promise<Config>, beforeStop?: () => Promise<void>): Promise<void>;
  /** Reload now (as SIGHUP does); resolves with what changed, rejects with why not. */
  reload(): Promise<ReloadResult>;
} {
  const log = logger.withTag("serve");
  let daemon: Daemon | undefined;
  let reloadConfig: (() => Promise<Config>) | undefined;
  let reloadPending = false;
  let stopping = false;
  let reloading = Promise.resolve();
  let stopRequested: ((signal: string) => void) | undefined;
  let earlyStop: string | undefined;

  /** One reload at a time, in order; the result (or why it failed) goes to the caller too. */
  const reloadNow = (): Promise<ReloadResult> => {
    if (stopping) return Promise.reject(new UserError("stopping: no reload"));
    if (!daemon || !reloadConfig) return Promise.reject(new UserError("still starting: no reload yet"));
    const d = daemon;
    const load = reloadConfig;
    const done = reloading.then(async () => {
      try {
        const result = await d.reload(await load());
        d.metrics.configReloads.inc({ outcome: result.failed.length ? "failed" : "ok" });
        for (const f of result.failed) {
          log.error(
            `reload: ${f.key} could not start with its new settings (${f.error}); ` +
              (f.rolledBack ? "it runs with its previous settings" : "it is stopped"),
          );
        }
        return result;
      } catch (error) {
        d.metrics.configReloads.inc({ outcome: "failed" });
        const problems = (error as { problems?: readonly string[] }).problems ?? [errorMessage(error)];
        log.error(`reload failed, still running the previous configuration: ${problems.join("; ")}`);
        throw new UserError(`reload failed, still running the previous configuration: ${problems.join("; ")}`, problems);
      }
    });
    reloading = done.then(
      () => {},
      () => {},
    );
    return done;
  };
  const reload = (): void => {
    if (stopping) return void log.warn("SIGHUP ignored: stopping");
    if (!daemon || !reloadConfig) {
      reloadPending = true;
      return;
    }
    reloadNow().catch(() => {}); // logged and counted inside
  };
  const stop = (signal: string): void => {
    if (stopRequested) stopRequested(signal);
    else earlyStop ??= signal;
  };
  process.on("SIGHUP", reload);
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));

  return {
    reload: reloadNow,
    async serve(started, loadConfig, beforeStop) {
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
      await beforeStop?.();
      await started.stop();
      log.info("stopped");
      process.exit(0);
    },
  };
}
