import { defineCommand } from "citty";
import { loadConfig, resolveConfigPath } from "../config/index.ts";
import { escapeControl } from "../util/escape.ts";
import { configArg, loggingArgs, runCli, setUpLogging } from "./common.ts";

export default defineCommand({
  meta: { name: "validate", description: "Check a config file: exit 0 when valid, 1 with every problem named" },
  args: { ...configArg, ...loggingArgs },
  run: ({ args }) =>
    runCli(async () => {
      setUpLogging(args);
      const path = resolveConfigPath(args.config, process.env, process.cwd());
      const { config, warnings } = await loadConfig(path);
      for (const w of warnings) process.stderr.write(`warning: ${escapeControl(w)}\n`);
      const tunnels = config.bridges.reduce((n, b) => n + b.tunnels.length, 0);
      process.stdout.write(`${escapeControl(path)}: valid (${config.bridges.length} bridge(s), ${tunnels} tunnel(s))\n`);
    }),
});
