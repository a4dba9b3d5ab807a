/**
 * Runs `vpnham <args>` from source under the runtime running the tests (Bun or Deno), with a
 * watchdog: the child is killed when it outlives `timeoutMs` or its resident memory passes
 * `maxRssBytes`. Tests of hostile inputs (/dev/zero, FIFOs, endless bodies) use it so that a
 * regression fails quickly instead of hanging the suite or eating the machine's memory.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";

export const root = resolve(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "../..");

/** argv that runs src/main.ts under this runtime. */
export function vpnhamArgv(args: readonly string[]): string[] {
  const main = join(root, "src/main.ts");
  const isDeno = "Deno" in globalThis;
  return [process.execPath, ...(isDeno ? ["run", "-A", "--no-check", main] : [main]), ...args];
}

export interface BoundedResult {
  code: number | null;
  stdout: string;
  stderr: string;
  elapsedMs: number;
  /** Why the watchdog killed it, if it did. */
  killed?: "timeout" | "memory";
  /** Largest resident set seen, in bytes. */
  maxRssBytes: number;
}

export interface BoundedOptions {
  timeoutMs: number;
  maxRssBytes?: number;
  cwd?: string;
  env?: Record<string, string>;
  /** Called once the child runs (e.g. to signal it); its pid is the runtime's own. */
  onStart?: (child: ChildProcess) => void;
}

/** Resident set size of a live process, from /proc (0 when it is gone). */
export function rssBytes(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export function runVpnham(args: readonly string[], options: BoundedOptions): Promise<BoundedResult> {
  const [command, ...rest] = vpnhamArgv(args);
  const maxRss = options.maxRssBytes ?? 400 * 1024 * 1024;
  const started = performance.now();
  const child = spawn(command!, rest, {
    cwd: options.cwd ?? root,
    env: { ...process.env, NO_COLOR: "1", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  // Keep at most 1 MiB of each: an endless output must not fill the test runner either.
  child.stdout!.on("data", (chunk: Buffer) => void (stdout.length < 1 << 20 && (stdout += chunk.toString("utf8"))));
  child.stderr!.on("data", (chunk: Buffer) => void (stderr.length < 1 << 20 && (stderr += chunk.toString("utf8"))));
  let killed: BoundedResult["killed"];
  let maxRssBytes = 0;
  const kill = (why: "timeout" | "memory") => {
    killed ??= why;
    child.kill("SIGKILL");
  };
  const watchdog = setInterval(() => {
    if (child.pid === undefined) return;
    maxRssBytes = Math.max(maxRssBytes, rssBytes(child.pid));
    if (maxRssBytes > maxRss) kill("memory");
  }, 25);
  const deadline = setTimeout(() => kill("timeout"), options.timeoutMs);
  options.onStart?.(child);
  return new Promise((resolveResult) => {
    child.on("close", (code) => {
      clearInterval(watchdog);
      clearTimeout(deadline);
      resolveResult({ code, stdout, stderr, elapsedMs: performance.now() - started, ...(killed ? { killed } : {}), maxRssBytes });
    });
  });
}

/** A compact description for assertion messages. */
export function describeRun(r: BoundedResult): string {
  const cut = (s: string) => (s.length > 2000 ? `${s.slice(0, 2000)}…` : s);
  return `exit ${r.code}${r.killed ? ` (killed: ${r.killed})` : ""} after ${Math.round(r.elapsedMs)} ms, rss ≤ ${Math.round(r.maxRssBytes / 2 ** 20)} MiB\nstdout: ${cut(JSON.stringify(r.stdout))}\nstderr: ${cut(JSON.stringify(r.stderr))}`;
}
