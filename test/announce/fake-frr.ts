/**
 * An in-memory FRR behind a fake command runner: `show running-config` prints its networks the
 * way FRR 8.4 does, and change calls apply `network`/`no network` lines, stopping at the first
 * error and answering as vtysh does (exit 1, the message on stdout).
 */
import type { RunCommandOptions } from "../../src/hooks/run-command.ts";
import type { CommandResult } from "../../src/hooks/types.ts";

export interface FakeFrr {
  asn: number | undefined;
  /** prefix → route-map ("" for none), by family. */
  networks: Map<string, string>;
  calls: string[][];
  /** Make the next calls fail like a vtysh that cannot reach bgpd. */
  down: boolean;
  run(argv: string[], options: RunCommandOptions): Promise<CommandResult>;
}

export function fakeFrr(asn: number | null = 65001, networks: [string, string][] = []): FakeFrr {
  const render = () => {
    if (frr.asn === undefined) return "Building configuration...\n!\nhostname vm\n!\nend\n";
    const family = (v6: boolean) =>
      [...frr.networks]
        .filter(([p]) => p.includes(":") === v6)
        .map(([p, rm]) => `  network ${p}${rm ? ` route-map ${rm}` : ""}\n`)
        .join("");
    return `Building configuration...\n!\nrouter bgp ${frr.asn}\n no bgp network import-check\n !\n address-family ipv4 unicast\n${family(false)} exit-address-family\n !\n address-family ipv6 unicast\n${family(true)} exit-address-family\nexit\n!\nend\n`;
  };
  const frr: FakeFrr = {
    asn: asn ?? undefined,
    networks: new Map(networks),
    calls: [],
    down: false,
    async run(argv) {
      frr.calls.push(argv);
      const result = (exitCode: number, stdout: string): CommandResult => ({ argv, exitCode, signal: null, timedOut: false, durationMs: 1, stdout, stderr: "", truncated: false });
      if (frr.down) return result(1, "Exiting: failed to connect to any daemons.\n");
      const lines = argv.flatMap((arg, i) => (argv[i - 1] === "-c" ? [arg] : []));
      if (lines[0] === "show running-config") return result(0, render());
      const out = "";
      for (const line of lines) {
        const router = /^router bgp (\d+)$/.exec(line);
        if (router && frr.asn !== undefined && Number(router[1]) !== frr.asn) return result(1, `BGP is already running; AS is ${frr.asn}\n`);
        const add = /^network (\S+)(?: route-map (\S+))?$/.exec(line);
        if (add) frr.networks.set(add[1]!, add[2] ?? "");
        const remove = /^no network (\S+)/.exec(line);
        if (remove) {
          if (!frr.networks.has(remove[1]!)) return result(1, `${out}% Can't find static route specified\n`);
          frr.networks.delete(remove[1]!);
        }
      }
      return result(0, out);
    },
  };
  return frr;
}
