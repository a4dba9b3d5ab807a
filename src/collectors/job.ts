/**
 * Collectors as a job (src/daemon/jobs.ts): one component, key `collectors`, for every
 * configured collector and the textfile, so node_exporter-style scrapes keep one cache and one
 * VICI connection (docs/collectors.md). A reload that changes `collectors:` or
 * `metrics.textfile_path` restarts it.
 */
import type { Config } from "../config/index.ts";
import type { Component, ComponentSpec, Job, JobContext } from "../daemon/component.ts";
import { collectorStatesFor } from "./tie-state.ts";
import { startCollectors, type CollectorsRuntime, type CollectorsRuntimeConfig } from "./index.ts";

class CollectorsComponent implements Component {
  readonly key = "collectors";
  private runtime: CollectorsRuntime | undefined;

  constructor(
    readonly settings: CollectorsRuntimeConfig,
    private readonly context: JobContext,
  ) {}

  async start(): Promise<void> {
    this.runtime = startCollectors(this.settings, this.context.metrics.registry, { collectorStates: collectorStatesFor(this.context.metrics) });
  }

  async stop(): Promise<void> {
    await this.runtime?.stop();
  }

  status(): unknown {
    return this.runtime?.status();
  }
}

export const collectorsJob: Job = (context) => (config: Config): ComponentSpec[] => {
  if (config.collectors === undefined) return [];
  const settings: CollectorsRuntimeConfig = {
    collectors: config.collectors,
    ...(config.metrics.textfilePath === undefined ? {} : { metrics: { textfilePath: config.metrics.textfilePath } }),
  };
  return [{ key: "collectors", settings, create: () => new CollectorsComponent(settings, context) }];
};
