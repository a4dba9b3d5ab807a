/**
 * BGP announce benchmark (docs/announce.md), as root with FRR: two FRR instances in namespaces
 * (test/announce/frr-netns.ts), `vpnham serve` driving A.
 *
 *   bun bench/announce.ts [--trials 3] [--services 100] [--cpu-seconds 20]
 *
 * 1. Withdraw time: one service, an exec check at interval 1s × threshold_down 3; the health
 *    file is removed at a random phase of the check's ticker, and the time until both its /32
 *    and /128 are gone from the peer B's RIB is measured (B polled every 20 ms). vip_watchdog
 *    from cron takes up to a minute plus its run.
 * 2. CPU: N services (one /32 each, a tcp check at 1s against a loopback listener), all
 *    announced; the daemon's CPU over `--cpu-seconds` of steady state.
 */
import { rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { waitFor } from "../src/util/wait.ts";
import { spawnDaemon, type ChildDaemon } from "../test/robustness/child.ts";
import { NS_A, frrUnavailable, startFrrPair, type FrrPair } from "../test/announce/frr-netns.ts";
import { cpuSeconds, formatMs, rssMiB, summarize } from "./lib/stats.ts";

const say = (line = ""): void => void process.stdout.write(`${line}\n`);
const note = (line: string): void => void process.stderr.write(`${line}\n`);
function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const trials = Number(arg("trials", "3"));
const services = Number(arg("services", "100"));
const cpuWindowMs = Number(arg("cpu-seconds", "20")) * 1000;

async function withdrawTimes(frr: FrrPair): Promise<number[]> {
  const healthy = join(frr.dir, "healthy");
  const config = join(frr.dir, "withdraw.yaml");
  writeFileSync(
    config,
    `checks:
  web: { kind: exec, command: [test, -e, ${healthy}], interval: 1s, timeout: 500ms, threshold_down: 3, threshold_up: 2 }
announce:
  frr: { namespace: ${NS_A} }
  state_file: ${join(frr.dir, "withdraw-state.json")}
  damping: { hold_down: 0s }
  services:
    web: { prefixes: [192.0.2.10/32, "2001:db8::10/128"], checks: [web] }
metrics: { listen_addr: 127.84.16.3:18000 }
control: { socket_path: ${join(frr.dir, "withdraw.sock")} }
`,
  );
  writeFileSync(healthy, "");
  const daemon = spawnDaemon(config);
  const present = async () => (await frr.ribB(4)).has("192.0.2.10/32") || (await frr.ribB(6)).has("2001:db8::10/128");
  const times: number[] = [];
  try {
    for (let trial = 1; trial <= trials; trial++) {
      await waitFor(present, { timeoutMs: 30_000, intervalMs: 100, what: "the prefixes announced" });
      await sleep(2_500 + Math.random() * 1000); // past min_interval, at a random phase of the 1 s ticker
      const startMs = performance.now();
      rmSync(healthy);
      await waitFor(async () => !(await present()), { timeoutMs: 30_000, intervalMs: 20, what: "the prefixes gone from B" });
      times.push(performance.now() - startMs);
      note(`trial ${trial}: ${formatMs(times.at(-1)!)}`);
      writeFileSync(healthy, "");
    }
  } finally {
    await daemon.stop();
  }
  return times;
}

async function cpuOfServices(frr: FrrPair): Promise<{ cpuPercent: number; rss: number }> {
  const server = createServer((s) => s.destroy());
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  const config = join(frr.dir, "cpu.yaml");
  const prefix = (i: number) => `10.${100 + Math.floor(i / 250)}.${i % 250}.1/32`;
  const checks = Array.from({ length: services }, (_, i) => `  s${i}: { kind: tcp, address: "127.0.0.1:${port}", interval: 1s, timeout: 500ms }\n`).join("");
  const list = Array.from({ length: services }, (_, i) => `    s${i}: { prefixes: [${prefix(i)}], checks: [s${i}] }\n`).join("");
  writeFileSync(
    config,
    `checks:\n${checks}announce:\n  frr: { namespace: ${NS_A} }\n  state_file: ${join(frr.dir, "cpu-state.json")}\n  services:\n${list}metrics: { listen_addr: 127.84.16.3:18001 }\ncontrol: { socket_path: ${join(frr.dir, "cpu.sock")} }\n`,
  );
  let daemon: ChildDaemon | undefined;
  try {
    daemon = spawnDaemon(config);
    await waitFor(async () => (await frr.ribB(4)).size >= services, { timeoutMs: 60_000, intervalMs: 200, what: `${services} prefixes at B` });
    await sleep(2_000);
    const before = cpuSeconds(daemon.pid);
    await sleep(cpuWindowMs);
    const cpuPercent = ((cpuSeconds(daemon.pid) - before) / (cpuWindowMs / 1000)) * 100;
    return { cpuPercent, rss: rssMiB(daemon.pid) };
  } finally {
    await daemon?.stop();
    server.close();
  }
}

const why = frrUnavailable();
if (why) {
  note(`skipped: ${why}`);
  process.exit(0);
}
const frr = await startFrrPair([]);
try {
  const times = await withdrawTimes(frr);
  const s = summarize(times)!;
  say(`| health failure → gone from the peer's RIB (1 s × 3, ${s.n} trials) | ${formatMs(s.min)} | ${formatMs(s.median)} | ${formatMs(s.max)} |`);
  const cpu = await cpuOfServices(frr);
  say(`| ${services} services, checks at 1 s, all announced | CPU ${cpu.cpuPercent.toFixed(1)} % of a core | RSS ${cpu.rss.toFixed(0)} MiB |`);
} finally {
  frr.teardown();
}
