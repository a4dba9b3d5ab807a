/**
 * Soak benchmark: two vpnham daemons (separate processes) that are each other's
 * tunnel peer *and* partner — bridge "soak", left active, right standby — with
 * N tunnels each, probing at 10 probes/s per tunnel (probe_interval 100ms) and
 * polling each other's /status at the same rate. Prints RSS and CPU of both
 * processes over time and the least-squares slope of RSS, plus probe counters
 * from /metrics so a leak hunt also shows the pair stayed healthy.
 *
 *   bun bench/soak.ts [--minutes 2] [--every 10] [--runtime bun|deno|binary]
 *                     [--tunnels 2] [--interval 100ms] [--warmup-seconds 60] [--subnet 250]
 *   deno run -A bench/soak.ts …
 *
 * Loopback only: 127.88.<subnet>.1 (left) and .2 (right), subnet 250 by default
 * (251..254 for side-by-side runs). Linux (/proc).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(fileURLToPath((import.meta as unknown as { url: string }).url), "..", "..");

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

const minutes = Number(arg("minutes", "2"));
const everySeconds = Number(arg("every", "10"));
const runtime = arg("runtime", "bun");
const tunnels = Number(arg("tunnels", "2"));
const interval = arg("interval", "100ms");
// --subnet lets two soaks (e.g. two runtimes) run side by side.
const subnet = Number(arg("subnet", "250"));
const warmupSeconds = Number(arg("warmup-seconds", String(Math.min(60, (minutes * 60) / 5))));
if (!(minutes > 0) || !(everySeconds > 0) || !(tunnels >= 1 && tunnels <= 20) || !["bun", "deno", "binary"].includes(runtime) || !(subnet >= 250 && subnet <= 254)) {
  process.stderr.write("usage: bench/soak.ts [--minutes N] [--every S] [--runtime bun|deno|binary] [--tunnels 1..20] [--interval 100ms] [--subnet 250..254]\n");
  process.exit(2);
}

const hosts = {
  left: { ip: `127.88.${subnet}.1`, role: "active", peer: `127.88.${subnet}.2` },
  right: { ip: `127.88.${subnet}.2`, role: "standby", peer: `127.88.${subnet}.1` },
} as const;
type Side = keyof typeof hosts;

function configYaml(side: Side): string {
  const h = hosts[side];
  const tunnelLines = Array.from({ length: tunnels }, (_, i) => {
    const port = 3100 + i;
    return `      t${i}:
        role: ${i === 0 ? "active" : "standby"}
        addr: ${h.ip}:${port}
        probe_addr: ${h.peer}:${port}
        threshold_down: 3
        threshold_up: 2`;
  }).join("\n");
  return `bridges:
  soak:
    role: ${h.role}
    bridge_interface: soak0
    peer_cidr: 10.${side === "left" ? 1 : 0}.0.0/16
    status_addr: ${h.ip}:8080
    partner_url: http://${h.peer}:8080/
    probe_interval: ${interval}
    partner_status_timeout: 80ms
    probe_location: soak/${side}
    tunnel_interfaces:
${tunnelLines}
    scripts_timeout: 5s
    scripts:
      bridge_activate: [["true"]]
      interface_activate: [["true"]]
metrics:
  listen_addr: ${h.ip}:8000
`;
}

function command(configPath: string): [string, string[]] {
  const bin = join(root, "node_modules", ".bin");
  if (runtime === "deno") return [join(bin, "deno"), ["run", "-A", join(root, "src/main.ts"), "serve", "--config", configPath]];
  if (runtime === "binary") return [join(root, "dist", "vpnham"), ["serve", "--config", configPath]];
  return [join(bin, "bun"), [join(root, "src/main.ts"), "serve", "--config", configPath]];
}

interface Proc {
  side: Side;
  child: ChildProcess;
  pid: number;
  warnings: number;
  errors: number;
  lastCpuTicks: number;
}

const CLK_TCK = 100; // Linux x86-64/arm64 USER_HZ

function readRssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) : NaN;
}

function readCpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name "(…)", which may itself hold spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]); // utime + stime
}

async function scrape(side: Side): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  try {
    const res = await fetch(`http://${hosts[side].ip}:8000/metrics`, { signal: AbortSignal.timeout(2000) });
    for (const line of (await res.text()).split("\n")) {
      if (line.startsWith("#") || line === "") continue;
      const space = line.lastIndexOf(" ");
      const name = line.slice(0, line.indexOf("{") > 0 ? line.indexOf("{") : space);
      out.set(name, (out.get(name) ?? 0) + Number(line.slice(space + 1)));
    }
  } catch {
    // a missed scrape shows as zeros
  }
  return out;
}

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return NaN;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? NaN : num / den;
}

const dir = mkdtempSync(join(tmpdir(), "vpnham-soak-"));
const procs: Proc[] = [];
let stopping = false;

function startProc(side: Side): Proc {
  const path = join(dir, `${side}.yaml`);
  writeFileSync(path, configYaml(side));
  const [file, args] = command(path);
  const child = spawn(file, [...args, "--log-level", "warn", "--log-format", "json"], { stdio: ["ignore", "pipe", "pipe"], cwd: root });
  const proc: Proc = { side, child, pid: child.pid ?? -1, warnings: 0, errors: 0, lastCpuTicks: 0 };
  let rest = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    const lines = (rest + chunk.toString("utf8")).split("\n");
    rest = lines.pop() ?? "";
    for (const line of lines) {
      if (line.includes('"level":"warn"')) proc.warnings++;
      else if (line.includes('"level":"error"')) {
        proc.errors++;
        process.stderr.write(`[${side}] ${line}\n`);
      }
    }
  });
  child.stderr!.on("data", (chunk: Buffer) => process.stderr.write(`[${side} stderr] ${chunk}`));
  child.once("exit", (code, signal) => {
    if (!stopping) {
      process.stderr.write(`${side} exited unexpectedly (code ${code}, signal ${signal})\n`);
      void shutdown(1);
    }
  });
  return proc;
}

async function shutdown(code: number): Promise<never> {
  stopping = true;
  await Promise.all(
    procs.map(
      (p) =>
        new Promise<void>((done) => {
          if (p.child.exitCode !== null || p.child.signalCode !== null) return done();
          const kill = setTimeout(() => p.child.kill("SIGKILL"), 5000);
          p.child.once("exit", () => {
            clearTimeout(kill);
            done();
          });
          p.child.kill("SIGTERM");
        }),
    ),
  );
  rmSync(dir, { recursive: true, force: true });
  process.exit(code);
}

process.once("SIGINT", () => void shutdown(130));
process.once("SIGTERM", () => void shutdown(143));

const mib = (kib: number): string => (kib / 1024).toFixed(1);
const runtimeName = "Deno" in globalThis ? `deno ${process.versions.deno}` : `bun ${process.versions.bun ?? "?"}`;
process.stdout.write(
  `vpnham soak: ${minutes} min, daemons on ${runtime}, ${tunnels} tunnel(s) per host at ${interval}, sample every ${everySeconds}s (bench on ${runtimeName})\n`,
);

for (const side of ["left", "right"] as Side[]) procs.push(startProc(side));

const startedMs = performance.now();
const samples: { t: number; rss: Record<Side, number> }[] = [];
const cpuTotalsTicks: Record<Side, number> = { left: 0, right: 0 };
for (const p of procs) p.lastCpuTicks = readCpuTicks(p.pid);
let lastSampleMs = startedMs;
const endMs = startedMs + minutes * 60_000;

while (performance.now() < endMs) {
  const nextMs = Math.min(endMs, lastSampleMs + everySeconds * 1000);
  await new Promise((r) => setTimeout(r, Math.max(0, nextMs - performance.now())));
  const nowMs = performance.now();
  const elapsedS = (nowMs - startedMs) / 1000;
  const dtS = (nowMs - lastSampleMs) / 1000;
  lastSampleMs = nowMs;
  const rss = {} as Record<Side, number>;
  const parts: string[] = [];
  for (const p of procs) {
    const ticks = readCpuTicks(p.pid);
    const cpuPct = ((ticks - p.lastCpuTicks) / CLK_TCK / dtS) * 100;
    cpuTotalsTicks[p.side] += ticks - p.lastCpuTicks;
    p.lastCpuTicks = ticks;
    rss[p.side] = readRssKiB(p.pid);
    parts.push(`${p.side} rss ${mib(rss[p.side]).padStart(6)} MiB cpu ${cpuPct.toFixed(1).padStart(5)}%`);
  }
  const m = await scrape("left");
  const counters = `sent ${m.get("vpnham_probes_sent_total") ?? 0} returned ${m.get("vpnham_probes_returned_total") ?? 0} failed ${m.get("vpnham_probes_failed_total") ?? 0} transitions ${m.get("vpnham_role_transitions_total") ?? 0}`;
  samples.push({ t: elapsedS, rss });
  process.stdout.write(`t=${elapsedS.toFixed(0).padStart(5)}s  ${parts.join("  ")}  left: ${counters}\n`);
}

const totalS = (performance.now() - startedMs) / 1000;
process.stdout.write("\nsummary\n");
for (const side of ["left", "right"] as Side[]) {
  const steady = samples.filter((s) => s.t >= warmupSeconds);
  const use = steady.length >= 3 ? steady : samples;
  const xs = use.map((s) => s.t / 60);
  const ys = use.map((s) => s.rss[side]);
  const all = samples.map((s) => s.rss[side]);
  const k = slope(xs, ys);
  // The second half alone: a leak keeps its slope, a warm-up does not.
  const half = samples.slice(Math.floor(samples.length / 2));
  const kHalf = slope(half.map((s) => s.t / 60), half.map((s) => s.rss[side]));
  process.stdout.write(
    `  ${side.padEnd(5)} rss first ${mib(all[0] ?? NaN)} MiB, last ${mib(all[all.length - 1] ?? NaN)} MiB, min ${mib(Math.min(...all))}, max ${mib(Math.max(...all))}; ` +
      `slope after ${warmupSeconds}s warm-up ${k.toFixed(1)} KiB/min (${((k * 60) / 1024).toFixed(2)} MiB/h over ${use.length} samples), ` +
      `second half ${kHalf.toFixed(1)} KiB/min (${((kHalf * 60) / 1024).toFixed(2)} MiB/h); ` +
      `cpu avg ${((cpuTotalsTicks[side] / CLK_TCK / totalS) * 100).toFixed(2)}%; ` +
      `log warnings ${procs.find((p) => p.side === side)!.warnings}, errors ${procs.find((p) => p.side === side)!.errors}\n`,
  );
}
for (const side of ["left", "right"] as Side[]) {
  const m = await scrape(side);
  process.stdout.write(
    `  ${side.padEnd(5)} probes sent ${m.get("vpnham_probes_sent_total") ?? 0}, returned ${m.get("vpnham_probes_returned_total") ?? 0}, failed ${m.get("vpnham_probes_failed_total") ?? 0}, late ${m.get("vpnham_probes_late_total") ?? 0}; partner polls ${m.get("vpnham_partner_polls_total") ?? 0}; role transitions ${m.get("vpnham_role_transitions_total") ?? 0}; bridge_active ${m.get("vpnham_bridge_active") ?? 0}\n`,
  );
}
await shutdown(0);
