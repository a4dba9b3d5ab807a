/**
 * loadConfig in a worker thread, for reloads of a running daemon: reading the files happens off
 * the event loop anyway (read-file.ts), and this moves the YAML parse and the checks off it too,
 * with a time limit (docs/hardening.md, "Files the daemon reads").
 */
import { Worker } from "node:worker_threads";
import { UserError } from "../util/errors.ts";
import type { LoadResult } from "./load.ts";
import type { WorkerReply } from "./load-worker.ts";

/** Longer than any config under the size cap needs, even on a busy machine. */
export const RELOAD_LOAD_TIMEOUT_MS = 20_000;

/**
 * The worker's module. Run from source, it sits next to this file; in the executable built by
 * build.ts every entry point lives under Bun's embedded root, where import.meta.url names the
 * executable itself and the worker is at config/load-worker.ts below it.
 */
function workerUrl(): URL {
  const embedded = import.meta.url.startsWith("file:///$bunfs/");
  return new URL(embedded ? "./config/load-worker.ts" : "./load-worker.ts", import.meta.url);
}

export function loadConfigOffThread(path: string, timeoutMs = RELOAD_LOAD_TIMEOUT_MS): Promise<LoadResult> {
  return new Promise<LoadResult>((resolve, reject) => {
    let settled = false;
    const worker = new Worker(workerUrl());
    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outcome();
      void worker.terminate().catch(() => {});
    };
    const timer = setTimeout(() => {
      settle(() => reject(new UserError(`config ${path}: reading and checking it took longer than ${timeoutMs} ms`)));
    }, timeoutMs);
    worker.on("message", (reply: WorkerReply) =>
      settle(() => {
        if (reply.ok) resolve(reply.result);
        else reject(reply.userError ? new UserError(reply.message, reply.problems) : new Error(reply.message));
      }),
    );
    worker.on("error", (error) => settle(() => reject(error)));
    worker.on("exit", (code) => settle(() => reject(new Error(`config loader exited (code ${code}) without an answer`))));
    worker.postMessage({ path });
  });
}
