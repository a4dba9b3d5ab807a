import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

/**
 * `npm ci` (what CI runs) refuses a lockfile that lacks any optional
 * dependency of a locked package. The registry reachable here carries only
 * the linux-x64 build of some toolchain packages (deno's @deno/* for other
 * platforms are missing), so npm cannot lock those itself: package-lock.json
 * carries stub entries (version, os, cpu only; never installed here). An
 * `npm install` keeps them; this test catches a lock that lost them.
 */
test("the lockfile locks every optional dependency of bun and deno (npm ci needs it)", () => {
  const lock = JSON.parse(readFileSync(new URL("../../package-lock.json", import.meta.url), "utf8")) as {
    packages: Record<string, { optionalDependencies?: Record<string, string>; version?: string }>;
  };
  const missing: string[] = [];
  for (const pkg of ["bun", "deno", "typescript"]) {
    for (const dep of Object.keys(lock.packages[`node_modules/${pkg}`]?.optionalDependencies ?? {})) {
      if (!lock.packages[`node_modules/${dep}`]) missing.push(`${pkg} → ${dep}`);
    }
  }
  assert.deepEqual(missing, []);
});
