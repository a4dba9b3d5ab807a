/**
 * What a Prometheus scrape costs a daemon with many tunnels, and whether it delays probes
 * (docs/performance.md §Scrapes). On loopback (127.88.246.0/24), as any user:
 *
 *   bun bench/scrape.ts [--tunnels 1000] [--interval 1s] [--phase-seconds 15]
 *                       [--binary dist/vpnham] [--every-ms 1000]
 *
 * Daemon L (the one scraped) has `--tunnels` tunnels; t1… go to daemon R (its partner), t0 to
 * this process, which answers L's probes on t0 (their arrival times show how late L sends) and
 * sends its own probe to L's t0 every 10 ms (the round trip shows how late L answers). Three
 * phases of `--phase-seconds` each: no scrapes, a scrape every `--every-ms` without gzip, the
 * same with `Accept-Encoding: gzip`. Per phase: L's CPU (and per scrape, over the quiet phase),
 * scrape time and size, reply delay percentiles and the largest lateness of L's own sends.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { randomBytes } from "node:crypto";
import { GO_ZERO_TIME, UTC_OFFSET_MIN, nowUnixNs } from "../src/probe/gotime.ts";
import { startTransponder } from "../src/probe/transponder.ts";
import { encodeProbe } from "../src/probe/wire.ts";
import { cpuSeconds, machineLoad, memory, sleep, terminate } from "./lib/proc.ts";
import { parseIntervalMs } from "./lib/stats.ts";

const REPO = resolve(fileURLToPath((import.meta as unknown as { url: string }).url), "..", "..");
const say = (line = ""): void => void process.stdout.write(`${line}\n`);
const note = (line: string): void => void process.stderr.write(`${line}\n`);
function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}
const tunnels = Number(arg("tunnels", "1000"));
const interval = arg("interval", "1s");
const intervalMs = parseIntervalMs(interval);
const phaseMs = Number(arg("phase-seconds", "15")) * 1000;
const everyMs = Number(arg("every-ms", "1000"));
const binary = resolve(arg("binary", join(REPO, "dist", "vpnham")));
const IP = { l: "127.88.246.1", r: "127.88.246.2", bench: "127.88.246.3" } as const;
const port = (i: number): number => 3100 + i;

function config(side: "l" | "r", dir: string): string {
  const other = side === "l" ? "r" : "l";
  const list = Array.from({ length: tunnels }, (_, i) => i).filter((i) => side === "l" || i > 0);
  const lines = list.map((i, n) => {
    const peer = i === 0 ? IP.bench : IP[other];
    return `      t${i}: { role: ${n === 0 ? "active" : "standby"}, addr: "${IP[side]}:${port(i)}", probe_addr: "${peer}:${port(i)}", threshold_down: 3, threshold_up: 2 }\n`;
  });
  return (
    `bridges:\n  scrape:\n    role: ${side === "l" ? "active" : "standby"}\n    bridge_interface: lo\n    peer_cidr: 10.${side === "l" ? 1 : 0}.0.0/16\n` +
    `    status_addr: ${IP[side]}:8080\n    partner_url: http://${IP[other]}:8080/\n    probe_interval: ${interval}\n    partner_status_timeout: ${Math.min(500, intervalMs / 2)}ms\n` +
    `    probe_location: scrape/${side}\n    tunnel_interfaces:\n${lines.join("")}` +
    `metrics:\n  listen_addr: ${IP[side]}:8000\ncontrol:\n  socket_path: ${join(dir, `${side}.sock`)}\n`
  );
}

/** One scrape: wall time and body bytes as sent (gzip or not). */
function scrape(gzip: boolean): Promise<{ ms: number; bytes: number }> {
  const t0 = performance.now();
  return new Promise((done, fail) => {
    const req = request({ host: IP.l, port: 8000, path: "/metrics", headers: { "Accept-Encoding": gzip ? "gzip" : "identity" } }, (res) => {
      let bytes = 0;
      res.on("data", (chunk: Buffer) => (bytes += chunk.length));
      res.on("end", () => done({ ms: performance.now() - t0, bytes }));
      res.on("error", fail);
    });
    req.on("error", fail);
    req.end();
  });
}

const pct = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]! : NaN;
};

interface Phase {
  name: string;
  cpuPct: number;
  scrapes: { ms: number; bytes: number }[];
  replyMs: number[];
  sendLateMs: number[];
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "hperf-scrape-"));
  const children: ChildProcess[] = [];
  const benchId = randomBytes(16);
  const tunnelId = randomBytes(16);
  const sentAt = new Map<bigint, number>();
  let replies: number[] = [];
  let arrivals: number[] = [];
  const bench = startTransponder({
    addr: { host: IP.bench, port: port(0), family: 4, text: `${IP.bench}:${port(0)}` },
    probeAddr: { host: IP.l, port: port(0), family: 4, text: `${IP.l}:${port(0)}` },
    probeLocation: "bench",
    events: {
      onReply: (probe, receivedMonoNs) => {
        const t = sentAt.get(probe.sequence);
        if (t === undefined) return;
        sentAt.delete(probe.sequence);
        replies.push(Number(receivedMonoNs) / 1e6 - t);
      },
      onRequestAnswered: () => arrivals.push(performance.now()),
      onMalformed: () => {},
      onSocketError: (error) => note(`bench socket: ${error.message}`),
    },
  });
  let sequence = 0n;
  const prober = setInterval(() => {
    sequence++;
    sentAt.set(sequence, Number(process.hrtime.bigint()) / 1e6);
    if (sentAt.size > 1000) sentAt.delete(sentAt.keys().next().value!);
    bench.send(
      encodeProbe({ sequence, srcUuid: benchId, srcTime: { unixNs: nowUnixNs(), offsetMin: UTC_OFFSET_MIN }, srcLocation: "bench", dstUuid: tunnelId, dstTime: GO_ZERO_TIME, dstLocation: "" }),
    );
  }, 10);
  const phases: Phase[] = [];
  try {
    for (const side of ["l", "r"] as const) {
      const path = join(dir, `${side}.yaml`);
      writeFileSync(path, config(side, dir));
      children.push(spawn(binary, ["serve", "--config", path, "--log-level", "warn"], { stdio: ["ignore", "ignore", "inherit"] }));
    }
    const pid = children[0]!.pid!;
    note(`bench/scrape.ts: ${tunnels} tunnels at ${interval}, ${binary.replace(REPO + "/", "")}; waiting for steady state`);
    await sleep(Math.max(10_000, 5 * intervalMs));
    const first = await scrape(false);
    note(`first scrape: ${first.bytes} bytes in ${first.ms.toFixed(0)} ms`);
    await sleep(2000);
    for (const [name, gzip] of [["no scrapes", undefined], ["scrape every 1 s, identity", false], ["scrape every 1 s, gzip", true]] as const) {
      replies = [];
      arrivals = [];
      const scrapes: { ms: number; bytes: number }[] = [];
      const cpu0 = cpuSeconds(pid);
      const t0 = performance.now();
      const until = t0 + phaseMs;
      while (performance.now() < until) {
        const next = performance.now() + everyMs;
        if (gzip !== undefined) scrapes.push(await scrape(gzip));
        await sleep(Math.max(0, next - performance.now()));
      }
      const cpuPct = ((cpuSeconds(pid) - cpu0) / ((performance.now() - t0) / 1000)) * 100;
      // L's sends on t0: lateness against the grid of its first arrival in the phase.
      const sendLateMs = arrivals.slice(1).map((t, i) => t - arrivals[i]! - intervalMs);
      phases.push({ name: gzip === undefined ? name.replace("1 s", `${everyMs / 1000} s`) : name.replace("1 s", `${everyMs / 1000} s`), cpuPct, scrapes, replyMs: replies, sendLateMs });
      note(`${name}: done`);
    }
    const mem = memory(pid);
    say(`\nscrapes of ${tunnels} tunnels at ${interval} (${binary.replace(REPO + "/", "")}), ${new Date().toISOString()}, ${machineLoad()}; L's RSS ${mem.rssMiB.toFixed(0)} MiB\n`);
    say("| phase | L's CPU % | CPU per scrape | scrape time median / max | body | reply delay p50 / p99 / max | L's sends: lateness max |");
    say("|---|---:|---:|---:|---:|---:|---:|");
    const quietCpu = phases[0]!.cpuPct;
    for (const p of phases) {
      const perScrapeMs = p.scrapes.length ? (((p.cpuPct - quietCpu) / 100) * (phaseMs / 1000) * 1000) / p.scrapes.length : NaN;
      const times = p.scrapes.map((s) => s.ms);
      say(
        `| ${p.name} | ${p.cpuPct.toFixed(1)} | ${Number.isNaN(perScrapeMs) ? "–" : `${perScrapeMs.toFixed(0)} ms`} | ` +
          `${times.length ? `${pct(times, 0.5).toFixed(0)} / ${Math.max(...times).toFixed(0)} ms` : "–"} | ` +
          `${p.scrapes.length ? `${(p.scrapes[0]!.bytes / 1e6).toFixed(2)} MB` : "–"} | ` +
          `${pct(p.replyMs, 0.5).toFixed(2)} / ${pct(p.replyMs, 0.99).toFixed(1)} / ${Math.max(...p.replyMs).toFixed(1)} ms | ` +
          `${p.sendLateMs.length ? `${Math.max(...p.sendLateMs.map(Math.abs)).toFixed(1)} ms (n = ${p.sendLateMs.length})` : "–"} |`,
      );
    }
  } finally {
    clearInterval(prober);
    await bench.close();
    await Promise.all(children.map((c) => terminate(c.pid!)));
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
