import { runCommand, type RunCommandOptions } from "../hooks/run-command.ts";
import { commandOk, type CommandResult } from "../hooks/types.ts";
import { RetryableError, type Action } from "./action.ts";

/**
 * An argv run as a reconcile step: the hooks' commands and any plan that shells out
 * (`vtysh -c …`, `birdc …`) share it. Runs through the hooks' process-group runner.
 */
export interface ArgvAction extends Action {
  readonly argv: readonly string[];
  /** Runs and reports the whole result (the hook scheduler logs and counts it). */
  run(signal?: AbortSignal): Promise<CommandResult>;
}

export function argvAction(
  argv: readonly string[],
  options: Omit<RunCommandOptions, "signal">,
  run: (argv: string[], options: RunCommandOptions) => Promise<CommandResult> = runCommand,
): ArgvAction {
  const self: ArgvAction = {
    kind: "argv",
    argv,
    describe: () => JSON.stringify(argv),
    run: (signal) => run([...argv], { ...options, ...(signal ? { signal } : {}) }),
    async apply(signal) {
      const result = await self.run(signal);
      if (commandOk(result)) return;
      const why = result.error ?? (result.timedOut ? "timed out" : result.signal ? `killed by ${result.signal}` : `exit ${result.exitCode}`);
      const detail = result.stderr.trim().slice(0, 200);
      // A command that timed out may succeed next time; one that exits non-zero is retried too,
      // since most are idempotent state-setters whose failure is transient (a busy daemon).
      throw new RetryableError(`${self.describe()}: ${why}${detail ? `: ${detail}` : ""}`);
    },
  };
  return self;
}
