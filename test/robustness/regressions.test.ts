// Regression tests for bugs verified in the Go vpnham v0.0.18, each on a live
// bridge (unit-level ones live beside their modules: grep "regression").
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { parseConfig } from "../../src/config/index.ts";
import { startDaemon, type Daemon } from "../../src/daemon/daemon.ts";
import { WINDOW_SLACK } from "../../src/monitor/tunnel-health.ts";
import { parseGoTime } from "../../src/partner/status-body.ts";
import { isRequest } from "../../src/probe/wire.ts";
import { bridgeConfig, bridgeYaml, hp, metricSum, peek, startEcho, startRelay, tempDir, tunnelsVia, waitFor } from "./support.ts";

type Relay = Awaited<ReturnType<typeof startRelay>>;

describe("a live bridge with every hook writing to a file", () => {
  const dir = tempDir("regress");
  const log = join(dir.path, "hooks.log");
  const bridge = "robust-regress";
  let daemon: Daemon;
  let links: Awaited<ReturnType<typeof tunnelsVia>>;
  let startedMs = 0;
  const firstStatus: { up: boolean; up_since: string; contentType: string }[] = [];
  const lines = (): string[] => (existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : []);
  const state = () => daemon.bridges().get(bridge)!.state;
  const getStatus = async () => {
    const res = await fetch("http://127.88.8.1:8080/status", { signal: AbortSignal.timeout(2000) });
    return { contentType: res.headers.get("content-type") ?? "", body: (await res.json()) as Record<string, unknown> };
  };

  before(async () => {
    links = await tunnelsVia(8, 2);
    links.relays[0]!.cut();
    links.relays[1]!.cut(); // nothing up at first: up_since must still be a real time
    const hook = (name: string) => [["sh", "-c", `echo "${name} \${tunnel_interface} v4=[\${bridge_peer_cidrs_ipv4}] v6=[\${bridge_peer_cidrs_ipv6}]" >> ${log}`]];
    const bridgeHook = (name: string) => [["sh", "-c", `echo "${name} v4=[\${bridge_peer_cidrs_ipv4}] v6=[\${bridge_peer_cidrs_ipv6}]" >> ${log}`]];
    startedMs = Date.now();
    daemon = await startDaemon(
      bridgeConfig(
        {
          name: bridge,
          role: "active",
          statusAddr: "127.88.8.1:8080",
          partnerUrl: "http://127.88.8.1:1/",
          probeInterval: "50ms", // 20 ms × 3 flapped once on a loaded CI box (a 60 ms hiccup reads as dead)
          peerCidr: "10.1.0.0/16",
          extraPeerCidrs: ["fd00:1::/64", "10.2.0.0/16", "2001:db8::/48"],
          tunnels: links.specs.map((t) => ({ ...t, thresholdDown: 3, thresholdUp: 2 })),
          hooks: {
            bridge_activate: bridgeHook("bridge_activate"),
            bridge_deactivate: bridgeHook("bridge_deactivate"),
            interface_activate: hook("interface_activate"),
            interface_deactivate: hook("interface_deactivate"),
          },
        },
        "127.88.8.1:8000",
      ),
    );
    const s = await getStatus();
    firstStatus.push({ up: s.body.up as boolean, up_since: s.body.up_since as string, contentType: s.contentType });
    links.relays[0]!.restore();
    links.relays[1]!.restore();
    await waitFor(() => state().bridgeActive && state().activeTunnel === "t0" && state().tunnels.every((t) => t.up), {
      timeoutMs: 5000,
      what: "bridge active on t0",
    });
    await daemon.bridges().get(bridge)!.hooksIdle();
  });

  after(async () => {
    await daemon?.stop();
    await links?.close();
    dir.remove();
  });

  test("regression (Go): /status is served as application/json", async () => {
    assert.match(firstStatus[0]!.contentType, /^application\/json\b/);
    assert.match((await getStatus()).contentType, /^application\/json\b/);
  });

  test("regression (Go): the bridge's up_since is set, at start and when it comes up", async () => {
    const zero = "0001-01-01T00:00:00Z";
    const first = firstStatus[0]!;
    assert.equal(first.up, false);
    assert.notEqual(first.up_since, zero, "set at start");
    assert.ok(Math.abs(parseGoTime(first.up_since)! - startedMs) < 2000, `${first.up_since} is the start time`);
    const now = (await getStatus()).body;
    assert.equal(now.up, true);
    assert.notEqual(now.up_since, zero);
    assert.ok(parseGoTime(now.up_since as string)! > parseGoTime(first.up_since)!, "moved when the bridge came up");
  });

  test("regression (Go): interface_deactivate runs its own script (not bridge_activate's)", async () => {
    await waitFor(() => state().activeTunnel === "t0" && state().tunnels.every((t) => t.up), { timeoutMs: 3000, what: "steady on t0" });
    await daemon.bridges().get(bridge)!.hooksIdle();
    const before = lines().length;
    links.relays[0]!.cut();
    await waitFor(() => state().activeTunnel === "t1", { timeoutMs: 3000, what: "failover to t1" });
    await daemon.bridges().get(bridge)!.hooksIdle();
    const added = lines().slice(before).map((l) => l.split(" ").slice(0, 2).join(" "));
    assert.deepEqual(added, ["interface_deactivate t0", "interface_activate t1"]);
    links.relays[0]!.restore();
    await waitFor(() => state().activeTunnel === "t0", { timeoutMs: 3000, what: "t0 back" });
    await daemon.bridges().get(bridge)!.hooksIdle();
    assert.deepEqual(lines().slice(before + 2).map((l) => l.split(" ").slice(0, 2).join(" ")), ["interface_deactivate t1", "interface_activate t0"]);
    assert.equal(lines().filter((l) => l.startsWith("bridge_activate")).length, 1, "bridge_activate ran once, at the start");
  });

  test("regression (Go): ${bridge_peer_cidrs_ipv6} holds only the IPv6 CIDRs, ${bridge_peer_cidrs_ipv4} only the IPv4 ones", () => {
    const line = lines().find((l) => l.startsWith("bridge_activate"))!;
    assert.equal(line, "bridge_activate v4=[10.1.0.0/16 10.2.0.0/16] v6=[fd00:1::/64 2001:db8::/48]");
    for (const l of lines()) assert.match(l, /v4=\[10\.1\.0\.0\/16 10\.2\.0\.0\/16\] v6=\[fd00:1::\/64 2001:db8::\/48\]$/);
  });
});

describe("regression (Go): partner first-contact stall", () => {
  let hanging: Server;
  const held = new Set<Socket>();
  before(async () => {
    // A partner that accepts and never answers.
    hanging = createServer((socket) => {
      held.add(socket);
      socket.on("error", () => {});
      socket.once("close", () => held.delete(socket));
    });
    await new Promise<void>((resolve) => hanging.listen(8080, "127.88.9.2", () => resolve()));
  });
  after(async () => {
    for (const s of held) s.destroy();
    await new Promise<void>((resolve) => hanging.close(() => resolve()));
  });

  for (const [what, url, net] of [
    ["refuses connections", "http://127.88.9.3:8080/", 20],
    ["accepts and never answers", "http://127.88.9.2:8080/", 40],
  ] as const) {
    test(`a standby whose partner ${what} from the start becomes active`, async () => {
      const bridge = `robust-first-contact-${net}`;
      const echo = await startEcho(hp(`127.88.9.${net + 1}`, 3003));
      const daemon = await startDaemon(
        bridgeConfig(
          {
            name: bridge,
            role: "standby",
            statusAddr: `127.88.9.${net}:8080`,
            partnerUrl: url,
            probeInterval: "50ms",
            partnerTimeout: "40ms",
            partnerDown: 2,
            tunnels: [{ name: "t0", role: "active", addr: `127.88.9.${net}:3003`, probeAddr: `127.88.9.${net + 1}:3003` }],
          },
          `127.88.9.${net}:8000`,
        ),
      );
      try {
        // threshold 2 (+1 for a standby) bad polls at 50 ms, and two probes to be up: well under a
        // second, after the 1 s start-up grace a pair started together gets (partnerStartupGraceMs).
        await waitFor(() => daemon.bridges().get(bridge)!.state.bridgeActive, { timeoutMs: 4000, what: "the standby active" });
        assert.equal(await metricSum(daemon.metrics.partnerUp, { bridge }), 0);
        assert.equal(await metricSum(daemon.metrics.partnerPolls, { bridge, outcome: "ok" }), 0, "the partner never answered");
      } finally {
        await daemon.stop();
        await echo.close();
      }
    });
  }
});

describe("regression (Go): a reply exactly one window late, on a live bridge", () => {
  test("replies held back W−1, W and W+1 probes are late, stale, stale: counted, no crash, verdict kept", async () => {
    const bridge = "robust-window";
    const thresholdDown = 3;
    const W = BigInt(Math.max(thresholdDown, 2) + WINDOW_SLACK);
    // Hold the replies to three chosen probes; release each when the probe `lag` later passes.
    const plan = new Map<bigint, { lag: bigint; reply?: Buffer; released: boolean }>();
    let relay: Relay | undefined;
    let firstHeld = 0n;
    const echo = await startEcho(hp("127.88.10.3", 3003));
    relay = await startRelay({
      near: hp("127.88.10.1", 3003),
      far: hp("127.88.10.2", 3003),
      daemon: hp("127.88.10.10", 3003),
      peer: hp("127.88.10.3", 3003),
      toPeer: (msg) => {
        const p = peek(msg);
        if (!p || !isRequest(p)) return;
        if (firstHeld === 0n && p.sequence > 10n) {
          firstHeld = p.sequence + 1n;
          // Spaced out: three held replies in a row would be three failed probes, a real outage.
          plan.set(firstHeld, { lag: W - 1n, released: false });
          plan.set(firstHeld + 3n, { lag: W, released: false });
          plan.set(firstHeld + 6n, { lag: W + 1n, released: false });
        }
        // Release a held reply just before the probe `lag` later reaches the peer: the bridge
        // has sent it (its newest sequence is held + lag) and its own reply is not back yet.
        for (const [sequence, entry] of plan) {
          if (!entry.released && entry.reply && p.sequence === sequence + entry.lag) {
            entry.released = true;
            void relay!.inject(entry.reply);
          }
        }
      },
      toDaemon: (msg) => {
        const p = peek(msg);
        const entry = p && plan.get(p.sequence);
        if (entry && !entry.reply) {
          entry.reply = Buffer.from(msg);
          return "hold";
        }
      },
    });
    const daemon = await startDaemon(
      bridgeConfig(
        {
          name: bridge,
          role: "active",
          statusAddr: "127.88.10.10:8080",
          partnerUrl: "http://127.88.10.10:1/",
          probeInterval: "20ms",
          tunnels: [{ name: "t0", role: "active", addr: "127.88.10.10:3003", probeAddr: "127.88.10.1:3003", thresholdDown, thresholdUp: 2 }],
        },
        "127.88.10.10:8000",
      ),
    );
    const labels = { bridge, tunnel: "t0" };
    try {
      await waitFor(() => plan.size === 3 && [...plan.values()].every((e) => e.released), { timeoutMs: 30_000, what: "three held replies released" });
      // ≥ 1 late: on a loaded machine an ordinary reply can also miss its 20 ms interval.
      // ≥ 2 stale: the two replies held for a whole window or more; on a loaded machine an
      // ordinary reply can also come back a window (100 ms) late.
      await waitFor(async () => (await metricSum(daemon.metrics.probesLate, labels)) >= 1 && (await metricSum(daemon.metrics.datagramsMalformed, { ...labels, reason: "reply_stale" })) >= 2, {
        timeoutMs: 10_000,
        what: "one late, two stale",
      });
      assert.equal(await metricSum(daemon.metrics.tunnelUp, labels), 1);
      assert.equal(await metricSum(daemon.metrics.roleTransitions, { bridge }), 2, "only the start-up transitions");
      const returned = await metricSum(daemon.metrics.probesReturned, labels);
      await waitFor(async () => (await metricSum(daemon.metrics.probesReturned, labels)) > returned + 5, { timeoutMs: 10_000, what: "still probing" });
    } finally {
      await daemon.stop();
      await relay.close();
      await echo.close();
    }
  });
});

describe("regression (Go): a config without a metrics: section", () => {
  test("loads with the Go defaults and the daemon starts and serves", async () => {
    const yaml = bridgeYaml(
      {
        name: "robust-no-metrics",
        role: "active",
        statusAddr: "127.88.11.1:8080",
        partnerUrl: "http://127.88.11.1:1/",
        tunnels: [{ name: "t0", role: "active", addr: "127.88.11.1:3003", probeAddr: "127.88.11.2:3003" }],
      },
      null,
    );
    assert.ok(!/^metrics:/m.test(yaml), "no metrics section");
    const { config } = parseConfig(yaml, "no-metrics.yaml");
    assert.equal(config.metrics.listenAddr.text, "0.0.0.0:8000");
    assert.equal(config.metrics.latencyBucketsCount, 33);
    assert.equal(config.metrics.maxLatencyUs, 1_000_000);
    // Tests bind loopback only: same defaulted config, listening on a loopback address.
    const daemon = await startDaemon({ ...config, metrics: { ...config.metrics, listenAddr: hp("127.88.11.1", 8000) } });
    try {
      const res = await fetch("http://127.88.11.1:8000/metrics", { signal: AbortSignal.timeout(2000) });
      assert.equal(res.status, 200);
      const text = await res.text();
      assert.match(text, /vpnham_probes_latency_forward_microseconds/);
      // 33 default buckets (1 µs … 1 s) plus +Inf appear once the histogram has a series.
      assert.equal(daemon.metrics.latencyBucketsUs.length, 33);
    } finally {
      await daemon.stop();
    }
  });
});
