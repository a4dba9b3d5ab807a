/** Poll `predicate` until it holds or the deadline passes (no fixed sleeps). */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  options: { timeoutMs: number; intervalMs?: number; what?: string },
): Promise<void> {
  const deadline = performance.now() + options.timeoutMs;
  const intervalMs = options.intervalMs ?? 20;
  for (;;) {
    if (await predicate()) return;
    if (performance.now() > deadline) {
      throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${options.what ?? "condition"}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
