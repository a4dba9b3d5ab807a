import { defineCommand } from "citty";
import { loadConfig, resolveConfigPath, type Config } from "../config/index.ts";
import { escapeControl } from "../util/escape.ts";
import { configArg, loggingArgs, runCli, setUpLogging } from "./common.ts";

export default defineCommand({
  meta: { name: "validate", description: "Check a config file: exit 0 when valid, 1 with every problem named" },
  args: { ...configArg, ...loggingArgs },
  run: ({ args }) =>
    runCli(async () => {
      setUpLogging(args);
      const path = resolveConfigPath(args.config, process.env, process.cwd());
      const { config, warnings } = await loadConfig(path);
      for (const w of warnings) process.stderr.write(`warning: ${escapeControl(w)}\n`);
      process.stdout.write(`${escapeControl(path)}: ${validSummary(config)}\n`);
    }),
});

/** `valid (2 bridge(s), 4 tunnel(s), DNS failover: 3 address(es), 1 name(s), dry run)`, pure. */
export function validSummary(config: Config): string {
  const tunnels = config.bridges.reduce((n, b) => n + b.tunnels.length, 0);
  const parts = [`${config.bridges.length} bridge(s)`, `${tunnels} tunnel(s)`];
  const dns = config.dnsFailover;
  if (dns) {
    const peers = dns.peers.length > 0 ? `, ${dns.peers.length} peer(s) of which ${dns.minPeersAgree} must agree` : "";
    // docs/dns-failover.md §Safety: dry run unless dry_run: false.
    parts.push(`DNS failover: ${dns.addresses.length} address(es), ${dns.names.length} name(s)${peers}, ${dns.dryRun ? "dry run" : "live"}`);
  }
  return `valid (${parts.join(", ")})`;
}
