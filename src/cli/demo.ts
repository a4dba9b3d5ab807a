import { defineCommand } from "citty";
import { runDemoStory, startDemoWorld } from "../demo/run-demo.ts";
import { logger } from "../util/log.ts";
import { loggingArgs, runCli, setUpLogging } from "./common.ts";

export default defineCommand({
  meta: { name: "demo", description: "Run the 2×2 topology on loopback and show failover and reclaim" },
  args: {
    ...loggingArgs,
    "log-level": { ...loggingArgs["log-level"], default: "warn" },
    once: { type: "boolean", description: "Exit after the story instead of monitoring until Ctrl-C" },
    "probe-interval": { type: "string", description: "Probe interval of the demo hosts", default: "200ms" },
  },
  run: ({ args }) =>
    runCli(async () => {
      setUpLogging({ ...args, "log-format": args["log-format"] ?? "pretty" });
      const print = (line: string) => process.stdout.write(line + "\n");
      const timing = { probeInterval: args["probe-interval"], thresholdDown: 3, thresholdUp: 2 };
      const world = await startDemoWorld({ timing, print });
      const stop = async (code: number) => {
        await world.stop();
        process.exit(code);
      };
      process.once("SIGINT", () => void stop(0));
      process.once("SIGTERM", () => void stop(0));
      try {
        await runDemoStory(world, { once: args.once === true, timing, print, stepTimeoutMs: 30_000 });
      } catch (error) {
        logger.error(String(error));
        await stop(1);
      }
      if (args.once) await stop(0);
      print("\nmonitoring continues; Ctrl-C to stop");
    }),
});
