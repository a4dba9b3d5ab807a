/**
 * The jobs the daemon runs, in start order; daemon.ts knows no job by name. A new job is a folder
 * (src/<job>/) that plugs in with:
 * - its section in `rawConfigSchema` and its key in `jobSections` (src/config/schema.ts), its
 *   model in `configModel` (src/config/model.ts), filled by normalize.ts;
 * - a `Job` (component.ts): per daemon, a function from the config to `ComponentSpec`s, keys
 *   `<job>:<name>`, settings the part of the config the component depends on (any change of it
 *   restarts the component on SIGHUP), `create()` free of side effects;
 * - components whose `stop()` removes their metric series and never throws;
 * - that `Job` appended to the list below.
 */
import { BRIDGE_KEY_PREFIX, bridgeJob } from "../bridge/job.ts";
import { checksJob } from "../checks/job.ts";
import { collectorsJob } from "../collectors/job.ts";
import { dnsFailoverJob } from "../dns/job.ts";
import { announceJob } from "../announce/job.ts";
import { cloudJob } from "../cloud/job.ts";
import type { Config } from "../config/index.ts";
import type { ComponentSpec, Job, JobContext } from "./component.ts";

export const jobs: readonly Job[] = [bridgeJob, checksJob, collectorsJob, dnsFailoverJob, announceJob, cloudJob];

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
