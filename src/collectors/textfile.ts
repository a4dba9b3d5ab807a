/**
 * `metrics.textfile_path` (docs/collectors.md §Textfile): the collectors' series written for
 * node_exporter's textfile collector. Atomic — a temporary file in the same directory, then
 * rename — so node_exporter never reads half a file; the temporary name does not end in `.prom`,
 * so it is never read either. One write at a time; requests during a write coalesce into one more.
 */
import { rename, unlink, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { errorMessage } from "../util/errors.ts";

export interface TextfileWriter {
  /** Asks for a write of the current text (soon, coalesced). */
  request(): void;
  /** Waits for the writes asked for so far. */
  flush(): Promise<void>;
}

/** The temporary file next to `path`, e.g. `/d/.vpnham.prom.1234.tmp`. */
export function temporaryPathFor(path: string, pid: number): string {
  return join(dirname(path), `.${basename(path)}.${pid}.tmp`);
}

export async function writeAtomically(path: string, text: string): Promise<void> {
  const temporary = temporaryPathFor(path, process.pid);
  try {
    await writeFile(temporary, text, { mode: 0o644 });
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => {});
    throw error;
  }
}

export function createTextfileWriter(path: string, render: () => Promise<string>, onError: (message: string) => void): TextfileWriter {
  let running: Promise<void> | undefined;
  let again = false;
  const loop = async (): Promise<void> => {
    do {
      again = false;
      try {
        await writeAtomically(path, await render());
      } catch (error) {
        try {
          onError(`cannot write ${path}: ${errorMessage(error)}`);
        } catch {
          /* observer */
        }
      }
    } while (again);
  };
  return {
    request() {
      if (running) {
        again = true;
        return;
      }
      running = loop().finally(() => (running = undefined));
    },
    async flush() {
      while (running) await running;
    },
  };
}
