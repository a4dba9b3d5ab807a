import { waitFor as waitForCondition } from "../../src/util/wait.ts";
/** Positional form of src/util/wait.ts's waitFor, as these tests call it. */
export const waitFor = (pred: () => boolean, timeoutMs: number, what = "condition"): Promise<void> =>
  waitForCondition(pred, { timeoutMs, what, intervalMs: 10 });

/** True while a process (or an unreaped zombie) with this pid exists. */
export function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
