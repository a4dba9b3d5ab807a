import pkg from "../package.json" with { type: "json" };

/** `build.ts` defines VPNHAM_BUILD_VERSION (version + commit); from source it is package.json's. */
declare const VPNHAM_BUILD_VERSION: string | undefined;

export const VERSION: string = typeof VPNHAM_BUILD_VERSION === "string" ? VPNHAM_BUILD_VERSION : pkg.version;

export function runtimeName(): string {
  const g = globalThis as { Bun?: { version: string }; Deno?: { version: { deno: string } } };
  if (g.Bun) return `bun ${g.Bun.version}`;
  if (g.Deno) return `deno ${g.Deno.version.deno}`;
  return `node ${process.versions.node}`;
}
