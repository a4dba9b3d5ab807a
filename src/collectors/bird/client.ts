/**
 * A minimal client of BIRD's control socket (docs/collectors.md §BIRD): one connection per
 * collection, the greeting, then each command and its reply in turn. Bounded: the answer may
 * not exceed `maxBytes`, and `signal` (the collection's timeout) destroys the connection.
 */
import { createConnection } from "node:net";
import { StringDecoder } from "node:string_decoder";
import { errorMessage } from "../../util/errors.ts";
import { birdReply, isFinalLine, type BirdReply } from "./parse.ts";

export const BIRD_GREETING_CODE = 1;

export interface BirdQueryOptions {
  readonly signal: AbortSignal;
  /** Total bytes BIRD may send on this connection (default 16 MiB). */
  readonly maxBytes?: number;
}

/** Sends `commands` one by one and resolves with one reply per command; rejects on any failure. */
export function queryBird(socketPath: string, commands: readonly string[], options: BirdQueryOptions): Promise<BirdReply[]> {
  const maxBytes = options.maxBytes ?? 16 * 1024 * 1024;
  return new Promise<BirdReply[]>((resolve, reject) => {
    if (options.signal.aborted) {
      reject(new Error(`aborted: ${errorMessage(options.signal.reason)}`));
      return;
    }
    const socket = createConnection({ path: socketPath });
    const decoder = new StringDecoder("utf8");
    const replies: BirdReply[] = [];
    let pending = "";
    let received = 0;
    let lines: string[] = [];
    let greeted = false;
    let done = false;
    const finish = (error: Error | undefined) => {
      if (done) return;
      done = true;
      options.signal.removeEventListener("abort", onAbort);
      socket.destroy();
      if (error) reject(error);
      else resolve(replies);
    };
    const onAbort = () => finish(new Error(`BIRD did not answer in time (${errorMessage(options.signal.reason)})`));
    options.signal.addEventListener("abort", onAbort, { once: true });
    const send = () => {
      const command = commands[replies.length];
      if (command === undefined) finish(undefined);
      else socket.write(`${command}\n`);
    };
    const onLine = (line: string) => {
      lines.push(line);
      if (!isFinalLine(line)) return;
      const reply = birdReply(lines);
      lines = [];
      if (!greeted) {
        if (reply.code !== BIRD_GREETING_CODE) return finish(new Error(`${socketPath} is not a BIRD control socket: ${reply.lines.join(" ").slice(0, 120)}`));
        greeted = true;
      } else replies.push(reply);
      send();
    };
    socket.on("data", (chunk: Buffer) => {
      if (done) return;
      received += chunk.length;
      if (received > maxBytes) return finish(new Error(`BIRD answered more than ${maxBytes} bytes`));
      pending += decoder.write(chunk);
      let newline: number;
      while (!done && (newline = pending.indexOf("\n")) >= 0) {
        onLine(pending.slice(0, newline).replace(/\r$/, ""));
        pending = pending.slice(newline + 1);
      }
    });
    socket.on("error", (error) => finish(new Error(`${socketPath}: ${errorMessage(error)}`)));
    socket.on("close", () => finish(new Error("BIRD closed the connection before answering")));
  });
}
