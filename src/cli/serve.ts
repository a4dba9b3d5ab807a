import { defineCommand } from "citty";
import { loadConfig, resolveConfigPath } from "../config/index.ts";
import { startDaemon } from "../daemon/daemon.ts";
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
      const path = resolveConfigPath(args.config, process.env, process.cwd());
      const { config, warnings } = loadConfig(path);
      for (const w of warnings) log.warn(w);
      const daemon = await startDaemon(config, args["dry-run"] ? { dryRun: true } : {});
      await serveUntilSignalled(daemon, () => {
        const next = loadConfig(path);
        for (const w of next.warnings) log.warn(w);
        return next.config;
      });
    }),
});

/**
 * SIGTERM/SIGINT: stop probing and serving, let a running hook finish, exit 0.
 * SIGHUP: reload; an invalid config keeps the old one running and says why.
 */
export async function serveUntilSignalled(
  daemon: Awaited<ReturnType<typeof startDaemon>>,
  reloadConfig: () => ReturnType<typeof loadConfig>["config"],
): Promise<void> {
  const log = logger.withTag("serve");
  let reloading = Promise.resolve();
  process.on("SIGHUP", () => {
    reloading = reloading.then(async () => {
      try {
        const next = reloadConfig();
        await daemon.reload(next);
        daemon.metrics.configReloads.inc({ outcome: "ok" });
      } catch (error) {
        daemon.metrics.configReloads.inc({ outcome: "failed" });
        const problems = (error as { problems?: readonly string[] }).problems ?? [errorMessage(error)];
        log.error(`reload failed, still running the previous configuration: ${problems.join("; ")}`);
      }
    });
  });
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info(`${signal}: stopping`);
      resolve();
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
  await reloading;
  await daemon.stop();
  log.info("stopped");
  process.exit(0);
}
