// Daemons in their own process, under the runtime running the tests.
import { spawn, type ChildProcess } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = resolve(dirname(fileURLToPath((import.meta as unknown as { url: string }).url)), "..", "..");

export const isDeno = "Deno" in globalThis;

/** argv that runs `src/main.ts` under the runtime running the tests. */
export function daemonArgv(args: string[]): [string, string[]] {
  const main = join(repoRoot, "src", "main.ts");
  return isDeno ? [process.execPath, ["run", "-A", main, ...args]] : [process.execPath, [main, ...args]];
}

export interface ChildDaemon {
  child: ChildProcess;
  pid: number;
  /** stdout JSON lines (last 5000). */
  lines: string[];
  stderr: () => string;
  readonly exited: boolean;
  /** Sends a signal to the daemon (no-op once it exited). */
  signal(sig: NodeJS.Signals): void;
  stop(): Promise<void>;
}

export function spawnDaemon(configPath: string, extra: string[] = []): ChildDaemon {
  const [file, args] = daemonArgv(["serve", "--config", configPath, "--log-format", "json", ...extra]);
  const child = spawn(file, args, { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
  const lines: string[] = [];
  let rest = "";
  let err = "";
  let exited = false;
  child.stdout!.on("data", (chunk: Buffer) => {
    const parts = (rest + chunk.toString("utf8")).split("\n");
    rest = parts.pop() ?? "";
    lines.push(...parts);
    if (lines.length > 5000) lines.splice(0, lines.length - 5000);
  });
  child.stderr!.on("data", (chunk: Buffer) => {
    if (err.length < 64 * 1024) err += chunk.toString("utf8");
  });
  const exit = new Promise<void>((done) => child.once("exit", () => ((exited = true), done())));
  const signal = (sig: NodeJS.Signals): void => {
    try {
      if (!exited && child.pid !== undefined) process.kill(child.pid, sig);
    } catch {
      /* already gone */
    }
  };
  return {
    child,
    pid: child.pid ?? -1,
    lines,
    stderr: () => err,
    get exited() {
      return exited;
    },
    signal,
    async stop() {
      if (exited) return;
      // process.kill, not child.kill: Deno's ChildProcess.kill ignores every signal after the first.
      signal("SIGCONT");
      signal("SIGTERM");
      const timer = setTimeout(() => signal("SIGKILL"), 5000);
      await exit;
      clearTimeout(timer);
    },
  };
}
