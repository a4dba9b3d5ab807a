/**
 * Where a reclaim's "1 s mode" comes from (docs/performance.md §Reclaim after a cut). As root:
 * the two namespaces of bench/lib/hperf-net.ts, a vpnham pair with one tunnel at 100 ms × 3/2;
 * each trial takes A's veth down until A's tunnel is down (+ `--down-ms`), brings it back up and
 * measures link up → A's `tunnel up` (its own log time). B keeps probing into the dead link
 * meanwhile, so B's neighbour entry for A's next hop sits INCOMPLETE, and the kernel asks again
 * only every `retrans_time_ms` (1 s by default): `--retrans-ms 100` sets it on both veths.
 *
 *   bun bench/reclaim.ts [--trials 10] [--down-ms 200] [--retrans-ms 1000]
 */
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Vpnham } from "./lib/contenders.ts";
import { createNet, destroyNet, netUnavailable, NS } from "./lib/hperf-net.ts";
import { machineLoad, run, sleep } from "./lib/proc.ts";
import { summarize } from "./lib/stats.ts";

const REPO = resolve(fileURLToPath((import.meta as unknown as { url: string }).url), "..", "..");
function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}
const trials = Number(arg("trials", "10"));
const downMs = Number(arg("down-ms", "200"));
const retransMs = Number(arg("retrans-ms", "1000"));

const until = async (check: () => boolean, timeoutMs: number): Promise<boolean> => {
  const end = Date.now() + timeoutMs;
  while (!check() && Date.now() < end) await sleep(5);
  return check();
};

async function main(): Promise<void> {
  const why = netUnavailable();
  if (why) throw new Error(why);
  const dir = mkdtempSync(join(tmpdir(), "hperf-reclaim-"));
  chmodSync(dir, 0o755);
  await createNet(1);
  for (const side of ["a", "b"] as const) {
    await run("ip", ["netns", "exec", NS[side], "sysctl", "-qw", `net.ipv4.neigh.hperf${side}0.retrans_time_ms=${retransMs}`]);
  }
  const vpnham = new Vpnham("vpnham", join(REPO, "dist", "vpnham"), "ts", dir);
  const times: number[] = [];
  try {
    await vpnham.start(1, 100);
    if (!(await until(() => vpnham.upCount() === 1, 20_000))) throw new Error("the tunnel never came up");
    await sleep(1000);
    for (let t = 0; t < trials; t++) {
      await sleep(Math.random() * 100);
      const before = vpnham.events().length;
      await run("ip", ["-n", NS.a, "link", "set", "hperfa0", "down"]);
      await until(() => vpnham.events().slice(before).some((e) => !e.up), 5000);
      await sleep(downMs);
      const from = vpnham.events().length;
      // The link's down took the route over it along; it comes back with the link.
      const out = await run("sh", ["-c", `date +%s.%N; ip -n ${NS.a} link set hperfa0 up; date +%s.%N; ip -n ${NS.a} route replace 10.217.0.0/16 via 10.215.0.2`]);
      const [b, a] = out.trim().split("\n").map(Number);
      const upAtMs = ((b! + a!) / 2) * 1000;
      await until(() => vpnham.events().slice(from).some((e) => e.up), 10_000);
      const up = vpnham.events().slice(from).find((e) => e.up);
      if (up) times.push(up.tMs - upAtMs);
      process.stderr.write(`trial ${t + 1}: ${up ? `${(up.tMs - upAtMs).toFixed(0)} ms` : "never"}\n`);
      await sleep(1500);
    }
  } finally {
    await vpnham.stop();
    destroyNet();
    rmSync(dir, { recursive: true, force: true });
  }
  const s = summarize(times);
  process.stdout.write(
    `link up → tunnel up at A, 100 ms × threshold_up 2, retrans_time_ms ${retransMs}, ${new Date().toISOString()}, ${machineLoad()}: ` +
      `${s ? `min ${s.min.toFixed(0)}, median ${s.median.toFixed(0)}, max ${s.max.toFixed(0)} ms; ${times.filter((x) => x > 400).length} of ${times.length} over 400 ms` : "no data"}\n` +
      `all: ${times.map((x) => x.toFixed(0)).join(", ")}\n`,
  );
}

await main();
