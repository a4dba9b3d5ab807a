/**
 * `drain` and `undrain` on the control socket (docs/announce.md §Drain): the target is a service,
 * a configured prefix or address, or a DNS name whose A/AAAA addresses name prefixes (vip_mgmt's
 * maintenance of one data centre). The new state is saved before it takes effect, so a drain
 * the client saw succeed survives a restart; unknown names are refused with what is known.
 */
import { errorMessage } from "../util/errors.ts";
import { logger } from "../util/log.ts";
import type { AnnounceComponent } from "./component.ts";
import { boundedResolve, systemResolve, type ResolveName } from "./dns-lookup.ts";
import { saveDrainFile } from "./drain-file.ts";
import { drain, prefixesOfAddresses, resolveDrainTarget, undrain, type DrainEntry, type DrainState } from "./drains.ts";
import { parseAnnouncePrefix } from "./schema.ts";
import type { ControlArgs } from "../control/registry.ts";

const log = logger.withTag("announce");

export interface DrainControlDeps {
  /** A DNS name → its addresses (A and AAAA); default: the system resolver. */
  readonly resolve?: ResolveName;
  readonly resolveTimeoutMs?: number;
}

const maxTargetLength = 253;
const maxReasonLength = 200;

function targetOf(args: ControlArgs): string {
  const target = args.target;
  if (typeof target !== "string" || target === "" || target.length > maxTargetLength) {
    throw new Error(`target must be a service, a prefix, an address or a DNS name (1..${maxTargetLength} characters)`);
  }
  return target;
}

/** The reason as given, without control characters (it reaches logs and terminals), capped. */
function reasonOf(args: ControlArgs): string | undefined {
  if (args.reason === undefined || args.reason === null) return undefined;
  if (typeof args.reason !== "string") throw new Error("reason must be a string");
  // eslint-disable-next-line no-control-regex
  const clean = args.reason.replace(/[\u0000-\u001f\u007f-\u009f]/g, " ").trim();
  return clean === "" ? undefined : clean.slice(0, maxReasonLength);
}

type Resolved = { kind: "service"; service: string } | { kind: "prefixes"; prefixes: string[]; via?: string; unmatched?: string[] };

export function drainHandlers(current: () => AnnounceComponent | undefined, deps: DrainControlDeps = {}) {
  const resolveName = deps.resolve ?? systemResolve;
  const resolveTimeoutMs = deps.resolveTimeoutMs ?? 5_000;
  // One change of the state at a time: read, modify, save, apply.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(work, work);
    queue = next.catch(() => {});
    return next;
  };

  const running = (): AnnounceComponent => {
    const component = current();
    if (!component) throw new Error("nothing to drain: no announce: section is running");
    return component;
  };

  const resolve = async (component: AnnounceComponent, target: string): Promise<Resolved> => {
    const found = resolveDrainTarget(component.config, target);
    switch (found.kind) {
      case "unknown":
        throw new Error(found.error);
      case "service":
        return found;
      case "prefixes":
        return { kind: "prefixes", prefixes: [...found.prefixes] };
      case "dns_name": {
        let addresses: string[];
        try {
          addresses = await boundedResolve(resolveName, found.name, resolveTimeoutMs);
        } catch (error) {
          throw new Error(`${found.name} is not a service or prefix, and cannot be resolved: ${errorMessage(error)}`);
        }
        const { prefixes, unmatched } = prefixesOfAddresses(component.config, addresses);
        if (prefixes.length === 0) throw new Error(`${found.name} resolves to ${addresses.join(", ") || "nothing"}: in no configured prefix`);
        return { kind: "prefixes", prefixes, via: found.name, ...(unmatched.length > 0 ? { unmatched } : {}) };
      }
    }
  };

  const commit = async (component: AnnounceComponent, next: DrainState) => {
    await saveDrainFile(component.config.stateFile, next);
    component.setDrains(next);
    await component.settled(component.config.timeoutMs * 2);
  };

  const outcome = (component: AnnounceComponent, resolved: Resolved) => {
    const prefixes =
      resolved.kind === "service" ? component.config.services[resolved.service]!.prefixes.map((p) => p.prefix) : resolved.prefixes;
    return {
      ...(resolved.kind === "service" ? { service: resolved.service } : {}),
      prefixes: Object.fromEntries(prefixes.map((p) => [p, { announced: component.announced(p) ?? null }])),
      ...(resolved.kind === "prefixes" && resolved.unmatched ? { ignored: resolved.unmatched } : {}),
    };
  };

  return {
    drain: (args: ControlArgs) =>
      serial(async () => {
        const component = running();
        const target = targetOf(args);
        const reason = reasonOf(args);
        const resolved = await resolve(component, target);
        const entry: DrainEntry = { sinceMs: Date.now(), ...(reason ? { reason } : {}), ...(resolved.kind === "prefixes" && resolved.via ? { via: resolved.via } : {}) };
        await commit(component, drain(component.drains(), resolved, entry));
        log.warn(`drained ${target}${reason ? `: ${reason}` : ""}`, { target, ...(reason ? { reason } : {}) });
        return { drained: target, ...outcome(component, resolved) };
      }),
    undrain: (args: ControlArgs) =>
      serial(async () => {
        const component = running();
        const target = targetOf(args);
        const state = component.drains();
        // A drain left from an older config (its name is gone) can still be lifted by its exact name.
        const asPrefix = parseAnnouncePrefix(target);
        const stale =
          Object.hasOwn(state.services, target) && !Object.hasOwn(component.config.services, target)
            ? ({ kind: "service", service: target } as const)
            : asPrefix.ok && Object.hasOwn(state.prefixes, asPrefix.value.prefix)
              ? ({ kind: "prefixes", prefixes: [asPrefix.value.prefix] } as const)
              : undefined;
        const resolved: Resolved = stale ? (stale.kind === "service" ? stale : { kind: "prefixes", prefixes: [...stale.prefixes] }) : await resolve(component, target);
        const { state: next, lifted } = undrain(state, resolved);
        if (lifted.length === 0) return { undrained: target, lifted, note: `${target} was not drained` };
        await commit(component, next);
        log.warn(`undrained ${target}`, { target, lifted });
        return { undrained: target, lifted, ...outcome(component, resolved) };
      }),
  };
}
