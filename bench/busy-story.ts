/**
 * Issue 10 item 7: the demo story (four hosts at 100 ms × 3, threshold_up 2, in one
 * process with the test) run N times while busy loops keep the cores loaded, under
 * Bun and Deno. Prints failures per runtime; with `--nice` the test process runs at
 * nice -10 (what docs/hardening.md §Busy CPUs and late timers recommends for the daemon).
 *
 *   bun bench/busy-story.ts [--runs 10] [--loops 2] [--nice] [--runtime bun|deno|both]
 */
import { spawn, spawnSync } from "node:child_process";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "10" },
    loops: { type: "string", default: "2" },
    nice: { type: "boolean", default: false },
    runtime: { type: "string", default: "both" },
  },
});
const runs = Number(values.runs);
const loops = Number(values.loops);
const runtimes = values.runtime === "both" ? ["bun", "deno"] : [values.runtime!];

const busy = Array.from({ length: loops }, () => spawn(process.execPath, ["-e", "for(;;){}"], { stdio: "ignore" }));
const argvFor = (runtime: string): string[] =>
  runtime === "bun"
    ? ["./node_modules/.bin/bun", "test", "--timeout", "120000", "test/demo/story.test.ts"]
    : ["./node_modules/.bin/deno", "test", "-A", "--no-check", "test/demo/story.test.ts"];
try {
  for (const runtime of runtimes) {
    let failed = 0;
    const firstFailures: string[] = [];
    const started = performance.now();
    for (let i = 0; i < runs; i++) {
      const argv = argvFor(runtime);
      const [cmd, args] = values.nice ? ["nice", ["-n", "-10", ...argv]] : [argv[0]!, argv.slice(1)];
      const r = spawnSync(cmd, args, { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" }, timeout: 120_000 });
      if (r.status !== 0) {
        failed++;
        const output = `${r.stdout}${r.stderr}`;
        const at = output.search(/AssertionError|Error:|timed out/);
        if (firstFailures.length < 3) firstFailures.push(at < 0 ? `exit ${r.status}` : output.slice(at, at + 400));
      }
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(0);
    console.log(`${runtime}: ${failed} of ${runs} story runs failed with ${loops} busy loops${values.nice ? ", test at nice -10" : ""} (${seconds} s)`);
    for (const f of firstFailures) console.log(`  ${f}`);
  }
} finally {
  for (const b of busy) b.kill("SIGKILL");
}
