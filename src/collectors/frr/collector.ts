/**
 * The FRR collector (docs/collectors.md §FRR): runs `vtysh -c 'show bgp vrf all summary json'`
 * bounded (../command.ts: vtysh can hang on a wedged bgpd) and parses the JSON.
 */
import type { FrrConfig } from "../schema.ts";
import { commandOutput } from "../command.ts";
import { bgpCompatFamilies, bgpCompatSamples } from "../compat.ts";
import type { Collector, Sample } from "../types.ts";
import { frrFamilies, frrSamples, parseBgpSummary } from "./samples.ts";

export const FRR_SUMMARY_COMMAND = "show bgp vrf all summary json";

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
      const stdout = await commandOutput(argv, "vtysh", config.timeoutMs, signal);
      let json: unknown;
      try {
        json = JSON.parse(stdout);
      } catch {
        throw new Error(`vtysh answered no JSON: ${stdout.trim().slice(0, 120)}`);
      }
      const samples = frrSamples(parseBgpSummary(json));
      return options.compatNames ? [...samples, ...bgpCompatSamples(samples)] : samples;
    },
  };
}
