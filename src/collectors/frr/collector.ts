/**
 * The FRR collector (docs/collectors.md §FRR): runs `vtysh -c 'show bgp vrf all summary json'`
 * through the hook runner (own process group, killed with its children at the collection's
 * timeout — vtysh can hang on a wedged bgpd — output bounded) and parses the JSON.
 */
import { runCommand } from "../../hooks/run-command.ts";
import type { FrrConfig } from "../schema.ts";
import { bgpCompatFamilies, bgpCompatSamples } from "../compat.ts";
import type { Collector, Sample } from "../types.ts";
import { frrFamilies, frrSamples, parseBgpSummary } from "./samples.ts";

export const FRR_SUMMARY_COMMAND = "show bgp vrf all summary json";
const maxOutputBytes = 16 * 1024 * 1024;

/** The argv vpnham runs (`--vty_socket DIR` when the daemons' vty sockets are not in FRR's default place). */
export function vtyshArgv(config: Pick<FrrConfig, "vtyshPath" | "vtySocket">): string[] {
  return [config.vtyshPath, ...(config.vtySocket ? ["--vty_socket", config.vtySocket] : []), "-c", FRR_SUMMARY_COMMAND];
}

export function createFrrCollector(config: FrrConfig, options: { compatNames?: boolean } = {}): Collector {
  const argv = vtyshArgv(config);
  return {
    name: "frr",
    families: options.compatNames ? [...frrFamilies, ...bgpCompatFamilies] : frrFamilies,
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
      if (result.timedOut || result.aborted) throw new Error(`vtysh did not answer within ${config.timeoutMs} ms`);
      if (result.truncated) throw new Error(`vtysh answered more than ${maxOutputBytes} bytes`);
      if (result.exitCode !== 0) {
        const why = (result.stdout + result.stderr).trim().split("\n")[0] ?? "";
        throw new Error(`vtysh exited with ${result.exitCode ?? result.signal}${why ? `: ${why.slice(0, 200)}` : ""}`);
      }
      let json: unknown;
      try {
        json = JSON.parse(result.stdout);
      } catch {
        throw new Error(`vtysh answered no JSON: ${result.stdout.trim().slice(0, 120)}`);
      }
      const samples = frrSamples(parseBgpSummary(json));
      return options.compatNames ? [...samples, ...bgpCompatSamples(samples)] : samples;
    },
  };
}
