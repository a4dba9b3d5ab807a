/**
 * The jobs the daemon runs, in start order; daemon.ts knows no job by name. A new job is a folder
 * (src/<job>/) that plugs in with:
 * - its section in `rawConfigSchema` and its key in `jobSections` (src/config/schema.ts), its
 *   model in `configModel` (src/config/model.ts), filled by normalize.ts;
 * - a `Job` (component.ts): per daemon, a function from the config to `ComponentSpec`s, keys
 *   `<job>:<name>`, settings the part of the config the component depends on (any change of it
 *   restarts the component on SIGHUP), `create()` free of side effects;
 * - components whose `stop()` removes their metric series and never throws;
 * - an entry in the list below: its section, when a config wants it, how to load its module,
 *   and the control commands it registers.
 * A job's module loads (and the job is set up) only once a config has its section, so a daemon
 * that runs bridges alone never loads the DNS, BGP or collector code (docs/performance.md
 * §Memory); once set up, a job stays set up, and a reload without its section gets no
 * components from it.
 */
import type { Config } from "../config/index.ts";
import type { JobSection } from "../config/schema.ts";
import type { ControlHandler, ControlRegistry } from "../control/registry.ts";
import { BRIDGE_KEY_PREFIX } from "../bridge/key.ts";
import type { ComponentSpec, Job, JobContext } from "./component.ts";

export interface JobEntry {
  readonly section: JobSection;
  /** Whether a config has the section (then the job is loaded and set up). */
  wanted(config: Config): boolean;
  load(): Promise<Job>;
  /**
   * The control commands the job registers when it is set up. They are served from the start
   * (the control socket's commands are fixed when it opens); until the job is set up they
   * answer that its section is not running.
   */
  readonly commands?: readonly string[];
}

export const jobs: readonly JobEntry[] = [
  { section: "bridges", wanted: (c) => c.bridges.length > 0, load: async () => (await import("../bridge/job.ts")).bridgeJob },
  { section: "checks", wanted: (c) => c.checks !== undefined, load: async () => (await import("../checks/job.ts")).checksJob },
  { section: "collectors", wanted: (c) => c.collectors !== undefined, load: async () => (await import("../collectors/job.ts")).collectorsJob },
  { section: "dns_failover", wanted: (c) => c.dnsFailover !== undefined, load: async () => (await import("../dns/job.ts")).dnsFailoverJob },
  {
    section: "announce",
    wanted: (c) => c.announce !== undefined,
    load: async () => (await import("../announce/job.ts")).announceJob,
    commands: ["drain", "undrain"],
  },
  {
    // Cloud route tables live under a bridge's reconcile.bridge_activate (Go's keys).
    section: "bridges",
    wanted: (c) => c.bridges.some((b) => b.hooks.bridge_activate?.cloud !== undefined),
    load: async () => (await import("../cloud/job.ts")).cloudJob,
  },
];

/**
 * Sets up each job when a config first wants it; the function returned lists the components a
 * config wants, job by job, in the registry's order.
 */
export function componentSpecsFor(context: JobContext, registry: readonly JobEntry[] = jobs): (config: Config) => Promise<ComponentSpec[]> {
  const setUp = new Map<JobEntry, Promise<(config: Config) => ComponentSpec[]>>();
  const ownHandlers = new Map<string, ControlHandler>();
  for (const entry of registry) {
    for (const command of entry.commands ?? []) {
      context.control?.register(command, (args) => {
        const handler = ownHandlers.get(command);
        return handler ? handler(args) : Promise.reject(new Error(`nothing to ${command}: no ${entry.section}: section is running`));
      });
    }
  }
  const contextOf = (entry: JobEntry): JobContext => {
    if (!context.control) return context;
    const control: ControlRegistry = {
      register(command, handler) {
        if (!entry.commands?.includes(command)) throw new Error(`the ${entry.section} job registers ${command}, which its entry in jobs.ts does not list`);
        ownHandlers.set(command, handler);
      },
      handlers: () => context.control!.handlers(),
    };
    return { ...context, control };
  };
  const specsOf = (entry: JobEntry, config: Config): Promise<(config: Config) => ComponentSpec[]> | undefined => {
    let job = setUp.get(entry);
    if (!job && entry.wanted(config)) {
      job = entry.load().then((loaded) => loaded(contextOf(entry)));
      setUp.set(entry, job);
      job.catch(() => setUp.delete(entry)); // a failed import is tried again at the next (re)load
    }
    return job;
  };
  return async (config) => {
    // One job after the other, in registry order, as they were set up before loading was lazy.
    const specs: ComponentSpec[] = [];
    for (const entry of registry) specs.push(...((await specsOf(entry, config))?.(config) ?? []));
    return specs;
  };
}

/**
 * How reload results and logs name a component: a bridge by its bare name, as before there
 * were other jobs (scripts and tests reading the result keep working); any other by its key.
 */
export function reportedName(key: string): string {
  return key.startsWith(BRIDGE_KEY_PREFIX) ? key.slice(BRIDGE_KEY_PREFIX.length) : key;
}
