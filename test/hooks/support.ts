/** Poll until pred() is true, or fail after timeoutMs (no fixed sleeps in tests). */
export async function waitFor(pred: () => boolean, timeoutMs: number, what = "condition"): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!pred()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** True while a process (or an unreaped zombie) with this pid exists. */
export function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
