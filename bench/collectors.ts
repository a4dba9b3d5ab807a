/**
 * What the collectors cost with 100 IPsec tunnels and 100 BGP peers, against the cron script's
 * approach (docs/performance.md §Collectors; no root, loopback only):
 *
 *   bun bench/collectors.ts [--tunnels 100] [--peers 100] [--window 20s] [--interval 1s] [--cron-runs 10] [--loop-runs 3]
 *
 * A scripted charon (test/vici/fake-charon.ts, in this process, answers pre-encoded) streams one
 * list-conn event per tunnel and one list-sa event per IKE_SA; a stand-in vtysh (`sh` + `cat`)
 * prints a `show bgp vrf all summary json` with N peers. Every 10th tunnel and peer is down.
 * Printed: decode time (VICI decode + parse + samples; JSON.parse + parse + samples), collection
 * latency (engine runNow, both collectors), scrape latency (`/metrics` rendering), RSS, and the CPU
 * of the engine collecting at --interval over --window (this process + its reaped children),
 * scaled to one collection every 15 s. Then bench/cron-textfile.sh (loop and onepass) on the same
 * load as text (onepass --cron-runs times, loop --loop-runs times), timed by /usr/bin/time.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Registry } from "prom-client";
import { startCollectors } from "../src/collectors/index.ts";
import { frrSamples, parseBgpSummary } from "../src/collectors/frr/samples.ts";
import { parseConns, parseSas } from "../src/collectors/strongswan/parse.ts";
import { emptyCounterState, strongswanSamples } from "../src/collectors/strongswan/samples.ts";
import { configureLogger } from "../src/util/log.ts";
import { concatBytes, type ViciSection } from "../src/vici/message.ts";
import { decodePacket, encodePacket, PACKET } from "../src/vici/packet.ts";
import { defaultReply, FakeCharon } from "../test/vici/fake-charon.ts";
import { bgpSummaryText, expectedTunnelsText, frrSummaryJson, listConnEvents, listSaEvents, swanctlListSasText } from "./lib/collectors-load.ts";
import { parseIntervalMs, rssMiB } from "./lib/stats.ts";

const say = (line = ""): void => void process.stdout.write(`${line}\n`);
const { values } = parseArgs({
  options: {
    tunnels: { type: "string", default: "100" },
    peers: { type: "string", default: "100" },
    window: { type: "string", default: "20s" },
    interval: { type: "string", default: "1s" },
    "cron-runs": { type: "string", default: "10" },
    "loop-runs": { type: "string", default: "3" },
  },
});
const tunnels = Number(values.tunnels);
const peers = Number(values.peers);
const windowMs = parseIntervalMs(values.window);
const intervalMs = parseIntervalMs(values.interval);
const cronRuns = Number(values["cron-runs"]);
// The per-item loop takes seconds a run on a loaded 2-core host: 3 runs keep the bench near a minute.
const loopRuns = Number(values["loop-runs"]);
const runtime = "Deno" in globalThis ? `Deno ${(globalThis as unknown as { Deno: { version: { deno: string } } }).Deno.version.deno}` : `Bun ${process.versions["bun"]}`;

const percentile = (values: readonly number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};
const ms = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const timeMs = (f: () => unknown): number => {
  const started = performance.now();
  f();
  return performance.now() - started;
};

/** CPU seconds of this process and of its children it has waited for (/proc/self/stat utime+stime, cutime+cstime). */
function cpuSelfAndChildren(): { self: number; children: number } {
  const stat = readFileSync("/proc/self/stat", "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ").map(Number);
  return { self: (f[11]! + f[12]!) / 100, children: (f[13]! + f[14]!) / 100 };
}

configureLogger({ level: "silent" });
const dir = mkdtempSync(join(tmpdir(), "hcol-bench-"));
const file = (name: string, text: string, mode?: number): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  if (mode !== undefined) chmodSync(path, mode);
  return path;
};
const frrJsonPath = file("summary.json", frrSummaryJson(peers));
const frrTextPath = file("summary.txt", bgpSummaryText(peers));
const sasTextPath = file("list-sas.txt", swanctlListSasText(tunnels));
const connsPath = file("conns.txt", expectedTunnelsText(tunnels));
// Stand-ins for the CLIs: a fork of sh + cat each, cheaper than the real vtysh/swanctl (a lower bound for both sides).
const vtysh = file("vtysh", `#!/bin/sh\ncase "$*" in *json*) exec cat '${frrJsonPath}';; *) exec cat '${frrTextPath}';; esac\n`, 0o755);
const swanctl = file("swanctl", `#!/bin/sh\nexec cat '${sasTextPath}'\n`, 0o755);

const conns = listConnEvents(tunnels);
const sas = listSaEvents(tunnels);
const eventPackets = (event: string, messages: ViciSection[]) => messages.map((message) => encodePacket({ type: PACKET.EVENT, name: event, message }));
const connPackets = eventPackets("list-conn", conns);
const saPackets = eventPackets("list-sa", sas);
const streams: Record<string, Uint8Array> = { "list-conns": concatBytes(connPackets), "list-sas": concatBytes(saPackets) };
const frrJson = readFileSync(frrJsonPath, "utf8");

const charon = new FakeCharon();
charon.reply = (packet, client) => {
  if (packet.type === PACKET.CMD_REQUEST && streams[packet.name]) {
    client.sendRaw(streams[packet.name]!);
    client.send({ type: PACKET.CMD_RESPONSE, message: {} });
  } else defaultReply(packet, client);
};

let collectors: ReturnType<typeof startCollectors> | undefined;
try {
  await charon.listen();
  say(`collectors benchmark — ${runtime}, ${tunnels} tunnels (${sas.length} up), ${peers} BGP peers, compat names on`);
  say(`VICI bytes per collection: list-conns ${streams["list-conns"]!.length}, list-sas ${streams["list-sas"]!.length}; vtysh JSON ${frrJson.length}`);

  // 1. Decode: the pure part of one collection, in process.
  const payloads = (packets: Uint8Array[]) => packets.map((p) => p.subarray(4));
  const connPayloads = payloads(connPackets);
  const saPayloads = payloads(saPackets);
  const messages = (ps: Uint8Array[]) => ps.map((p) => (decodePacket(p) as { message: ViciSection }).message);
  const vici = () => strongswanSamples(parseConns(messages(connPayloads)), parseSas(messages(saPayloads)), emptyCounterState());
  const frr = () => frrSamples(parseBgpSummary(JSON.parse(frrJson)));
  for (let i = 0; i < 50; i++) (vici(), frr());
  const viciMs = Array.from({ length: 300 }, () => timeMs(vici));
  const frrMs = Array.from({ length: 300 }, () => timeMs(frr));
  say();
  say("| what | p50 | p99 |");
  say("|---|---:|---:|");
  say(`| decode: VICI frames → parse → ${vici().samples.length} samples | ${ms(percentile(viciMs, 50))} ms | ${ms(percentile(viciMs, 99))} ms |`);
  say(`| decode: vtysh JSON → parse → ${frr().length} samples | ${ms(percentile(frrMs, 50))} ms | ${ms(percentile(frrMs, 99))} ms |`);

  // 2. Collection and scrape through the engine.
  const rssBefore = rssMiB(process.pid);
  const registry = new Registry();
  collectors = startCollectors(
    {
      collectors: {
        compatNames: true,
        strongswan: { socketPath: charon.path, intervalMs: 3_600_000, timeoutMs: 5000 },
        frr: { vtyshPath: vtysh, intervalMs: 3_600_000, timeoutMs: 5000 },
      },
    },
    registry,
  );
  const collectMs: number[] = [];
  for (let i = 0; i < 30; i++) {
    const started = performance.now();
    const statuses = await collectors.runNow();
    collectMs.push(performance.now() - started);
    const failed = statuses.find((s) => !s.success);
    if (failed) throw new Error(`${failed.name} failed: ${failed.lastError}`);
  }
  const perCollector = collectors.status().map((s) => `${s.name} ${ms(s.lastDurationMs ?? NaN)} ms, ${s.series} series`).join("; ");
  const text = await registry.metrics();
  const scrapeMs: number[] = [];
  for (let i = 0; i < 300; i++) {
    const started = performance.now();
    await registry.metrics();
    scrapeMs.push(performance.now() - started);
  }
  say(`| collection (engine runNow: VICI round trips + fork vtysh, both collectors in parallel) | ${ms(percentile(collectMs.slice(5), 50))} ms | ${ms(percentile(collectMs.slice(5), 99))} ms |`);
  say(`| scrape: render /metrics (${text.split("\n").filter((l) => l && !l.startsWith("#")).length} samples, ${(text.length / 1024).toFixed(0)} KiB) | ${ms(percentile(scrapeMs, 50))} ms | ${ms(percentile(scrapeMs, 99))} ms |`);
  say(`last durations: ${perCollector}`);
  await collectors.stop();
  collectors = undefined;

  // 3. The engine on its own timer over a window: CPU and RSS.
  const windowRegistry = new Registry();
  const cpu0 = cpuSelfAndChildren();
  const started = performance.now();
  collectors = startCollectors(
    {
      collectors: {
        compatNames: true,
        strongswan: { socketPath: charon.path, intervalMs, timeoutMs: Math.min(5000, intervalMs) },
        frr: { vtyshPath: vtysh, intervalMs, timeoutMs: Math.min(5000, intervalMs) },
      },
    },
    windowRegistry,
  );
  let scrapes = 0;
  while (performance.now() - started < windowMs) {
    await new Promise((resolve) => setTimeout(resolve, 5000));
    await windowRegistry.metrics(); // a Prometheus scrape every 5 s
    scrapes++;
  }
  const elapsedS = (performance.now() - started) / 1000;
  const cpu1 = cpuSelfAndChildren();
  const runs = collectors.status().map((s) => s.runs);
  const collections = Math.min(...runs);
  await collectors.stop();
  collectors = undefined;
  const selfS = cpu1.self - cpu0.self;
  const childS = cpu1.children - cpu0.children;
  const perCollectionMs = ((selfS + childS) * 1000) / collections;
  say();
  say(`window: ${elapsedS.toFixed(1)} s at interval ${values.interval}, ${collections} collections (runs per collector: ${runs.join(", ")}), ${scrapes} scrapes`);
  say(`  CPU: vpnham ${selfS.toFixed(2)} s + forked vtysh ${childS.toFixed(2)} s = ${ms(perCollectionMs)} ms per collection (both collectors, the scrapes and the scripted charon included)`);
  say(`  the whole process over the window: ${(((selfS + childS) / elapsedS) * 100).toFixed(2)} % of one core (idle runtime and scrapes included)`);
  say(`  scaled to one collection every 15 s: ${((perCollectionMs * 4) / 1000).toFixed(3)} s CPU a minute, ${((perCollectionMs / 15_000) * 100).toFixed(3)} % of one core`);
  say(`  RSS: ${rssBefore.toFixed(1)} MiB before the engine, ${rssMiB(process.pid).toFixed(1)} MiB after the window`);

  // 4. The cron approach: fork + parse text into a textfile.
  say();
  say(`cron approach: bench/cron-textfile.sh, loop ${loopRuns} / onepass ${cronRuns} runs (wall, user+sys CPU incl. children, max RSS of one process)`);
  say("| script | wall p50 | wall max | CPU per run (mean; /usr/bin/time counts 10 ms ticks) | max RSS |");
  say("|---|---:|---:|---:|---:|");
  const script = new URL("./cron-textfile.sh", (import.meta as unknown as { url: string }).url).pathname;
  for (const mode of ["loop", "onepass"]) {
    const out = join(dir, `vpn-${mode}.prom`);
    const wall: number[] = [];
    const cpu: number[] = [];
    const rss: number[] = [];
    for (let i = 0; i < (mode === "loop" ? loopRuns : cronRuns); i++) {
      const r = spawnSync("/usr/bin/time", ["-f", "%e %U %S %M", "bash", script, mode], {
        env: { ...process.env, SWANCTL: swanctl, VTYSH: vtysh, CONNS: connsPath, OUT: out },
        encoding: "utf8",
      });
      if (r.status !== 0) throw new Error(`cron-textfile.sh ${mode}: ${r.stderr}`);
      const [e, u, s, m] = r.stderr.trim().split("\n").at(-1)!.split(" ").map(Number);
      wall.push(e! * 1000);
      cpu.push((u! + s!) * 1000);
      rss.push(m! / 1024);
    }
    const lines = readFileSync(out, "utf8").trim().split("\n").length;
    say(`| ${mode} (${lines} samples) | ${ms(percentile(wall, 50))} ms | ${ms(Math.max(...wall))} ms | ${ms(cpu.reduce((a, b) => a + b, 0) / cpu.length)} ms | ${Math.max(...rss).toFixed(1)} MiB |`);
  }
} finally {
  await collectors?.stop();
  await charon.dispose();
  rmSync(dir, { recursive: true, force: true });
}
