/**
 * Checks as a job (src/daemon/jobs.ts): one component per check, key `check:<name>`, so a
 * reload restarts only the checks whose settings changed (docs/checks.md).
 */
import type { Config } from "../config/index.ts";
import type { Component, ComponentSpec, Job, JobContext } from "../daemon/component.ts";
import { checkMetrics } from "./metrics.ts";
import { startChecks, type ChecksRuntime, type CheckStatus } from "./runtime.ts";
import type { CheckSpec } from "./schema.ts";

export const CHECK_KEY_PREFIX = "check:";

class CheckComponent implements Component {
  readonly key: string;
  private runtime: ChecksRuntime | undefined;

  constructor(
    private readonly name: string,
    readonly settings: CheckSpec,
    private readonly context: JobContext,
  ) {
    this.key = `${CHECK_KEY_PREFIX}${name}`;
  }

  async start(): Promise<void> {
    this.runtime = startChecks(
      { [this.name]: this.settings },
      { metrics: checkMetrics(this.context.metrics.registry), bridgeActive: (bridge) => this.context.bridgeActive(bridge) },
    );
  }

  async stop(): Promise<void> {
    await this.runtime?.stop();
  }

  status(): CheckStatus | undefined {
    return this.runtime?.status()[this.name];
  }
}

export const checksJob: Job = (context) => (config: Config): ComponentSpec[] =>
  Object.entries(config.checks ?? {}).map(([name, spec]) => ({
    key: `${CHECK_KEY_PREFIX}${name}`,
    settings: spec,
    create: () => new CheckComponent(name, spec, context),
  }));
