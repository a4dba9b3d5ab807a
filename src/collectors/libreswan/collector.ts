/**
 * The libreswan collector (docs/collectors.md §Libreswan): runs `ipsec whack --trafficstatus`
 * bounded (../command.ts: no shell, own process group killed at the collection's timeout, output
 * bounded) and parses its lines. pluto has no event stream vpnham reads: changes show at
 * the next `interval`.
 */
import type { LibreswanConfig } from "../schema.ts";
import { commandOutput } from "../command.ts";
import { ipsecCompatFamilies, ipsecCompatSamples } from "../compat.ts";
import type { Collector, Sample } from "../types.ts";
import { parseTrafficStatus } from "./parse.ts";
import { emptyLibreswanState, libreswanFamilies, libreswanSamples } from "./samples.ts";

/** The argv vpnham runs (`--ctlsocket PATH` when pluto's socket is not in its default place). */
export function whackArgv(config: Pick<LibreswanConfig, "ipsecPath" | "ctlSocket">): string[] {
  return [config.ipsecPath, "whack", ...(config.ctlSocket ? ["--ctlsocket", config.ctlSocket] : []), "--trafficstatus"];
}

export interface LibreswanCollectorOptions {
  /** Also export the blog's node_ipsec_peer_* names (docs/collectors.md §Drop-in for the cron script). */
  compatNames?: boolean;
  /** Unix ms (tests). */
  clock?: () => number;
}

export function createLibreswanCollector(config: LibreswanConfig, options: LibreswanCollectorOptions = {}): Collector {
  const argv = whackArgv(config);
  const clock = options.clock ?? Date.now;
  let state = emptyLibreswanState();
  return {
    name: "libreswan",
    families: options.compatNames ? [...libreswanFamilies, ...ipsecCompatFamilies] : libreswanFamilies,
    async collect(signal): Promise<readonly Sample[]> {
      const stdout = await commandOutput(argv, "ipsec whack", config.timeoutMs, signal);
      const next = libreswanSamples(parseTrafficStatus(stdout), config.connections, state, clock() / 1000);
      state = next.state;
      if (!options.compatNames) return next.samples;
      return [...next.samples, ...ipsecCompatSamples(next.samples, (conn) => state.peers.get(conn) ?? "")];
    },
  };
}
