/**
 * How the daemon finds bridges among its components without loading the bridge job's module
 * (jobs load only when their section is configured: src/daemon/jobs.ts).
 */
import type { Component } from "../daemon/component.ts";
import type { BridgeRuntime } from "./bridge.ts";

/** Every bridge component's key starts with this; no other job uses it. */
export const BRIDGE_KEY_PREFIX = "bridge:";

/** The running bridges' runtimes by bridge name (the daemon, the demo and tests look inside them). */
export function bridgeRuntimes(components: Iterable<Component>): Map<string, BridgeRuntime> {
  const runtimes = new Map<string, BridgeRuntime>();
  for (const component of components) {
    const runtime = bridgeRuntimeOf(component);
    if (runtime) runtimes.set(component.key.slice(BRIDGE_KEY_PREFIX.length), runtime);
  }
  return runtimes;
}

/** The runtime of a bridge component (BridgeComponent in job.ts), else undefined. */
export function bridgeRuntimeOf(component: Component | undefined): BridgeRuntime | undefined {
  if (!component?.key.startsWith(BRIDGE_KEY_PREFIX)) return undefined;
  return (component as Component & { readonly runtime?: BridgeRuntime }).runtime;
}
