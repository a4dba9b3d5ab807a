/** Deadlines and names shared by the scenarios (examples: probe_interval 1s, threshold_down 3, partner 5 (+1 standby)). */
import type { HostId } from "./netns.ts";

export const TUNNEL_FAILOVER_MS = 10_000; // ≤ 3 intervals + hook
export const PARTNER_FAILOVER_MS = 15_000; // ≤ 6 polls + 0.5 s timeout + hook
export const START_MS = 30_000; // process start (Deno compiles) + convergence
export const BRIDGES: Record<HostId, string> = { la: "vpnham-dev-lft", ls: "vpnham-dev-lft", ra: "vpnham-dev-rgt", rs: "vpnham-dev-rgt" };
export const CI = /^(1|true|yes)$/i.test(process.env.CI ?? "");
