/**
 * The jobs the daemon runs, in start order. A new job is a folder with a `Job` (component.ts)
 * added to this list, and a section added to `jobSections` (src/config/schema.ts); daemon.ts
 * knows no job by name.
 */
import { BRIDGE_KEY_PREFIX, bridgeJob } from "../bridge/job.ts";
import type { Config } from "../config/index.ts";
import type { ComponentSpec, Job, JobContext } from "./component.ts";

export const jobs: readonly Job[] = [bridgeJob];

/** Sets up every job once; the function returned lists the components a config wants, job by job. */
export function componentSpecsFor(context: JobContext, registry: readonly Job[] = jobs): (config: Config) => ComponentSpec[] {
  const perJob = registry.map((job) => job(context));
  return (config) => perJob.flatMap((specsOf) => specsOf(config));
}

/**
 * How reload results and logs name a component: a bridge by its bare name, as before there
 * were other jobs (scripts and tests reading the result keep working); any other by its key.
 */
export function reportedName(key: string): string {
  return key.startsWith(BRIDGE_KEY_PREFIX) ? key.slice(BRIDGE_KEY_PREFIX.length) : key;
}
