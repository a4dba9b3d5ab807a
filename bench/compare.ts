/**
 * Side by side: FRR's bfdd and vpnham's compiled binary (and a Go vpnham binary with --go),
 * same namespaces, same intervals, multiplier 3 (docs/performance.md §Side by side with bfdd).
 * As root, with iproute2, nft and Debian's frr; makes and removes the namespaces hperf-a/-b.
 *
 *   bun bench/compare.ts [--quick] [--trials 10] [--intervals 100ms,50ms,20ms]
 *                        [--sizes 10@100ms,100@100ms,1000@1s] [--window-seconds 10]
 *                        [--go PATH] [--vpnham-env K=V] [--only bfdd,vpnham] [--keep]
 *   (`--intervals none` or `--sizes none` skips that phase: a full run can go in parts)
 *
 * 1. Per interval, one session, every contender running at once: a quiet window (CPU % of one
 *    core from /proc/<pid>/stat, RSS and PSS from smaps_rollup, side A), then n cuts (nft drops
 *    everything on the veth at B, at a random phase) and restores. Detection = the cut (middle
 *    of the `date` stamps around nft) → the daemon's own log line saying the session is down;
 *    "hook" = → the start of vpnham's interface_deactivate script.
 * 2. Per size, each contender alone (one after the other): time until A sees every session up,
 *    then a quiet window: CPU, RSS, PSS and peak RSS of A.
 * --quick: 3 trials, 100ms and 20ms, sizes 10@100ms and 100@1s, 4 s windows (about 1½ min).
 * --go PATH runs that binary as `PATH serve --config FILE` with the same config minus
 * `control:` (Go's shape-2 `reconcile:` hooks, which vpnham reads too); its detection is its
 * interface_deactivate hook, and its sessions' state is not read (no time to all up).
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Bfdd, Vpnham, type Contender } from "./lib/contenders.ts";
import { createNet, cut, destroyNet, netUnavailable, restore } from "./lib/hperf-net.ts";
import { cpuPercent, machineLoad, memory, sleep, type Memory } from "./lib/proc.ts";
import { formatMs, parseIntervalMs, summarize } from "./lib/stats.ts";

const say = (line = ""): void => void process.stdout.write(`${line}\n`);
const note = (line: string): void => void process.stderr.write(`${line}\n`);
const REPO = resolve(fileURLToPath((import.meta as unknown as { url: string }).url), "..", "..");

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}
const quick = process.argv.includes("--quick");
const keep = process.argv.includes("--keep");
const trials = Number(arg("trials", quick ? "3" : "10"));
/** A list flag; "none" skips that phase. */
const list = (name: string, fallback: string): string[] => arg(name, fallback).split(",").filter((s) => s !== "" && s !== "none");
const intervals = list("intervals", quick ? "100ms,20ms" : "100ms,50ms,20ms").map(parseIntervalMs);
const sizes = list("sizes", quick ? "10@100ms,100@1s" : "10@100ms,100@100ms,1000@1s").map((s) => {
    const [n, at] = s.split("@");
    return { sessions: Number(n), intervalMs: parseIntervalMs(at ?? "1s") };
  });
const windowMs = Number(arg("window-seconds", quick ? "4" : "10")) * 1000;
const goBinary = arg("go", "");
/** --vpnham-env K=V (repeatable): environment for vpnham's daemons only. */
const vpnhamEnv = Object.fromEntries(
  process.argv.flatMap((a, i) => (a === "--vpnham-env" && process.argv[i + 1] ? [process.argv[i + 1]!.split(/=(.*)/s).slice(0, 2)] : [])),
) as Record<string, string>;

interface DetectRow {
  intervalMs: number;
  detect: Map<string, number[]>;
  hook: Map<string, number[]>;
  spurious: Map<string, number>;
  cpu: Map<string, number>;
  mem: Map<string, Memory>;
}
interface SizeRow {
  sessions: number;
  intervalMs: number;
  results: Map<string, SizeResult | { error: string }>;
}
/** A's sessions up at the end, time to all up, CPU % of A and of B, A's memory, sessions A saw go down in the window. */
interface SizeResult {
  up: number;
  upMs: number;
  cpu: number;
  cpuB: number;
  mem: Memory;
  downs: number;
}

const push = <K, V>(m: Map<K, V[]>, k: K, v: V): void => void (m.get(k) ?? m.set(k, []).get(k)!).push(v);

/** Waits until `check` holds, polling every few ms; false on timeout. */
async function until(check: () => boolean, timeoutMs: number, everyMs = 5): Promise<boolean> {
  const end = performance.now() + timeoutMs;
  while (performance.now() < end) {
    if (check()) return true;
    await sleep(everyMs);
  }
  return check();
}

/** Whether a contender's A side reports its sessions; a Go binary's log is not parsed. */
const reportsState = (c: Contender): boolean => !c.name.startsWith("go");

async function detectionPhase(contenders: Contender[], intervalMs: number): Promise<DetectRow> {
  const row: DetectRow = { intervalMs, detect: new Map(), hook: new Map(), spurious: new Map(), cpu: new Map(), mem: new Map() };
  for (const c of contenders) await c.start(1, intervalMs);
  try {
    const allUp = (): boolean => contenders.every((c) => !reportsState(c) || c.upCount() === 1);
    if (!(await until(allUp, 30_000, 50))) throw new Error(`not every session came up at ${intervalMs} ms`);
    await sleep(1000 + 5 * intervalMs);
    const pids = contenders.map((c) => c.pids().a);
    const cpu = await cpuPercent(pids, windowMs);
    contenders.forEach((c, i) => {
      row.cpu.set(c.name, cpu[i]!);
      row.mem.set(c.name, memory(pids[i]!));
    });
    for (let t = 0; t < trials; t++) {
      await sleep(Math.random() * intervalMs);
      const since = contenders.map((c) => c.events().length);
      const hooksBefore = contenders.map((c) => c.hookDownTimes().length);
      const stamps = await cut();
      const atMs = ((stamps.before + stamps.after) / 2) * 1000;
      const downAfter = (c: Contender, i: number): number | undefined => c.events().slice(since[i]).find((e) => e.session === 0 && !e.up)?.tMs;
      const hookAfter = (c: Contender, i: number): number | undefined => c.hookDownTimes()[hooksBefore[i]!];
      await until(() => contenders.every((c, i) => (reportsState(c) ? downAfter(c, i) : hookAfter(c, i)) !== undefined), 10 * intervalMs + 5000);
      await sleep(50); // a hook's `date` a little after the log line
      contenders.forEach((c, i) => {
        const down = downAfter(c, i);
        if (down !== undefined && down < stamps.before * 1000) {
          row.spurious.set(c.name, (row.spurious.get(c.name) ?? 0) + 1);
          return;
        }
        if (down !== undefined) push(row.detect, c.name, down - atMs);
        const hook = hookAfter(c, i);
        if (hook !== undefined) push(row.hook, c.name, hook - atMs);
      });
      const upSince = contenders.map((c) => c.events().length);
      await restore();
      const upAgain = (c: Contender, i: number): boolean => !reportsState(c) || c.events().slice(upSince[i]).some((e) => e.session === 0 && e.up);
      if (!(await until(() => contenders.every(upAgain), 20_000, 20))) note(`trial ${t + 1} at ${intervalMs} ms: not every session came back up`);
      // bfdd comes up at its slow rate (1 s) and only then polls down to the configured one: a
      // cut within that would measure the slow rate (one trial took 2.5 s at 20 ms that way).
      await sleep(Math.max(2000, 5 * intervalMs));
      note(`  ${intervalMs} ms trial ${t + 1}: ${contenders.map((c) => `${c.name} ${row.detect.get(c.name)?.at(-1)?.toFixed(1) ?? "?"}`).join(", ")}`);
    }
  } finally {
    for (const c of contenders) await c.stop();
  }
  return row;
}

async function sizePhase(contenders: Contender[], sessions: number, intervalMs: number): Promise<SizeRow> {
  const row: SizeRow = { sessions, intervalMs, results: new Map() };
  for (const c of contenders) {
    try {
      await c.start(sessions, intervalMs);
      // From the end of the configuration (vtysh takes seconds for 1 000 bfdd peers).
      const t0 = Date.now();
      // Up = every session at A; a Go binary is given 20 s. 10 ms a session at most: 100 s for 10 000.
      const upTimeoutMs = Math.max(30_000, 30 * intervalMs, 10 * sessions);
      const allUp = reportsState(c) ? await until(() => c.upCount() === sessions, upTimeoutMs, 100) : (await sleep(20_000), false);
      const upMs = allUp ? Date.now() - t0 : NaN;
      note(`  ${sessions} sessions at ${intervalMs} ms: ${c.name} ${allUp ? `all up after ${formatMs(upMs)}` : `${c.upCount()} up`}`);
      await sleep(Math.max(2000, 3 * intervalMs));
      const { a, b } = c.pids();
      const before = c.events().length;
      const [cpu, cpuB] = await cpuPercent([a, b], windowMs);
      const downs = c.events().slice(before).filter((e) => !e.up).length;
      row.results.set(c.name, { up: reportsState(c) ? c.upCount() : NaN, upMs, cpu: cpu!, cpuB: cpuB!, mem: memory(a), downs });
    } catch (error) {
      row.results.set(c.name, { error: (error as Error).message });
    } finally {
      await c.stop();
    }
    note(`  ${sessions} sessions at ${intervalMs} ms: ${c.name} done`);
  }
  return row;
}

const range = (values: readonly number[] | undefined): string => {
  const s = summarize(values ?? []);
  return s ? `${formatMs(s.median)} (${s.min.toFixed(0)}–${s.max.toFixed(0)}, n = ${s.n})` : "–";
};
const mib = (m: Memory | undefined): string => (m ? `${m.rssMiB.toFixed(1)} / ${m.pssMiB.toFixed(1)}` : "–");

function printTable(contenders: Contender[], names: string[], detect: DetectRow[], sized: SizeRow[], loads: string[]): void {
  say(`\n## bfdd vs vpnham, ${new Date().toISOString()}, ${loads.join(" → ")}\n`);
  say(`| | ${names.join(" | ")} |`);
  say(`|---|${names.map(() => "---:").join("|")}|`);
  const line = (label: string, cell: (name: string) => string): void => say(`| ${label} | ${names.map(cell).join(" | ")} |`);
  for (const r of detect) {
    line(`detection ${r.intervalMs} ms × 3: median (min–max ms)`, (n) => range(r.detect.get(n)) + (r.spurious.get(n) ? ` (${r.spurious.get(n)} spurious)` : ""));
    line(`… to the hook's start`, (n) => range(r.hook.get(n)));
  }
  for (const r of detect) line(`CPU % of a core, 1 session at ${r.intervalMs} ms`, (n) => r.cpu.get(n)?.toFixed(2) ?? "–");
  for (const r of detect) line(`RSS / PSS MiB, 1 session at ${r.intervalMs} ms`, (n) => mib(r.mem.get(n)));
  for (const r of sized) {
    const cell = (n: string, f: (x: SizeResult) => string): string => {
      const x = r.results.get(n);
      return !x ? "–" : "error" in x ? `error: ${x.error.slice(0, 60)}` : f(x);
    };
    const label = `${r.sessions} sessions at ${r.intervalMs} ms`;
    line(`${label}: up / time to all up`, (n) => cell(n, (x) => `${Number.isNaN(x.up) ? "?" : x.up} / ${Number.isNaN(x.upMs) ? "not all" : formatMs(x.upMs)}`));
    line(`${label}: downs at A in the window`, (n) => cell(n, (x) => (reportsState(contenders.find((c) => c.name === n)!) ? String(x.downs) : "?")));
    line(`${label}: CPU % of A (B)`, (n) => cell(n, (x) => `${x.cpu.toFixed(1)} (${x.cpuB.toFixed(1)})`));
    line(`${label}: RSS / PSS (peak RSS) MiB`, (n) => cell(n, (x) => `${mib(x.mem)} (${x.mem.peakMiB.toFixed(0)})`));
  }
}

async function main(): Promise<void> {
  const why = netUnavailable() ?? (existsSync("/usr/lib/frr/bfdd") ? undefined : "/usr/lib/frr/bfdd is missing (apt-get install frr)");
  if (why) {
    note(`bench/compare.ts: ${why}`);
    process.exit(1);
  }
  const binary = join(REPO, "dist", "vpnham");
  if (!existsSync(binary)) spawnSync(process.execPath, [join(REPO, "build.ts")], { cwd: REPO, stdio: "inherit" });
  const runDir = mkdtempSync(join(tmpdir(), "hperf-compare-"));
  chmodSync(runDir, 0o755); // bfdd runs as frr and writes its log below
  const contenders: Contender[] = [new Bfdd(runDir), new Vpnham("vpnham", binary, "ts", runDir, vpnhamEnv)];
  if (goBinary) contenders.push(new Vpnham("go vpnham", resolve(goBinary), "go", runDir));
  // --only bfdd,vpnham: a subset (e.g. to try a vpnham change without waiting for bfdd).
  const only = list("only", "");
  if (only.length) contenders.splice(0, contenders.length, ...contenders.filter((c) => only.includes(c.name)));
  const names = contenders.map((c) => c.name);
  const loads = [machineLoad()];
  note(`bench/compare.ts: ${names.join(", ")}${Object.keys(vpnhamEnv).length ? ` (vpnham with ${JSON.stringify(vpnhamEnv)})` : ""}; ${trials} trials at ${intervals.join(", ")} ms; sizes ${sizes.map((s) => `${s.sessions}@${s.intervalMs}ms`).join(", ")}; ${loads[0]}`);
  const stop = (): void => {
    destroyNet();
    process.exit(130);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  const detect: DetectRow[] = [];
  const sized: SizeRow[] = [];
  try {
    await createNet(Math.max(1, ...sizes.map((s) => s.sessions)));
    for (const intervalMs of intervals) detect.push(await detectionPhase(contenders, intervalMs));
    for (const { sessions, intervalMs } of sizes) sized.push(await sizePhase(contenders, sessions, intervalMs));
  } finally {
    for (const c of contenders) await c.stop();
    destroyNet();
    if (!keep) rmSync(runDir, { recursive: true, force: true });
    else note(`logs kept in ${runDir}`);
  }
  loads.push(machineLoad());
  printTable(contenders, names, detect, sized, loads);
}

await main();
