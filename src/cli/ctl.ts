import { defineCommand } from "citty";
import { controlRequest } from "../control/client.ts";
import { controlCommands, type ControlCommand } from "../control/protocol.ts";
import { defaultControlSocketPath } from "../control/paths.ts";
import { UserError } from "../util/errors.ts";
import { escapeJsonControl } from "../util/escape.ts";
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
      // Strings came from the network and the config: no raw control characters reach the terminal.
      process.stdout.write(`${escapeJsonControl(JSON.stringify(response.result, null, 2))}\n`);
    }),
});

