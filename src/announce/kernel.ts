/**
 * Kernel routes, pure (docs/announce.md §Kernel): a blackhole route per announced prefix, in one
 * table, marked with vpnham's route protocol number, for a routing daemon that redistributes
 * kernel routes (FRR `redistribute kernel`, BIRD `protocol kernel { learn; }`, OSPF…). Only
 * routes carrying that protocol number are read and deleted, so nothing else is ever touched.
 */
import type { DesiredPrefix } from "./decide.ts";
import type { Family, KernelBackend } from "./model.ts";
import { parseAnnouncePrefix } from "./schema.ts";

function ipBase(backend: KernelBackend, family: Family): string[] {
  return [...backend.ip, ...(backend.namespace === undefined ? [] : ["-n", backend.namespace]), family === 4 ? "-4" : "-6"];
}

export function kernelReadArgv(backend: KernelBackend, family: Family): string[] {
  return [...ipBase(backend, family), "-j", "route", "show", "table", String(backend.table), "proto", String(backend.protocol), "type", "blackhole"];
}

/** `ip -j route show` → prefixes; a host route's `dst` has no length ("192.0.2.10"). */
export function parseKernelRoutes(json: string, family: Family): string[] {
  let routes: unknown;
  try {
    routes = JSON.parse(json.trim() === "" ? "[]" : json);
  } catch {
    throw new Error("ip -j route: not JSON");
  }
  if (!Array.isArray(routes)) throw new Error("ip -j route: not a list");
  const prefixes: string[] = [];
  for (const route of routes) {
    const dst = (route as { dst?: unknown }).dst;
    if (typeof dst !== "string" || dst === "default") continue;
    const parsed = parseAnnouncePrefix(dst.includes("/") ? dst : `${dst}/${family === 4 ? 32 : 128}`);
    if (parsed.ok && parsed.value.family === family) prefixes.push(parsed.value.prefix);
  }
  return prefixes;
}

/** One `ip route` call per prefix to change: replace (announce) or del (withdraw). */
export function planKernel(backend: KernelBackend, desired: readonly DesiredPrefix[], actual: ReadonlySet<string>): string[][] {
  const steps: string[][] = [];
  for (const want of desired) {
    const have = actual.has(want.prefix);
    if (want.announce === have) continue;
    const verb = want.announce ? "replace" : "del";
    steps.push([...ipBase(backend, want.family), "route", verb, "blackhole", want.prefix, "table", String(backend.table), "proto", String(backend.protocol)]);
  }
  return steps;
}

/** `ip route del` of a route the kernel no longer has: the goal is reached. */
export const kernelAbsentRoute = "No such process";
