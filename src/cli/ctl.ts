import { defineCommand } from "citty";
import { controlRequest } from "../control/client.ts";
import { controlCommands, type ControlCommand } from "../control/protocol.ts";
import { defaultControlSocketPath } from "../control/paths.ts";
import { UserError } from "../util/errors.ts";
import { runCli } from "./common.ts";

export default defineCommand({
  meta: { name: "ctl", description: "Talk to the running daemon over its control socket: status, reload" },
  args: {
    command: { type: "positional", description: controlCommands.join(" | "), required: true },
    socket: { type: "string", description: `Control socket (else $VPNHAM_CONTROL_SOCKET, ${defaultControlSocketPath})` },
  },
  run: ({ args }) =>
    runCli(async () => {
      const command = args.command as string;
      if (!(controlCommands as readonly string[]).includes(command)) {
        throw new UserError(`${command} is not a control command (${controlCommands.join(", ")})`);
      }
      const path = args.socket ?? process.env.VPNHAM_CONTROL_SOCKET ?? defaultControlSocketPath;
      const response = await controlRequest(path, command as ControlCommand);
      if (!response.ok) throw new UserError(response.error);
      // JSON.stringify escapes C0 controls; \u escapes for the rest keep a terminal safe.
      process.stdout.write(`${escapeNonAscii(JSON.stringify(response.result, null, 2))}\n`);
    }),
});

function escapeNonAscii(json: string): string {
  return json.replace(/[\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
