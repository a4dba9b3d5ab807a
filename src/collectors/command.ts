/**
 * A collector's command (docs/collectors.md §FRR, §Libreswan): run through the hook runner — no
 * shell, own process group killed with its children at the collection's timeout (vtysh can hang
 * on a wedged bgpd), output bounded — and its stdout returned, or why there is none thrown.
 */
import { runCommand } from "../hooks/run-command.ts";

const maxOutputBytes = 16 * 1024 * 1024;

/** `what` names the program in the errors ("vtysh", "ipsec whack"). */
export async function commandOutput(argv: readonly string[], what: string, timeoutMs: number, signal: AbortSignal): Promise<string> {
  const result = await runCommand(argv, {
    timeoutMs,
    signal,
    maxOutputBytes,
    env: { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin", LANG: "C" },
    killGraceMs: 200,
    ioGraceMs: 200,
  });
  if (result.error) throw new Error(`${argv[0]}: ${result.error}`);
  if (result.timedOut || result.aborted) throw new Error(`${what} did not answer within ${timeoutMs} ms`);
  if (result.truncated) throw new Error(`${what} answered more than ${maxOutputBytes} bytes`);
  if (result.exitCode !== 0) {
    const why = (result.stdout + result.stderr).trim().split("\n")[0] ?? "";
    throw new Error(`${what} exited with ${result.exitCode ?? result.signal}${why ? `: ${why.slice(0, 200)}` : ""}`);
  }
  return result.stdout;
}
