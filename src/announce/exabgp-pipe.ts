/**
 * ExaBGP's named-pipe API, the edge (docs/announce.md §ExaBGP): what exabgpcli does, without a
 * Python process per command. For each command: open the answer pipe for reading first (ExaBGP's
 * cli relay writes an answer only while a reader has it open), write the command line to the
 * command pipe, read until the `done`/`error`/`shutdown` line, close both. Non-blocking opens and
 * reads throughout, so a stopped ExaBGP is an error at once, never a hung call.
 *
 * Answers carry no tag: which one is ours is counted (nextExabgpPipeState in exabgp.ts decides).
 * Answers owed by our own cut-short commands are skipped; answers of unknown number (at the
 * start, after one of the wrong shape) are read away until the pipe settles.
 */
import { closeSync, constants, fstatSync, openSync, readSync, writeSync } from "node:fs";
import { StringDecoder } from "node:string_decoder";
import { RetryableError } from "../reconcile/action.ts";
import { ExabgpAnswerScanner, exabgpAnswerMismatch, exabgpPipeStart, nextExabgpPipeState, type ExabgpAnswer, type ExabgpPipeEvent } from "./exabgp.ts";
import type { ExabgpBackend } from "./model.ts";

/** One command, its answer; rejects when ExaBGP cannot be reached or the signal aborts. */
export type ExabgpCall = (command: string, signal: AbortSignal) => Promise<ExabgpAnswer>;

export interface ExabgpPipeOptions {
  /** Between two looks at the answer pipe; default 10 ms. */
  readonly pollMs?: number;
  /**
   * How long the answer pipe must stay quiet before answers of unknown number count as gone;
   * default 1.2 s, more than the relay's longest wait between two tries (its 1 s poll + 50 ms).
   */
  readonly settleMs?: number;
  /** Answer size limit; default 16 MiB. */
  readonly maxAnswerBytes?: number;
}

/** Reads per look at the pipe (64 KiB each) before the event loop gets a turn. */
const readsPerTurn = 16;
/** A settle ends after this many settle times also when the pipe never goes quiet. */
const settleRounds = 10;

const codeOf = (error: unknown) => (error as { code?: string } | null)?.code;

/** Nothing reads the command pipe: ExaBGP (its cli relay) is not running. */
class NotRunning extends RetryableError {}

function openFifo(path: string, flags: number, role: string): number {
  let fd: number;
  try {
    fd = openSync(path, flags | constants.O_NONBLOCK);
  } catch (error) {
    const code = codeOf(error);
    if (code === "ENXIO") throw new NotRunning(`ExaBGP is not running (nothing reads ${path})`);
    if (code === "ENOENT") throw new RetryableError(`${path} does not exist (ExaBGP's ${role} pipe: mkfifo it before ExaBGP starts, docs/announce.md §ExaBGP)`);
    throw new Error(`${path}: ${(error as Error).message}`);
  }
  if (!fstatSync(fd).isFIFO()) {
    closeSync(fd);
    throw new Error(`${path} is not a named pipe (ExaBGP's ${role} pipe)`);
  }
  return fd;
}

/**
 * What is readable now, up to `readsPerTurn` reads: to `take` (or dropped without it); the byte
 * count, and whether the pipe may hold more at once.
 */
function readAvailable(fd: number, buffer: Buffer, take?: (chunk: Buffer) => void): { bytes: number; more: boolean } {
  let bytes = 0;
  for (let i = 0; i < readsPerTurn; i++) {
    let n: number;
    try {
      n = readSync(fd, buffer, 0, buffer.length, null);
    } catch (error) {
      if (codeOf(error) === "EAGAIN") return { bytes, more: false };
      throw error;
    }
    // 0: no writer at the moment (the relay opens the pipe per line).
    if (n === 0) return { bytes, more: false };
    bytes += n;
    take?.(buffer.subarray(0, n));
  }
  return { bytes, more: true };
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export function exabgpPipeClient(backend: ExabgpBackend, options: ExabgpPipeOptions = {}): ExabgpCall {
  const pollMs = options.pollMs ?? 10;
  const settleMs = options.settleMs ?? 1200;
  const maxBytes = options.maxAnswerBytes ?? 16 * 1024 * 1024;
  const buffer = Buffer.alloc(64 * 1024);
  let state = exabgpPipeStart;
  let queue: Promise<unknown> = Promise.resolve();
  const step = (event: ExabgpPipeEvent) => {
    state = nextExabgpPipeState(event);
  };

  /**
   * Reads everything away until the pipe stayed quiet for settleMs. Not bound to a call's
   * signal: the relay tries a kept line only about once a second, so a settle cut short by a
   * short announce.timeout would prove nothing, at every call (docs/announce.md §ExaBGP).
   */
  async function settle(out: number): Promise<void> {
    const started = Date.now();
    let quietSince = started;
    while (Date.now() - quietSince < settleMs && Date.now() - started < settleMs * settleRounds) {
      const { bytes, more } = readAvailable(out, buffer);
      if (bytes > 0) quietSince = Date.now();
      await pause(more ? 0 : pollMs * 5);
    }
  }

  async function exchange(command: string, signal: AbortSignal): Promise<ExabgpAnswer> {
    signal.throwIfAborted();
    if (/[\r\n]/.test(command)) throw new Error("an ExaBGP command is one line");
    const out = openFifo(backend.pipeOut, constants.O_RDONLY, "answer");
    let owed = 0;
    let sent = false;
    let ended = false;
    try {
      const input = openFifo(backend.pipeIn, constants.O_WRONLY, "command");
      try {
        if (state.unsure) {
          await settle(out);
          step({ kind: "settled" });
          signal.throwIfAborted();
        }
        owed = state.owed;
        writeSync(input, `${command}\n`);
        sent = true;
      } finally {
        closeSync(input);
      }
      const decoder = new StringDecoder("utf8");
      const scanner = new ExabgpAnswerScanner(maxBytes);
      let skip = owed;
      for (;;) {
        const answers: ExabgpAnswer[] = [];
        const { more } = readAvailable(out, buffer, (chunk) => answers.push(...scanner.push(decoder.write(chunk))));
        while (skip > 0 && answers.length > 0) {
          answers.shift();
          skip--;
        }
        const answer = answers.shift();
        if (answer) {
          ended = true;
          const mismatch = answers.length > 0 || scanner.midAnswer ? "more came after it" : exabgpAnswerMismatch(command, answer);
          if (mismatch) {
            step({ kind: "out_of_step" });
            throw new RetryableError(`ExaBGP's answers are out of step (another client's answer in the pipe?): the answer to ${command}: ${mismatch}; reading the pipe empty before the next command`);
          }
          step({ kind: "answered" });
          if (answer.overLimit) throw new Error(`ExaBGP's answer to ${command} is over ${maxBytes} bytes`);
          return answer;
        }
        await pause(more ? 0 : pollMs, signal);
      }
    } catch (error) {
      if (error instanceof NotRunning || codeOf(error) === "EPIPE") {
        // The relay has gone, and whatever it kept with it.
        step({ kind: "not_running" });
        if (codeOf(error) === "EPIPE") throw new NotRunning(`ExaBGP is not running (nothing reads ${backend.pipeIn})`);
      }
      if (sent && !ended) step({ kind: "cut_short", owed });
      if (codeOf(error) === "EAGAIN") throw new RetryableError(`${backend.pipeIn} is full (ExaBGP does not read its commands)`);
      throw error;
    } finally {
      closeSync(out);
    }
  }

  // One exchange at a time: answers carry no tag, only their order says whose they are.
  return (command, signal) => {
    const result = queue.then(() => exchange(command, signal));
    queue = result.catch(() => undefined);
    return result;
  };
}
