/**
 * How much earlier a tunnel tied to its IPsec CHILD_SA goes down
 * (docs/collectors.md §IPsec-aware failover; needs root, strongSwan and iproute2):
 *
 *   bun bench/ipsec-failover.ts [--trials 5] [--intervals 1s,100ms]
 *
 * Two real charons in network namespaces (hc2-ss<pid>-a/-b) with an IKEv2 tunnel; the strongSwan
 * collector reads side a's VICI socket and publishes CHILD_SA states. Two tunnel runtimes (the
 * daemon's own code, threshold_down 3, threshold_up 2) probe one responder on loopback: one tied
 * to gw-a/net, one not. Each trial, at a random phase of the probe timer, the responder stops
 * (the probe path dies with the SA, as on a VTI) and `swanctl --terminate` starts at the same
 * moment; printed: fault → "down" verdict of each tunnel, min/median/max. The verdict is where
 * failover starts (the roles step and hooks follow in the same turn; docs/performance.md §Failover).
 */
import { parseArgs } from "node:util";
import { Registry } from "prom-client";
import { CollectorStates } from "../src/collectors/tie-state.ts";
import { startCollectors } from "../src/collectors/index.ts";
import { TunnelRuntime } from "../src/bridge/tunnel.ts";
import type { TunnelConfig } from "../src/config/index.ts";
import { createMetrics } from "../src/metrics/registry.ts";
import type { TunnelVerdict } from "../src/monitor/tunnel-health.ts";
import { configureLogger } from "../src/util/log.ts";
import { waitFor } from "../src/util/wait.ts";
import { hp, startEcho } from "../test/robustness/udp.ts";
import { charonPath, StrongswanPair } from "../test/collectors/strongswan-pair.ts";
import { formatMs, parseIntervalMs, summarize } from "./lib/stats.ts";

const say = (line = ""): void => void process.stdout.write(`${line}\n`);
const { values } = parseArgs({ options: { trials: { type: "string", default: "5" }, intervals: { type: "string", default: "1s,100ms" } } });
const trials = Number(values.trials);

if (typeof process.getuid !== "function" || process.getuid() !== 0 || !charonPath) {
  say("needs root and strongSwan (strongswan-charon strongswan-swanctl libcharon-extra-plugins)");
  process.exit(2);
}

/** The test's pair, under this helper's namespace names. */
class Pair extends StrongswanPair {
  override readonly ns = { a: `hc2-ss${process.pid}-a`, b: `hc2-ss${process.pid}-b` };
}

configureLogger({ level: "silent" });
const pair = new Pair();
const echoAddr = hp("127.88.43.2", 3003);
let collectors: { stop(): Promise<void> } | undefined;
try {
  await pair.setUp();
  await Promise.all([pair.startCharon("a"), pair.startCharon("b")]);
  const states = new CollectorStates();
  collectors = startCollectors({ collectors: { strongswan: { socketPath: pair.viciPath("a"), intervalMs: 30_000, timeoutMs: 2000 } } }, new Registry(), { collectorStates: states });
  const initiate = async () => {
    await pair.swanctl("a", "--initiate", "--ike", "gw-a", "--child", "net");
    await waitFor(() => states.ipsec({ conn: "gw-a", child: "net" }) === "up", { timeoutMs: 5000, what: "CHILD_SA up" });
  };

  say("| probe_interval | fault → tunnel down | min | median | max |");
  say("|---|---|---:|---:|---:|");
  for (const intervalText of values.intervals.split(",")) {
    const intervalMs = parseIntervalMs(intervalText);
    const down = { tied: [] as number[], probes: [] as number[] };
    for (let trial = 0; trial < trials; trial++) {
      await initiate();
      const echo = await startEcho(echoAddr, "bench/far");
      const verdicts = new Map<string, { verdict: TunnelVerdict; atMs: number }>();
      const tunnel = (name: string, addr: string, tie: boolean): TunnelRuntime => {
        const config: TunnelConfig = { name, role: "active", addr: hp(addr, 3003), probeAddr: echoAddr, thresholdDown: 3, thresholdUp: 2, ...(tie ? { ipsec: { conn: "gw-a", child: "net" } } : {}) };
        return new TunnelRuntime({
          bridgeName: "bench",
          bridgeId: Buffer.alloc(16, trial + 1),
          probeIntervalMs: intervalMs,
          probeLocation: "bench/near",
          config,
          metrics: createMetrics({ latencyBucketsCount: 3, maxLatencyUs: 1_000_000, version: "bench" }),
          collectorStates: states,
          onVerdict: (n, verdict) => verdicts.set(n, { verdict, atMs: performance.now() }),
        });
      };
      const runtimes = [tunnel("tied", "127.88.43.1", true), tunnel("probes", "127.88.43.3", false)];
      for (const r of runtimes) r.start();
      await waitFor(() => runtimes.every((r) => verdicts.get(r.name)?.verdict === "up"), { timeoutMs: 20 * intervalMs + 5000, what: "both up" });
      await new Promise((resolve) => setTimeout(resolve, Math.random() * intervalMs));
      const faultMs = performance.now();
      const closing = echo.close();
      const terminating = pair.swanctl("a", "--terminate", "--ike", "gw-a");
      await waitFor(() => runtimes.every((r) => verdicts.get(r.name)?.verdict === "down"), { timeoutMs: 10 * intervalMs + 5000, what: "both down" });
      await Promise.all([closing, terminating]);
      down.tied.push(verdicts.get("tied")!.atMs - faultMs);
      down.probes.push(verdicts.get("probes")!.atMs - faultMs);
      for (const r of runtimes) await r.stop();
    }
    for (const [what, list] of [
      ["tied to its CHILD_SA (child-updown)", down.tied],
      ["probes alone (threshold_down 3)", down.probes],
    ] as const) {
      const s = summarize(list)!;
      say(`| ${intervalText} | ${what} | ${formatMs(s.min)} | ${formatMs(s.median)} | ${formatMs(s.max)} |`);
    }
    const gain = summarize(down.probes.map((p, i) => p - down.tied[i]!))!;
    say(`| ${intervalText} | earlier by | ${formatMs(gain.min)} | ${formatMs(gain.median)} | ${formatMs(gain.max)} |`);
  }
  say(`(${trials} trials per interval, ${process.versions.bun ? `Bun ${process.versions.bun}` : `Deno`})`);
} finally {
  await collectors?.stop();
  await pair.tearDown();
}
