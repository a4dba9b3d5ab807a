/**
 * Hooks and the `${name}` placeholders their argv may use (docs/behaviour.md §Placeholders and environment).
 *
 * Scanner rule: only `${name}` where name matches /^[a-z_][a-z0-9_]*$/ (lower case) is a
 * placeholder. Everything else — `${VPNHAM_HOOK_LOG:-/tmp/x}`, `${HOME}`, `$1`, `$(date)` — is
 * left alone for the shell, so `sh -c` scripts can use their own expansions. An unknown
 * lower-case placeholder is a config error (Go leaves it in and the shell expands it to nothing).
 */

import { isInterfaceHook, type HookName } from "../hooks/names.ts";

export { hookNames, isInterfaceHook, type HookName } from "../hooks/names.ts";

const bridgePlaceholders = [
  "proto",
  "bridge_interface",
  "bridge_interface_ip",
  "bridge_peer_cidr",
  "bridge_peer_cidrs_ipv4",
  "bridge_peer_cidrs_ipv6",
] as const;
const tunnelPlaceholders = ["tunnel_interface", "tunnel_interface_ip"] as const;

export const placeholderNames: readonly string[] = [...bridgePlaceholders, ...tunnelPlaceholders];

/** Global pattern of a placeholder; group 1 is the name. */
export const placeholderPattern = /\$\{([a-z_][a-z0-9_]*)\}/g;

/** Placeholder names a hook may use. */
export function allowedPlaceholders(hook: HookName): readonly string[] {
  return isInterfaceHook(hook) ? placeholderNames : bridgePlaceholders;
}

/** Placeholder names found in one argv element, in order of appearance. */
export function scanPlaceholders(text: string): string[] {
  return [...text.matchAll(placeholderPattern)].map((match) => match[1] ?? "");
}

/** One message per placeholder the hook may not use, or [] when all are fine. */
export function placeholderProblems(hook: HookName, text: string): string[] {
  const allowed = allowedPlaceholders(hook);
  return scanPlaceholders(text)
    .filter((name) => !allowed.includes(name))
    .map((name) =>
      placeholderNames.includes(name)
        ? `placeholder \${${name}} is only available in interface_activate and interface_deactivate hooks`
        : `unknown placeholder \${${name}} (known: ${allowed.join(", ")})`,
    );
}
