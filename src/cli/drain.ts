/**
 * `vpnham drain TARGET [--reason …]` and `vpnham undrain TARGET` (docs/announce.md §Drain): ask
 * the running daemon, over its control socket, to withdraw a service, a prefix or every prefix
 * of a DNS name whatever health says — and to keep it so across restarts — or to stop.
 */
import { defineCommand } from "citty";
import { controlRequest } from "../control/client.ts";
import { defaultControlSocketPath } from "../control/paths.ts";
import { UserError } from "../util/errors.ts";
import { escapeJsonControl } from "../util/escape.ts";
import { runCli } from "./common.ts";

const socketArg = { type: "string", description: `Control socket (else $VPNHAM_CONTROL_SOCKET, ${defaultControlSocketPath})` } as const;
const targetArg = { type: "positional", description: "a service, a prefix (192.0.2.10/32), an address or a DNS name", required: true } as const;

async function ask(command: "drain" | "undrain", args: { target: string; socket?: string; reason?: string }): Promise<void> {
  const path = args.socket ?? process.env.VPNHAM_CONTROL_SOCKET ?? defaultControlSocketPath;
  const response = await controlRequest(path, command, 35_000, { target: args.target, ...(args.reason !== undefined ? { reason: args.reason } : {}) });
  if (!response.ok) throw new UserError(response.error);
  // Strings came from the config, DNS and the daemon: no raw control characters reach the terminal.
  process.stdout.write(`${escapeJsonControl(JSON.stringify(response.result, null, 2))}\n`);
}

export const drainCommand = defineCommand({
  meta: { name: "drain", description: "Withdraw a service, prefix or DNS name's prefixes whatever health says, until undrain (kept across restarts)" },
  args: { target: targetArg, reason: { type: "string", description: "Why (shown in status and logs)" }, socket: socketArg },
  run: ({ args }) => runCli(() => ask("drain", args)),
});

export const undrainCommand = defineCommand({
  meta: { name: "undrain", description: "Lift a drain: health decides again" },
  args: { target: targetArg, socket: socketArg },
  run: ({ args }) => runCli(() => ask("undrain", args)),
});
