/**
 * Failover benchmark on the four-namespace topology of the e2e suite
 * (docs/operations.md §The reference topology; needs root and iproute2):
 *
 *   bun bench/failover.ts [--trials 3] [--intervals 1s,100ms,20ms,10ms]
 *                         [--partner-threshold-down 3] [--partner-timeout ms (default interval/2)]
 *                         [--runtime binary|deno]
 *                         [--quiet-seconds 10] [--verbose] (each trial) [--keep] (keep logs)
 *
 * Per probe_interval (threshold_down 3, threshold_up 2), the example configs'
 * hosts run the compiled binary (or Deno) and N trials of each:
 *  - cut: `ip link set eth1 down` on left-active (wg00, the active↔active
 *    tunnel) → the start of `interface_activate eth2` on each end (hook
 *    timestamps) and the transition log line (detection);
 *  - kill: SIGKILL of left-active → `bridge_activate` on left-standby.
 * Times start at the fault (middle of `date` stamps around `ip`, Date.now() before kill);
 * each fault lands at a random phase of the probe ticker.
 * Prints min/median/max, their ratio to threshold × interval, whether every
 * trial met the bound, and CPU and RSS per daemon while idle-probing.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { waitFor } from "../src/util/wait.ts";
import { ensureBinary, REPO, World, type Runtime } from "../test/e2e/harness.ts";
import { hookMark, hooksSince, STEADY, waitHosts, type Mark } from "../test/e2e/expect.ts";
import { metricSum } from "../test/e2e/metrics-text.ts";
import { HOST_FILES, HOST_IDS, netnsUnavailable, type HostId } from "../test/e2e/netns.ts";
import { printTables, type Measured, type Row, type Usage } from "./lib/report.ts";
import { cpuSeconds, formatMs, parseIntervalMs, rssMiB, summarize } from "./lib/stats.ts";

// process.stdout/stderr rather than console: `deno check` with this tsconfig's libs has no console.
const say = (line = ""): void => void process.stdout.write(`${line}\n`);
const note = (line: string): void => void process.stderr.write(`${line}\n`);

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

const trials = Number(arg("trials", "3"));
const intervals = arg("intervals", "1s,100ms,20ms,10ms").split(",");
const partnerThresholdDown = Number(arg("partner-threshold-down", "3"));
const runtime = arg("runtime", "binary") as Runtime;
const verbose = process.argv.includes("--verbose");
const keep = process.argv.includes("--keep");
const quietMs = Number(arg("quiet-seconds", "10")) * 1000;
/** partner_status_timeout: --partner-timeout (ms), else half the interval, at most 500 ms. */
const partnerTimeoutMs = (intervalMs: number): number => Number(arg("partner-timeout", String(Math.min(500, intervalMs / 2))));
const THRESHOLD_DOWN = 3;

const fresh = (): Measured => ({ detect: [], hook: [], unexpected: 0, spurious: 0 });

function logTimeMs(w: World, h: HostId, from: number, msg: string): number | undefined {
  const record = w.logs(h).slice(from).find((r) => typeof r.msg === "string" && r.msg.startsWith(msg));
  return record ? Date.parse(String(record.time)) : undefined;
}

/** A daemon that exits when the trial did not kill it makes the run invalid: stop at once and say so. */
function assertAlive(w: World, except?: HostId): void {
  for (const h of HOST_IDS) {
    if (h !== except && !w.running(h)) throw new Error(`${h} exited unexpectedly: ${JSON.stringify(w.exitOf(h))}\n${w.logTail(h, 10)}`);
  }
}

async function waitHookLine(w: World, mark: Mark, h: HostId, event: string, tunnel: string | null, timeoutMs: number, killed?: HostId): Promise<number> {
  let t: number | undefined;
  await waitFor(
    () => {
      assertAlive(w, killed);
      const line = hooksSince(w, mark, h).find((l) => l.event === event && (tunnel === null || l.args[2] === tunnel));
      t = line?.t;
      return t !== undefined;
    },
    { timeoutMs, intervalMs: 2, what: `${h} ${event} ${tunnel ?? ""}` },
  );
  return t! * 1000;
}

function writeConfigs(w: World, intervalMs: number): void {
  for (const h of HOST_IDS) {
    const original = join(REPO, "examples/topology", `${HOST_FILES[h]}.yaml`);
    const config = parse(readFileSync(original, "utf8")) as { bridges: Record<string, Record<string, unknown>> };
    for (const bridge of Object.values(config.bridges)) {
      bridge.probe_interval = `${intervalMs}ms`;
      bridge.partner_status_timeout = `${partnerTimeoutMs(intervalMs)}ms`;
      bridge.partner_status_threshold_down = partnerThresholdDown;
      for (const t of Object.values(bridge.tunnel_interfaces as Record<string, Record<string, unknown>>)) {
        t.threshold_down = THRESHOLD_DOWN;
        t.threshold_up = 2;
      }
    }
    const path = join(w.runDir, `${h}.${intervalMs}ms.yaml`);
    writeFileSync(path, stringify(config));
    w.configs[h] = path;
  }
}

/** Widest window between the stamps around an `ip` fault: the uncertainty of the fault's time. */
let maxFaultWindowMs = 0;

/** The fault happened between the stamps: take the middle, remember the window. */
function faultTime(stamps: { before: number; after: number }): number {
  maxFaultWindowMs = Math.max(maxFaultWindowMs, (stamps.after - stamps.before) * 1000);
  return ((stamps.before + stamps.after) / 2) * 1000;
}

/** Faults land at a random phase of the probe ticker, not locked to the previous trial's reclaim. */
const randomPhase = (intervalMs: number): Promise<void> => new Promise((r) => setTimeout(r, Math.random() * intervalMs));

/**
 * One cut of wg00 at left-active. Returns false (recording nothing) when a
 * failover started before the fault: a spurious one (late replies under load),
 * which the caller counts and replaces with another trial.
 */
async function cutTrial(w: World, intervalMs: number, out: Record<"la" | "ra", Measured>, reclaim: Measured): Promise<boolean> {
  await randomPhase(intervalMs);
  const mark = hookMark(w);
  const logs = { la: w.logs("la").length, ra: w.logs("ra").length };
  const stamps = await w.topo.ipTimed("la", "link", "set", "eth1", "down");
  const cutMs = faultTime(stamps);
  const deadline = 10 * intervalMs + 5_000;
  const results: { h: "la" | "ra"; hookMs: number; detectMs: number | undefined; expected: boolean }[] = [];
  for (const h of ["la", "ra"] as const) {
    const hookMs = await waitHookLine(w, mark, h, "interface_activate", "eth2", deadline);
    const detectMs = logTimeMs(w, h, logs[h], "tunnel eth2 → active");
    const events = hooksSince(w, mark, h).map((l) => `${l.event} ${l.args[2]}`);
    results.push({ h, hookMs, detectMs, expected: events.join(",") === "interface_deactivate eth1,interface_activate eth2" });
  }
  const spurious = ["la", "ra"].some((h) => hooksSince(w, mark, h as HostId).some((l) => l.t < stamps.before));
  for (const { h, hookMs, detectMs, expected } of results) {
    if (verbose) note(`cut ${intervalMs}ms ${h}: detect ${detectMs === undefined ? "?" : (detectMs - cutMs).toFixed(1)} ms, hook ${(hookMs - cutMs).toFixed(1)} ms${spurious ? " (spurious: a failover began before the cut)" : ""}`);
    if (spurious) continue;
    out[h].hook.push(hookMs - cutMs);
    if (detectMs !== undefined) out[h].detect.push(detectMs - cutMs);
    if (!expected) out[h].unexpected++;
  }
  // Reclaim (not part of the bound): link up → interface_activate eth1 on the cut end.
  const back = hookMark(w);
  const upMs = faultTime(await w.topo.ipTimed("la", "link", "set", "eth1", "up"));
  const reclaimMs = (await waitHookLine(w, back, "la", "interface_activate", "eth1", 20 * intervalMs + 10_000)) - upMs;
  if (!spurious) reclaim.hook.push(reclaimMs);
  await waitHosts(w, "reclaim after the cut", STEADY, 20 * intervalMs + 10_000);
  return !spurious;
}

/** SIGKILL of left-active. Returns false when left-standby had already taken over before the kill. */
async function killTrial(w: World, intervalMs: number, out: Measured): Promise<boolean> {
  await randomPhase(intervalMs);
  const mark = hookMark(w);
  const from = w.logs("ls").length;
  const killMs = Date.now();
  w.signal("la", "SIGKILL");
  const hookMs = await waitHookLine(w, mark, "ls", "bridge_activate", null, 20 * intervalMs + 5_000, "la");
  const detectMs = logTimeMs(w, "ls", from, "bridge → active");
  const spurious = hookMs < killMs;
  if (verbose) note(`kill ${intervalMs}ms: detect ${detectMs === undefined ? "?" : detectMs - killMs} ms, hook ${(hookMs - killMs).toFixed(1)} ms${spurious ? " (spurious)" : ""}`);
  if (!spurious) {
    out.hook.push(hookMs - killMs);
    if (detectMs !== undefined) out.detect.push(detectMs - killMs);
    if (hooksSince(w, mark, "ls").length !== 1) out.unexpected++;
  }
  await w.waitExit("la", 5_000);
  w.start("la");
  await waitHosts(w, "left-active back after the kill", STEADY, 20 * intervalMs + 15_000);
  return !spurious;
}

/** Runs `trial` until `trials` valid ones, at most twice as many attempts; returns the spurious count. */
async function repeat(trial: () => Promise<boolean>): Promise<number> {
  let valid = 0;
  let spurious = 0;
  for (let attempt = 0; valid < trials && attempt < 2 * trials; attempt++) {
    if (await trial()) valid++;
    else spurious++;
  }
  return spurious;
}


/** The 1-minute load average: other work on the machine skews timer-bound figures. */
const loadAverage = (): string => readFileSync("/proc/loadavg", "utf8").split(" ")[0]!;

/** Sum of a counter over all four hosts. */
async function counterSum(w: World, name: string): Promise<number> {
  let sum = 0;
  for (const h of HOST_IDS) sum += metricSum((await w.metrics(h)) ?? [], name);
  return sum;
}

/**
 * A quiet window, no faults: CPU % of one core and RSS per daemon, and the
 * false positives: probes failed or late and role transitions with every link up.
 */
async function resources(w: World, windowMs: number): Promise<Usage> {
  const pids = Object.fromEntries(HOST_IDS.map((h) => [h, w.pid(h)!])) as Record<HostId, number>;
  const cpu0 = Object.fromEntries(HOST_IDS.map((h) => [h, cpuSeconds(pids[h])]));
  const before = { sent: await counterSum(w, "vpnham_probes_sent_total"), failed: await counterSum(w, "vpnham_probes_failed_total"), late: await counterSum(w, "vpnham_probes_late_total") };
  const mark = hookMark(w);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, windowMs));
  const elapsedS = (performance.now() - t0) / 1000;
  const perHost = Object.fromEntries(
    HOST_IDS.map((h) => [h, { cpuPct: ((cpuSeconds(pids[h]) - cpu0[h]!) / elapsedS) * 100, rss: rssMiB(pids[h]) }]),
  ) as Usage["perHost"];
  return {
    perHost,
    probes: (await counterSum(w, "vpnham_probes_sent_total")) - before.sent,
    failed: (await counterSum(w, "vpnham_probes_failed_total")) - before.failed,
    late: (await counterSum(w, "vpnham_probes_late_total")) - before.late,
    bridgeHooks: HOST_IDS.reduce((n, h) => n + hooksSince(w, mark, h).filter((l) => l.event.startsWith("bridge_")).length, 0),
    interfaceHooks: HOST_IDS.reduce((n, h) => n + hooksSince(w, mark, h).filter((l) => l.event.startsWith("interface_")).length, 0),
  };
}

async function main(): Promise<void> {
  const unavailable = netnsUnavailable();
  if (unavailable) {
    note(`bench/failover.ts: ${unavailable}`);
    process.exit(1);
  }
  await ensureBinary();
  const runtimes = Object.fromEntries(HOST_IDS.map((h) => [h, runtime])) as Record<HostId, Runtime>;
  const w = await World.create({ runtimes });
  const rows: Row[] = [];
  const usage: { interval: string; r: Usage; load: string }[] = [];
  const reclaims: { interval: string; m: Measured }[] = [];
  let ok = false;
  try {
    for (const interval of intervals) {
      const intervalMs = parseIntervalMs(interval);
      writeConfigs(w, intervalMs);
      for (const h of HOST_IDS) w.start(h);
      await waitHosts(w, `steady at ${interval}`, STEADY, 30_000 + 20 * intervalMs);
      const r = await resources(w, quietMs);
      const cut = { la: fresh(), ra: fresh() };
      const kill = fresh();
      const reclaim = fresh();
      const spuriousCuts = await repeat(() => cutTrial(w, intervalMs, cut, reclaim));
      const spuriousKills = await repeat(() => killTrial(w, intervalMs, kill));
      cut.la.spurious = cut.ra.spurious = spuriousCuts;
      kill.spurious = spuriousKills;
      usage.push({ interval, r, load: loadAverage() });
      const tunnelBound = THRESHOLD_DOWN * intervalMs + 10;
      const partnerBound = (partnerThresholdDown + 1) * intervalMs + partnerTimeoutMs(intervalMs) + 10;
      rows.push({ interval, what: "cut → interface_activate, cut end (la)", boundMs: tunnelBound, m: cut.la });
      rows.push({ interval, what: "cut → interface_activate, far end (ra)", boundMs: tunnelBound, m: cut.ra });
      rows.push({ interval, what: "kill la → bridge_activate on ls", boundMs: partnerBound, m: kill });
      reclaims.push({ interval, m: reclaim });
      for (const h of HOST_IDS) await w.stop(h);
      note(`done: ${interval}`);
    }
    ok = true;
  } finally {
    await w.close(!ok || keep);
    if (!ok || keep) note(`logs kept in ${w.runDir}`);
  }
  printTables({ trials, thresholdDown: THRESHOLD_DOWN, partnerThresholdDown, runtime, maxFaultWindowMs }, rows, usage);
  say("\n| probe_interval | link up → interface_activate eth1 (la) | min | median | max | threshold_up × interval |");
  say("|---|---:|---:|---:|---:|---:|");
  for (const { interval, m } of reclaims) {
    const s = summarize(m.hook);
    if (s) say(`| ${interval} | n=${s.n} | ${formatMs(s.min)} | ${formatMs(s.median)} | ${formatMs(s.max)} | ${formatMs(2 * parseIntervalMs(interval))} |`);
  }
}

await main();
