/**
 * Worker entry: loads one config (loadConfig) and posts the result back. Started by
 * load-off-thread.ts for every reload, so that parsing and checking a config — up to a second
 * of CPU for a large or hostile one — never runs on the thread that probes and serves
 * (docs/hardening.md, "Files the daemon reads"). build.ts embeds this file in the executable.
 */
import { parentPort } from "node:worker_threads";
import { UserError, errorMessage } from "../util/errors.ts";
import { loadConfig, type LoadResult } from "./load.ts";

export type WorkerReply =
  | { ok: true; result: LoadResult }
  | { ok: false; message: string; problems: string[]; userError: boolean };

parentPort?.once("message", (request: { path: string }) => {
  void loadConfig(request.path)
    .then((result): WorkerReply => ({ ok: true, result }))
    .catch((error: unknown): WorkerReply => {
      const userError = error instanceof UserError;
      return { ok: false, message: errorMessage(error), problems: userError ? [...error.problems] : [errorMessage(error)], userError };
    })
    .then((reply) => parentPort?.postMessage(reply));
});
