/**
 * Announce as a job (src/daemon/jobs.ts): one component for the `announce:` section, key
 * `announce:<backend>`; any change of the section restarts it (its drains come back from the
 * state file, and prefixes whose health is not known yet are left as the routing daemon has
 * them, so a restart does not withdraw). It adds `drain` and `undrain` to the control socket.
 */
import type { Config } from "../config/index.ts";
import type { ComponentSpec, Job } from "../daemon/component.ts";
import { AnnounceComponent, ANNOUNCE_KEY_PREFIX, type AnnounceDeps } from "./component.ts";
import { drainHandlers, type DrainControlDeps } from "./drain-control.ts";

export { ANNOUNCE_KEY_PREFIX };

/** Tests pass fakes (a command runner, a resolver); the daemon uses the defaults. */
export function createAnnounceJob(deps: AnnounceDeps & DrainControlDeps = {}): Job {
  return (context) => {
    let current: AnnounceComponent | undefined;
    const handlers = drainHandlers(() => current, deps);
    context.control?.register("drain", handlers.drain);
    context.control?.register("undrain", handlers.undrain);
    return (config: Config): ComponentSpec[] => {
      const announce = config.announce;
      if (!announce) return [];
      return [
        {
          key: `${ANNOUNCE_KEY_PREFIX}${announce.backend.kind}`,
          settings: announce,
          create: () => {
            const component = new AnnounceComponent(announce, context, deps);
            // The control handlers reach the component that runs, not one that failed to start.
            const start = component.start.bind(component);
            const stop = component.stop.bind(component);
            component.start = async () => {
              await start();
              current = component;
            };
            component.stop = async () => {
              if (current === component) current = undefined;
              await stop();
            };
            return component;
          },
        },
      ];
    };
  };
}

export const announceJob: Job = createAnnounceJob();
