/**
 * Where a compiled vpnham's memory goes (docs/performance.md §Memory): the runtime's floor
 * (an empty compiled Bun binary), a compiled binary that binds one UDP socket and one
 * node:http server, binaries that only import a part of vpnham (what loading that part costs,
 * before anything runs), and the real binary serving one bridge with one tunnel at 100 ms
 * against a second vpnham on loopback (127.88.249.1/.2, each the other's partner, as
 * bench/soak.ts). Each idles `--seconds`, then RSS, peak RSS, PSS (smaps_rollup) and the JS
 * heap (process.memoryUsage(): the stages print it; vpnham serves it as nodejs_heap_* series).
 * For vpnham, RSS, anonymous and PSS are medians of 1 s samples over the last 10 s.
 *
 *   bun bench/memory.ts [--seconds 15] [--binary dist/vpnham] [--only floor,udp-http,vpnham]
 *                       [--tunnels 1] [--interval 100ms] (the daemons' bridge)
 *                       [--env K=V] (for the daemons, e.g. BUN_JSC_… options)
 *
 * Builds the stage binaries in a temporary directory with build.ts's flags. Linux (/proc).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { cpuPercent, machineLoad, memory, sleep, terminate, type Memory } from "./lib/proc.ts";
import { summarize } from "./lib/stats.ts";

const REPO = resolve(fileURLToPath((import.meta as unknown as { url: string }).url), "..", "..");
const say = (line = ""): void => void process.stdout.write(`${line}\n`);
function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}
const seconds = Number(arg("seconds", "15"));
const binary = resolve(arg("binary", join(REPO, "dist", "vpnham")));
const only = arg("only", "").split(",").filter(Boolean);
const tunnels = Number(arg("tunnels", "1"));
const interval = arg("interval", "100ms");
const extraEnv = Object.fromEntries(
  process.argv.flatMap((a, i) => (a === "--env" && process.argv[i + 1] ? [process.argv[i + 1]!.split(/=(.*)/s).slice(0, 2)] : [])),
) as Record<string, string>;

const REPORT = `setInterval(() => process.stdout.write(JSON.stringify(process.memoryUsage()) + "\\n"), 1000);\n`;
const src = (path: string): string => JSON.stringify(join(REPO, "src", path));
/** Entry points of the stage binaries: each imports a part and idles (globalThis keeps it). */
const STAGES: Record<string, string> = {
  floor: REPORT,
  "udp-http":
    `import { createSocket } from "node:dgram"; import { createServer } from "node:http";\n` +
    `createSocket("udp4").bind(0, "127.0.0.1"); createServer((q, r) => r.end("ok")).listen(0, "127.0.0.1");\n${REPORT}`,
  "import config (zod, yaml)": `import * as m from ${src("config/index.ts")}; (globalThis as any).m = m;\n${REPORT}`,
  "import metrics (prom-client)": `import * as m from ${src("metrics/registry.ts")}; (globalThis as any).m = m;\n${REPORT}`,
  "import daemon": `import * as m from ${src("daemon/daemon.ts")}; (globalThis as any).m = m;\n${REPORT}`,
  "import serve": `import * as m from ${src("cli/serve.ts")}; (globalThis as any).m = m;\n${REPORT}`,
};

interface Measured {
  name: string;
  rssMiB: number;
  anonMiB: number;
  peakMiB: number;
  pssMiB: number;
  heapUsedMiB: number;
  heapTotalMiB: number;
  externalMiB: number;
}

const MiB = 1024 * 1024;

function build(dir: string, name: string, source: string): string {
  const entry = join(dir, `${name.replace(/\W+/g, "-")}.ts`);
  const out = entry.replace(/\.ts$/, "");
  writeFileSync(entry, source);
  const flags = ["--compile", "--minify", "--bytecode", "--format=esm", "--no-compile-autoload-dotenv", "--no-compile-autoload-bunfig"];
  const r = spawnSync(process.execPath, ["build", ...flags, entry, "--outfile", out], { cwd: REPO, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`building ${name}: ${r.stderr}`);
  return out;
}

async function stage(name: string, file: string): Promise<Measured> {
  const child = spawn(file, [], { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, ...extraEnv } });
  let last = "";
  child.stdout!.on("data", (chunk: Buffer) => (last = chunk.toString().trim().split("\n").at(-1) ?? last));
  await sleep(seconds * 1000);
  const mem = memory(child.pid!);
  const heap = JSON.parse(last || "{}") as { heapUsed?: number; heapTotal?: number; external?: number };
  await terminate(child.pid!);
  return { name, ...mem, heapUsedMiB: (heap.heapUsed ?? NaN) / MiB, heapTotalMiB: (heap.heapTotal ?? NaN) / MiB, externalMiB: (heap.external ?? NaN) / MiB };
}

function pairConfig(side: "left" | "right"): string {
  const ip = { left: "127.88.249.1", right: "127.88.249.2" };
  const other = side === "left" ? "right" : "left";
  return `bridges:
  mem:
    role: ${side === "left" ? "active" : "standby"}
    bridge_interface: lo
    peer_cidr: 10.${side === "left" ? 1 : 0}.0.0/16
    status_addr: ${ip[side]}:8080
    partner_url: http://${ip[other]}:8080/
    probe_interval: ${interval}
    partner_status_timeout: 50ms
    probe_location: mem/${side}
    tunnel_interfaces:
${Array.from({ length: tunnels }, (_, i) => `      t${i}: { role: ${i ? "standby" : "active"}, addr: "${ip[side]}:${3100 + i}", probe_addr: "${ip[other]}:${3100 + i}", threshold_down: 3, threshold_up: 2 }\n`).join("")}metrics:
  listen_addr: ${ip[side]}:8000
`;
}

async function vpnham(dir: string): Promise<Measured> {
  const children: ChildProcess[] = [];
  for (const side of ["left", "right"] as const) {
    const path = join(dir, `${side}.yaml`);
    writeFileSync(path, pairConfig(side) + `control:\n  socket_path: ${join(dir, `${side}.sock`)}\n`);
    children.push(spawn(binary, ["serve", "--config", path, "--log-level", "warn"], { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, ...extraEnv } }));
  }
  try {
    const pid = children[0]!.pid!;
    await sleep(Math.max(0, seconds - 10) * 1000);
    // RSS moves with the garbage collector (±10 % at 1 000 tunnels): the median of 1 s samples.
    const samples: Memory[] = [];
    const sampler = setInterval(() => samples.push(memory(pid)), 1000);
    const [cpu] = await cpuPercent([pid], Math.min(10, seconds) * 1000);
    clearInterval(sampler);
    const median = (pick: (m: Memory) => number): number => summarize(samples.map(pick))?.median ?? NaN;
    const mem = { ...memory(pid), rssMiB: median((m) => m.rssMiB), anonMiB: median((m) => m.anonMiB), pssMiB: median((m) => m.pssMiB) };
    const text = await (await fetch("http://127.88.249.1:8000/metrics")).text();
    const value = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? NaN) / MiB;
    return {
      name: `vpnham serve, 1 bridge, ${tunnels} tunnel(s) at ${interval} (${binary.replace(REPO + "/", "")}; CPU ${cpu!.toFixed(1)} % of a core)`,
      ...mem,
      heapUsedMiB: value("nodejs_heap_size_used_bytes"),
      heapTotalMiB: value("nodejs_heap_size_total_bytes"),
      externalMiB: value("nodejs_external_memory_bytes"),
    };
  } finally {
    await Promise.all(children.map((c) => terminate(c.pid!)));
  }
}

const dir = mkdtempSync(join(tmpdir(), "hperf-memory-"));
const rows: Measured[] = [];
try {
  for (const [name, source] of Object.entries(STAGES)) {
    if (only.length && !only.some((o) => name.startsWith(o))) continue;
    rows.push(await stage(name, build(dir, name, source)));
    process.stderr.write(`${name} done\n`);
  }
  if (!only.length || only.includes("vpnham")) rows.push(await vpnham(dir));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const f = (x: number): string => (Number.isNaN(x) ? "–" : x.toFixed(1));
say(`\nmemory after ${seconds} s idle, ${new Date().toISOString()}, ${machineLoad()}${Object.keys(extraEnv).length ? `, env ${JSON.stringify(extraEnv)}` : ""}\n`);
say("| binary | RSS MiB | of it anonymous | peak RSS | PSS | JS heap used / total | external |");
say("|---|---:|---:|---:|---:|---:|---:|");
for (const r of rows) say(`| ${r.name} | ${f(r.rssMiB)} | ${f(r.anonMiB)} | ${f(r.peakMiB)} | ${f(r.pssMiB)} | ${f(r.heapUsedMiB)} / ${f(r.heapTotalMiB)} | ${f(r.externalMiB)} |`);
