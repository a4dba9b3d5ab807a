import { spawn, type ChildProcess } from "node:child_process";
import type { Readable } from "node:stream";
import { errorMessage } from "../util/errors.ts";
import type { CommandResult } from "./types.ts";

export type RunCommandOptions = {
  timeoutMs: number;
  /** The full environment of the command (not merged with process.env here). */
  env: Record<string, string | undefined>;
  /** Bytes kept per stream; the rest is read and dropped. */
  maxOutputBytes?: number;
  /** Aborting kills the process group like a timeout does. */
  signal?: AbortSignal;
  /** Between SIGTERM and SIGKILL to the group. */
  killGraceMs?: number;
  /** How long to wait for pipe EOF after the command exited (a background grandchild may hold them). */
  ioGraceMs?: number;
};

export const defaultMaxOutputBytes = 64 * 1024;

/**
 * Run one argv without a shell, in its own process group, bounded in time and
 * output. Never rejects: every failure is described in the result.
 */
export function runCommand(argv: readonly string[], options: RunCommandOptions): Promise<CommandResult> {
  const startedMs = performance.now();
  const maxOutputBytes = options.maxOutputBytes ?? defaultMaxOutputBytes;
  const killGraceMs = options.killGraceMs ?? 1000;
  const ioGraceMs = options.ioGraceMs ?? 500;
  const base = { argv: [...argv], signal: null, timedOut: false, stdout: "", stderr: "", truncated: false };
  const notStarted = (error: string, aborted = false): CommandResult => ({
    ...base,
    exitCode: null,
    durationMs: performance.now() - startedMs,
    error,
    ...(aborted ? { aborted } : {}),
  });

  const [file, ...args] = argv;
  if (file === undefined || file === "") return Promise.resolve(notStarted("empty command"));
  if (options.signal?.aborted) return Promise.resolve(notStarted("aborted before start", true));

  return new Promise<CommandResult>((resolve) => {
    let child: ChildProcess;
    try {
      // detached: the child leads a new process group, so a timeout can kill grandchildren too.
      child = spawn(file, args, { detached: true, stdio: ["ignore", "pipe", "pipe"], env: options.env });
    } catch (e) {
      resolve(notStarted(spawnErrorText(e)));
      return;
    }

    const stdout = boundedReader(child.stdout, maxOutputBytes);
    const stderr = boundedReader(child.stderr, maxOutputBytes);
    let exit: { code: number | null; signal: string | null } | undefined;
    let spawnError: string | undefined;
    let killedBy: "timeout" | "abort" | undefined;
    let settled = false;
    let ioGraceTimer: ReturnType<typeof setTimeout> | undefined;
    let killTimer: ReturnType<typeof setTimeout> | undefined;
    let timeoutTimer: ReturnType<typeof setTimeout> | undefined;

    const killGroup = (sig: NodeJS.Signals): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        // ESRCH: the group is already gone.
      }
    };

    const finish = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timeoutTimer);
      clearTimeout(killTimer);
      clearTimeout(ioGraceTimer);
      options.signal?.removeEventListener("abort", onAbort);
      // After a kill, nothing of the group may outlive the command (SIGTERM may have been ignored).
      if (killedBy !== undefined) killGroup("SIGKILL");
      stdout.stop();
      stderr.stop();
      const result: CommandResult = {
        argv: [...argv],
        exitCode: exit?.code ?? null,
        signal: exit?.signal ?? null,
        timedOut: killedBy === "timeout",
        durationMs: performance.now() - startedMs,
        stdout: stdout.text(),
        stderr: stderr.text(),
        truncated: stdout.truncated() || stderr.truncated(),
        ...(killedBy === "abort" ? { aborted: true } : {}),
        ...(spawnError !== undefined ? { error: spawnError } : {}),
      };
      resolve(result);
    };

    const maybeFinish = (): void => {
      if (settled || exit === undefined) return;
      if (stdout.ended() && stderr.ended()) return finish();
      // A grandchild may hold the pipes open for ever: wait for EOF only briefly.
      ioGraceTimer ??= setTimeout(finish, ioGraceMs);
    };

    const kill = (why: "timeout" | "abort"): void => {
      if (settled || killedBy !== undefined) return;
      killedBy = why;
      killGroup("SIGTERM");
      killTimer = setTimeout(() => {
        killGroup("SIGKILL");
        // The leader may be unkillable for a moment (e.g. in a syscall); give up waiting after one more grace.
        killTimer = setTimeout(() => {
          exit ??= { code: null, signal: null };
          finish();
        }, killGraceMs);
      }, killGraceMs);
    };

    timeoutTimer = setTimeout(() => kill("timeout"), options.timeoutMs);
    const onAbort = (): void => kill("abort");
    options.signal?.addEventListener("abort", onAbort, { once: true });

    child.on("error", (e) => {
      // Only a failed spawn leaves no pid; later errors (a failed kill) are not the command's outcome.
      if (child.pid !== undefined) return;
      spawnError = spawnErrorText(e);
      exit ??= { code: null, signal: null };
      finish();
    });
    child.once("exit", (code, signal) => {
      exit = { code, signal };
      maybeFinish();
    });
    stdout.onEnd(maybeFinish);
    stderr.onEnd(maybeFinish);
  });
}

function spawnErrorText(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : errorMessage(e);
}

type BoundedReader = {
  text(): string;
  truncated(): boolean;
  ended(): boolean;
  onEnd(fn: () => void): void;
  stop(): void;
};

/** Keep the first maxBytes of a stream, keep draining the rest so the writer never blocks. */
function boundedReader(stream: Readable | null, maxBytes: number): BoundedReader {
  const chunks: Buffer[] = [];
  let keptBytes = 0;
  let dropped = false;
  let ended = stream === null;
  const endListeners: Array<() => void> = [];
  const markEnded = (): void => {
    if (ended) return;
    ended = true;
    for (const fn of endListeners) fn();
  };
  if (stream !== null) {
    stream.on("data", (chunk: Buffer | string) => {
      const buffer = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      const room = maxBytes - keptBytes;
      if (buffer.length <= room) {
        chunks.push(buffer);
        keptBytes += buffer.length;
      } else {
        if (room > 0) chunks.push(buffer.subarray(0, room));
        keptBytes += Math.max(room, 0);
        dropped = true;
      }
    });
    stream.on("end", markEnded);
    stream.on("close", markEnded);
    stream.on("error", markEnded);
  }
  return {
    text: () => Buffer.concat(chunks).toString("utf8"),
    truncated: () => dropped,
    ended: () => ended,
    onEnd: (fn) => endListeners.push(fn),
    stop: () => {
      if (stream !== null && !ended) stream.destroy();
    },
  };
}
