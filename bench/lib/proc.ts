/** Process helpers for the benchmarks that start daemons (Linux /proc; bench/compare.ts). */
import { execFile } from "node:child_process";
import { closeSync, fstatSync, openSync, readFileSync, readSync } from "node:fs";
import { cpuSeconds } from "./stats.ts";

export { cpuSeconds };

/** Runs a command; rejects with its stderr (or stdout) on a non-zero exit. */
export function run(cmd: string, args: readonly string[], timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, [...args], { timeout: timeoutMs, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${cmd} ${args.join(" ").slice(0, 200)}: ${stderr.trim() || stdout.trim() || error.message}`));
      else resolve(stdout);
    });
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Alive and not a zombie: PID 1 here reaps orphans only every ~2 s. */
export function alive(pid: number): boolean {
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone (or a zombie). */
export async function terminate(pid: number, graceMs = 3000): Promise<void> {
  if (!alive(pid)) return;
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  const until = Date.now() + graceMs;
  while (alive(pid) && Date.now() < until) await sleep(10);
  if (alive(pid)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* gone */
    }
    while (alive(pid)) await sleep(10);
  }
}

export interface Memory {
  /** VmRSS, VmHWM (peak RSS), Pss and Anonymous (smaps_rollup), MiB. */
  rssMiB: number;
  peakMiB: number;
  pssMiB: number;
  /** Private memory (heap, JIT code, stacks); the rest of RSS is the binary's pages, shared and clean. */
  anonMiB: number;
}

const kib = (text: string, field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? NaN);

export function memory(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  let rollup = "";
  try {
    rollup = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  } catch {
    // kernels without smaps_rollup: PSS stays unknown
  }
  return { rssMiB: kib(status, "VmRSS") / 1024, peakMiB: kib(status, "VmHWM") / 1024, pssMiB: kib(rollup, "Pss") / 1024, anonMiB: kib(rollup, "Anonymous") / 1024 };
}

/** CPU % of one core of each pid over a window of `ms`. */
export async function cpuPercent(pids: readonly number[], ms: number): Promise<number[]> {
  const before = pids.map(cpuSeconds);
  const t0 = performance.now();
  await sleep(ms);
  const seconds = (performance.now() - t0) / 1000;
  return pids.map((pid, i) => ((cpuSeconds(pid) - before[i]!) / seconds) * 100);
}

/** The 1-, 5- and 15-minute load averages and the core count, for the record. */
export function machineLoad(): string {
  const [one, five, fifteen] = readFileSync("/proc/loadavg", "utf8").split(" ");
  return `load average ${one}, ${five}, ${fifteen} on ${readFileSync("/proc/cpuinfo", "utf8").match(/^processor\s*:/gm)?.length ?? "?"} cores`;
}

/** Reads the lines a file gained since the last call (a daemon's log). */
export class FileTail {
  private offset = 0;
  private rest = "";
  constructor(private readonly path: string) {}
  lines(): string[] {
    let text = "";
    try {
      const fd = openSync(this.path, "r");
      try {
        const size = fstatSync(fd).size;
        if (size < this.offset) this.offset = 0;
        const buf = Buffer.alloc(size - this.offset);
        const n = buf.length ? readSync(fd, buf, 0, buf.length, this.offset) : 0;
        this.offset += n;
        text = buf.subarray(0, n).toString("utf8");
      } finally {
        closeSync(fd);
      }
    } catch {
      return [];
    }
    const parts = (this.rest + text).split("\n");
    this.rest = parts.pop() ?? "";
    return parts;
  }
}
