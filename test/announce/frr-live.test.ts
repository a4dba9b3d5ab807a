/**
 * vpnham's FRR backend against real FRR (docs/announce.md): `vpnham serve` drives FRR instance A
 * (namespace hbgp-a) by vtysh; every assertion is on the eBGP peer B's RIB (hbgp-b), never on our
 * own logs. Health is an exec check on a file the test creates and removes.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { waitFor } from "../../src/util/wait.ts";
import { daemonArgv, repoRoot, spawnDaemon, type ChildDaemon } from "../robustness/child.ts";
import { scrape, sumSamples } from "../robustness/support.ts";
import { NS_A, frrUnavailable, startFrrPair, type FrrPair } from "./frr-netns.ts";

const skip = frrUnavailable();
const V4 = "192.0.2.10/32";
const V6 = "2001:db8::10/128";
const UNMANAGED = "203.0.113.0/24";
const metricsAddr = "127.84.16.1:18000";
const guard = { timeoutMs: 15_000, intervalMs: 100 };

describe("announce through real FRR, seen from the peer", { skip: skip ?? false }, () => {
  let frr: FrrPair;
  let daemon: ChildDaemon | undefined;
  let dir: string;
  const healthy = () => join(dir, "healthy");
  const socket = () => join(dir, "vpnham.sock");

  const cli = (...args: string[]) => {
    const [file, argv] = daemonArgv([...args, "--socket", socket()]);
    const r = spawnSync(file, argv, { cwd: repoRoot, encoding: "utf8", timeout: 30_000, env: { ...process.env, NO_COLOR: "1" } });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const has = async (prefix: string) => (await frr.ribB(prefix.includes(":") ? 6 : 4)).has(prefix);
  const both = async (present: boolean) => (await has(V4)) === present && (await has(V6)) === present;
  const startVpnham = async () => {
    daemon = spawnDaemon(join(dir, "vpnham.yaml"));
    await waitFor(() => daemon!.lines.some((l) => l.includes("control socket at")), { ...guard, timeoutMs: 60_000, what: "vpnham's control socket (a cold start under Deno on a busy machine is slow)" });
  };

  before(async () => {
    frr = await startFrrPair([UNMANAGED]);
    dir = frr.dir;
    writeFileSync(
      join(dir, "vpnham.yaml"),
      `checks:
  web:
    kind: exec
    command: [test, -e, ${healthy()}]
    interval: 500ms
    timeout: 400ms
    threshold_down: 2
    threshold_up: 2
announce:
  frr: { namespace: ${NS_A} }
  state_file: ${join(dir, "state", "announce.json")}
  interval: 2s
  timeout: 3s
  damping: { min_interval: 0s, hold_down: 0s, max_hold_down: 0s }
  services:
    web:
      prefixes: [${V4}, "${V6}"]
      route_maps: { ${V4}: BGP1 }
      checks: [web]
metrics: { listen_addr: ${metricsAddr} }
control: { socket_path: ${socket()} }
`,
    );
    writeFileSync(healthy(), "");
    await waitFor(() => has(UNMANAGED), { ...guard, what: "the eBGP session (B learns A's own prefix)" });
    await startVpnham();
  }, { timeout: 120_000 });

  after(async () => {
    await daemon?.stop();
    frr?.teardown();
  }, { timeout: 30_000 });

  test("healthy: the peer learns the /32 (with the route-map's prepend) and the /128", { timeout: 60_000 }, async () => {
    await waitFor(() => both(true), { ...guard, what: "B to learn both prefixes" });
    assert.equal((await frr.ribB(4)).get(V4), "65001 65001 65001", "route-map BGP1 prepends twice");
  });

  test("health fails → the peer loses both; health returns → learns them back", { timeout: 60_000 }, async () => {
    rmSync(healthy());
    await waitFor(() => both(false), { ...guard, what: "B to lose both prefixes" });
    writeFileSync(healthy(), "");
    await waitFor(() => both(true), { ...guard, what: "B to learn both prefixes again" });
  });

  test("unknown drain targets are refused clearly", { timeout: 60_000 }, () => {
    const r = cli("drain", "nope");
    assert.equal(r.code, 1);
    assert.match(r.stderr, /"nope" is neither a service \(web\), a configured prefix, an address nor a DNS name/);
    assert.match(cli("drain", "203.0.113.1").stderr, /203\.0\.113\.1 is in no configured prefix/);
  });

  test("drain → withdrawn, and it stays withdrawn while healthy, also after a vpnham restart", { timeout: 60_000 }, async () => {
    const r = cli("drain", "web", "--reason", "DC1 maintenance");
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { drained: string }).drained, "web");
    await waitFor(() => both(false), { ...guard, what: "B to lose both prefixes after the drain" });
    // Healthy all along, a drift interval and more later: still withdrawn.
    await new Promise((r) => setTimeout(r, 2_500));
    assert.equal(await both(false), true);
    await daemon!.stop();
    await startVpnham();
    await waitFor(
      () => {
        const status = JSON.parse(cli("ctl", "status").stdout || "{}") as { components?: Record<string, { lastRead?: string; services?: { web?: { drained?: { reason?: string } } } }> };
        const announce = status.components?.["announce:frr"];
        return announce?.lastRead !== undefined && announce.services?.web?.drained?.reason === "DC1 maintenance";
      },
      { ...guard, what: "the restarted daemon to read FRR, drain in place" },
    );
    await new Promise((r) => setTimeout(r, 1_000));
    assert.equal(await both(false), true, "still withdrawn after the restart");
  });

  test("undrain → the peer learns them back", { timeout: 60_000 }, async () => {
    const r = cli("undrain", "web");
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((JSON.parse(r.stdout) as { lifted: string[] }).lifted, ["service web"]);
    await waitFor(() => both(true), { ...guard, what: "B to learn both prefixes after the undrain" });
  });

  test("FRR A restarted (runtime lines forgotten) → re-announced within one interval, drift counted", { timeout: 60_000 }, async () => {
    await frr.stopBgpdA();
    await waitFor(async () => !(await has(UNMANAGED)) && (await both(false)), { ...guard, what: "B to drop A's routes with the session" });
    await frr.startBgpdA();
    await waitFor(() => has(UNMANAGED), { ...guard, what: "the session back (A's own prefix, from its config file)" });
    // A's config file has no line for them: only vpnham puts them back.
    await waitFor(() => both(true), { ...guard, what: "B to learn both prefixes after A's restart" });
    const samples = await scrape(`http://${metricsAddr}/metrics`);
    assert.ok(sumSamples(samples, "vpnham_reconcile_drift_total", { kind: "announce_frr", target: NS_A }) >= 1);
  });

  test("the prefix outside the allow-list was left alone throughout", { timeout: 60_000 }, async () => {
    assert.match(await frr.runningConfigA(), new RegExp(`network ${UNMANAGED.replace(".", "\\.")}\\n`));
    assert.equal(await has(UNMANAGED), true);
  });
});

if (skip) test(`announce through real FRR: skipped (${skip})`, { skip }, () => {});
