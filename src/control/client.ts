import { createConnection } from "node:net";
import { UserError, errorMessage } from "../util/errors.ts";
import type { ControlCommand, ControlResponse } from "./protocol.ts";

/** Largest answer a client reads (a status of many bridges fits many times over). */
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/** One request on the control socket, bounded in time and size; user-facing errors say what to check. */
export function controlRequest(
  path: string,
  command: ControlCommand,
  timeoutMs = 35_000,
  args?: Readonly<Record<string, unknown>>,
): Promise<ControlResponse> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    let received = "";
    const fail = (message: string): void => {
      socket.destroy();
      reject(new UserError(message));
    };
    socket.setEncoding("utf8");
    socket.setTimeout(timeoutMs, () => fail(`no answer on ${path} within ${timeoutMs} ms`));
    socket.once("connect", () => socket.write(`${JSON.stringify({ id: 1, command, ...(args ? { args } : {}) })}\n`));
    socket.on("error", (error) => fail(`cannot reach the daemon's control socket ${path}: ${errorMessage(error)}`));
    socket.on("data", (chunk: string) => {
      received += chunk;
      if (received.length > MAX_RESPONSE_BYTES) return fail(`answer on ${path} larger than ${MAX_RESPONSE_BYTES} bytes`);
      const end = received.indexOf("\n");
      if (end < 0) return;
      socket.end();
      try {
        resolve(JSON.parse(received.slice(0, end)) as ControlResponse);
      } catch {
        fail(`answer on ${path} is not JSON`);
      }
    });
    socket.once("end", () => {
      if (!received.includes("\n")) fail(`the daemon closed ${path} without an answer`);
    });
  });
}
