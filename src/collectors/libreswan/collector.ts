/**
 * The libreswan collector (docs/collectors.md §Libreswan): runs `ipsec whack --trafficstatus`
 * through the hook runner (no shell, own process group killed at the collection's timeout,
 * output bounded) and parses its lines. pluto has no event stream vpnham reads: changes show at
 * the next `interval`.
 */
import { runCommand } from "../../hooks/run-command.ts";
import type { LibreswanConfig } from "../schema.ts";
import { ipsecCompatFamilies, ipsecCompatSamples } from "../compat.ts";
import type { Collector, Sample } from "../types.ts";
import { parseTrafficStatus } from "./parse.ts";
import { emptyLibreswanState, libreswanFamilies, libreswanSamples } from "./samples.ts";

const maxOutputBytes = 16 * 1024 * 1024;

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
      const result = await runCommand(argv, {
        timeoutMs: config.timeoutMs,
        signal,
        maxOutputBytes,
        env: { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin", LANG: "C" },
        killGraceMs: 200,
        ioGraceMs: 200,
      });
      if (result.error) throw new Error(`${argv[0]}: ${result.error}`);
      if (result.timedOut || result.aborted) throw new Error(`ipsec whack did not answer within ${config.timeoutMs} ms`);
      if (result.truncated) throw new Error(`ipsec whack answered more than ${maxOutputBytes} bytes`);
      if (result.exitCode !== 0) {
        const why = (result.stdout + result.stderr).trim().split("\n")[0] ?? "";
        throw new Error(`ipsec whack exited with ${result.exitCode ?? result.signal}${why ? `: ${why.slice(0, 200)}` : ""}`);
      }
      const next = libreswanSamples(parseTrafficStatus(result.stdout), config.connections, state, clock() / 1000);
      state = next.state;
      if (!options.compatNames) return next.samples;
      return [...next.samples, ...ipsecCompatSamples(next.samples, (conn) => state.peers.get(conn) ?? "")];
    },
  };
}
