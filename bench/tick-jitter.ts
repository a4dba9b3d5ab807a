/**
 * How late the probe timer fires on a busy host (issue 10 item 7): a 100 ms ticker (the
 * probe ticker's own code) for `--seconds`, with `--loops` busy-loop processes at nice 0
 * competing for the cores. Prints lateness percentiles and how many ticks would have
 * counted as a stall (late by more than lateToleranceMs). Run it as `nice -n -10 bun
 * bench/tick-jitter.ts` (as root) to see what the recommended priority changes.
 *
 *   bun bench/tick-jitter.ts [--loops 2] [--seconds 20] [--interval 100]
 */
import { spawn } from "node:child_process";
import { parseArgs } from "node:util";
import { lateToleranceMs, startTicker } from "../src/util/ticker.ts";

const { values } = parseArgs({
  options: { loops: { type: "string", default: "2" }, seconds: { type: "string", default: "20" }, interval: { type: "string", default: "100" } },
});
const intervalMs = Number(values.interval);
const busy = Array.from({ length: Number(values.loops) }, () =>
  spawn("nice", ["-n", "0", process.execPath, "-e", "for(;;){}"], { stdio: "ignore" }),
);
const lateMs: number[] = [];
const ticker = startTicker(intervalMs, (tick) => void lateMs.push(tick.lateMs));
await new Promise((resolve) => setTimeout(resolve, Number(values.seconds) * 1000));
ticker.stop();
for (const b of busy) b.kill("SIGKILL");
lateMs.sort((a, b) => a - b);
const pct = (p: number) => lateMs[Math.min(lateMs.length - 1, Math.floor((p / 100) * lateMs.length))]!.toFixed(2);
const stalls = lateMs.filter((l) => l >= lateToleranceMs(intervalMs)).length;
const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
console.log(
  `${runtime} ${intervalMs} ms ticker, ${values.loops} busy loops: ${lateMs.length} ticks, late p50 ${pct(50)} / p99 ${pct(99)} / max ${pct(100)} ms; ` +
    `${stalls} ticks late by ≥ ${lateToleranceMs(intervalMs)} ms (counted as our stall)`,
);
