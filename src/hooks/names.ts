/**
 * The hooks vpnham runs (docs/behaviour.md §Hooks): the hooks module owns their names; the
 * config schema, placeholders and metrics take them from here.
 */
export const hookNames = ["bridge_activate", "bridge_deactivate", "interface_activate", "interface_deactivate"] as const;
export type HookName = (typeof hookNames)[number];

/** Hooks about one tunnel (they get the tunnel placeholders). */
export function isInterfaceHook(hook: HookName): boolean {
  return hook === "interface_activate" || hook === "interface_deactivate";
}
