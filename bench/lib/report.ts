/** The failover benchmark's tables (markdown, for docs/performance.md §Failover). */
import os from "node:os";
import { HOST_IDS, type HostId } from "../../test/e2e/netns.ts";
import { formatMs, parseIntervalMs, summarize } from "./stats.ts";

// process.stdout/stderr rather than console: `deno check` with this tsconfig's libs has no console.
const say = (line = ""): void => void process.stdout.write(`${line}\n`);

/** One row of results: latencies in ms. */
export interface Measured {
  detect: number[];
  hook: number[];
  /** Trials whose hooks were not exactly the expected ones. */
  unexpected: number;
  /** Trials thrown away: the failover began before the fault (a false positive). */
  spurious: number;
}

export type Usage = { perHost: Record<HostId, { cpuPct: number; rss: number }>; probes: number; failed: number; late: number; bridgeHooks: number; interfaceHooks: number };

export type Row = { interval: string; what: string; boundMs: number; m: Measured };

interface RunInfo {
  trials: number;
  thresholdDown: number;
  partnerThresholdDown: number;
  runtime: string;
  maxFaultWindowMs: number;
}

export function printTables(info: RunInfo, rows: Row[], usage: { interval: string; r: Usage; load: string }[]): void {
  const { trials, partnerThresholdDown, runtime, maxFaultWindowMs } = info;
  const THRESHOLD_DOWN = info.thresholdDown; // the names the table text uses
  say(`\nfailover, ${trials} trial(s) per row, threshold_down ${THRESHOLD_DOWN}, partner_status_threshold_down ${partnerThresholdDown} (+1 standby), runtime ${runtime}`);
  say("detect = fault → transition log line; hook = fault → start of the hook's shell. ratio = latency / (threshold × interval).");
  say(`A cut's time is the middle of the \`date\` stamps around \`ip link set\` (widest window ${maxFaultWindowMs.toFixed(1)} ms); a kill's is Date.now() just before it.\n`);
  say("| probe_interval | fault → event | n | min | median | max | median ratio | max ratio | detect median | bound | all within |");
  say("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|:---:|");
  for (const { interval, what, boundMs, m } of rows) {
    const hook = summarize(m.hook);
    const detect = summarize(m.detect);
    const base = parseIntervalMs(interval) * (what.startsWith("kill") ? partnerThresholdDown + 1 : THRESHOLD_DOWN);
    if (!hook) {
      say(`| ${interval} | ${what} | 0 | – | – | – | – | – | – | ${formatMs(boundMs)} | no data |`);
      continue;
    }
    // Bound: threshold × interval + 10 ms for detection; the hook's own start comes on top.
    const within = m.detect.length === m.hook.length && m.detect.every((d) => d <= boundMs) ? "yes" : "NO";
    const notes = [
      ...(m.unexpected ? [`${m.unexpected} with extra transitions`] : []),
      ...(m.spurious ? [`${m.spurious} spurious failover(s) before the fault, excluded`] : []),
    ];
    const flaps = notes.length ? ` (${notes.join("; ")})` : "";
    say(
      `| ${interval} | ${what} | ${hook.n} | ${formatMs(hook.min)} | ${formatMs(hook.median)} | ${formatMs(hook.max)} | ` +
        `${(hook.median / base).toFixed(2)} | ${(hook.max / base).toFixed(2)} | ${detect ? formatMs(detect.median) : "–"} | ${formatMs(boundMs)} | ${within}${flaps} |`,
    );
  }
  say(`\nA quiet window per interval, every link up (${os.cpus().length} CPUs; load average after the phase's trials): CPU % of one core and RSS per daemon; probes failed or late and hooks run, all hosts (false positives):\n`);
  say(`| probe_interval | ${HOST_IDS.map((h) => `${h} CPU % / RSS MiB`).join(" | ")} | probes sent / failed / late | hooks bridge / interface | load average |`);
  say(`|---|${HOST_IDS.map(() => "---:").join("|")}|---:|---:|---:|`);
  for (const { interval, r, load } of usage) {
    say(
      `| ${interval} | ${HOST_IDS.map((h) => `${r.perHost[h].cpuPct.toFixed(1)} / ${r.perHost[h].rss.toFixed(0)}`).join(" | ")} | ${r.probes} / ${r.failed} / ${r.late} | ${r.bridgeHooks} / ${r.interfaceHooks} | ${load} |`,
    );
  }
}

