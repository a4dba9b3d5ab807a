/**
 * ExaBGP's named-pipe API, the edge (docs/announce.md §ExaBGP): what exabgpcli does, without a
 * Python process per command. For each command: open the answer pipe for reading first (ExaBGP's
 * cli relay writes an answer only while a reader has it open), write the command line to the
 * command pipe, read until the `done`/`error`/`shutdown` line, close both. Non-blocking opens and
 * reads throughout, so a stopped ExaBGP is an error at once, never a hung call.
 */
import { closeSync, constants, fstatSync, openSync, readSync, writeSync } from "node:fs";
import { StringDecoder } from "node:string_decoder";
import { RetryableError } from "../reconcile/action.ts";
import { parseExabgpAnswer, type ExabgpAnswer } from "./exabgp.ts";
import type { ExabgpBackend } from "./model.ts";

/** One command, its answer; rejects when ExaBGP cannot be reached or the signal aborts. */
export type ExabgpCall = (command: string, signal: AbortSignal) => Promise<ExabgpAnswer>;

export interface ExabgpPipeOptions {
  /** Between two looks at the answer pipe; default 10 ms. */
  readonly pollMs?: number;
  /** After an answer was cut short, how long to drain what comes late before the next command; default 1.2 s. */
  readonly settleMs?: number;
  /** Answer size limit; default 16 MiB. */
  readonly maxAnswerBytes?: number;
}

const codeOf = (error: unknown) => (error as { code?: string } | null)?.code;

function openFifo(path: string, flags: number, role: string): number {
  let fd: number;
  try {
    fd = openSync(path, flags | constants.O_NONBLOCK);
  } catch (error) {
    const code = codeOf(error);
    if (code === "ENXIO") throw new RetryableError(`ExaBGP is not running (nothing reads ${path})`);
    if (code === "ENOENT") throw new RetryableError(`${path} does not exist (ExaBGP's ${role} pipe: mkfifo it before ExaBGP starts, docs/announce.md §ExaBGP)`);
    throw new Error(`${path}: ${(error as Error).message}`);
  }
  if (!fstatSync(fd).isFIFO()) {
    closeSync(fd);
    throw new Error(`${path} is not a named pipe (ExaBGP's ${role} pipe)`);
  }
  return fd;
}

/** Everything readable now; "" when the pipe is empty. */
function readAvailable(fd: number, buffer: Buffer, decoder = new StringDecoder("utf8")): string {
  let text = "";
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, buffer, 0, buffer.length, null);
    } catch (error) {
      if (codeOf(error) === "EAGAIN") return text;
      throw error;
    }
    // 0: no writer at the moment (the relay opens the pipe per line).
    if (n === 0) return text;
    text += decoder.write(buffer.subarray(0, n));
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

export function exabgpPipeClient(backend: ExabgpBackend, options: ExabgpPipeOptions = {}): ExabgpCall {
  const pollMs = options.pollMs ?? 10;
  const settleMs = options.settleMs ?? 1200;
  const maxBytes = options.maxAnswerBytes ?? 16 * 1024 * 1024;
  const buffer = Buffer.alloc(64 * 1024);
  // An answer we stopped reading may still come; the relay keeps it until a reader opens the pipe
  // and it wakes (at least once a second): drained before the next command so it is not taken for that one's.
  let owed = false;
  let queue: Promise<unknown> = Promise.resolve();

  async function exchange(command: string, signal: AbortSignal): Promise<ExabgpAnswer> {
    if (/[\r\n]/.test(command)) throw new Error("an ExaBGP command is one line");
    let out: number | undefined;
    let sent = false;
    try {
      out = openFifo(backend.pipeOut, constants.O_RDONLY, "answer");
      if (owed) {
        const until = Date.now() + settleMs;
        while (Date.now() < until) {
          readAvailable(out, buffer);
          await pause(pollMs * 5, signal);
        }
        owed = false;
      }
      readAvailable(out, buffer);
      let input: number;
      try {
        input = openFifo(backend.pipeIn, constants.O_WRONLY, "command");
      } catch (error) {
        // Not running: whatever the old relay kept went with it.
        if (error instanceof RetryableError) owed = false;
        throw error;
      }
      try {
        writeSync(input, `${command}\n`);
        sent = true;
      } finally {
        closeSync(input);
      }
      let text = "";
      const decoder = new StringDecoder("utf8");
      for (;;) {
        text += readAvailable(out, buffer, decoder);
        const answer = parseExabgpAnswer(text);
        if (answer) return answer;
        if (text.length > maxBytes) throw new Error(`ExaBGP's answer to ${command} is over ${maxBytes} bytes`);
        await pause(pollMs, signal);
      }
    } catch (error) {
      if (sent) owed = true;
      if (codeOf(error) === "EAGAIN") throw new RetryableError(`${backend.pipeIn} is full (ExaBGP does not read its commands)`);
      throw error;
    } finally {
      if (out !== undefined) closeSync(out);
    }
  }

  // One exchange at a time: answers carry no tag, only their order says whose they are.
  return (command, signal) => {
    const result = queue.then(() => exchange(command, signal));
    queue = result.catch(() => undefined);
    return result;
  };
}
