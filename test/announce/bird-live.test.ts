/**
 * vpnham's BIRD 2 backend against real BIRD (docs/announce.md §BIRD): `vpnham serve` drives BIRD
 * C (namespace hbgp-c) through its include file and birdc; assertions are on the eBGP peer D's
 * tables (hbgp-d). Health is an exec check on a file the test creates and removes.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { waitFor } from "../../src/util/wait.ts";
import { daemonArgv, repoRoot, spawnDaemon, type ChildDaemon } from "../robustness/child.ts";
import { scrape, sumSamples } from "../robustness/support.ts";
import { birdUnavailable, startBirdPair, type BirdPair } from "./bird-netns.ts";

const skip = birdUnavailable();
const V4 = "192.0.2.20/32";
const V6 = "2001:db8::20/128";
const OWN = "203.0.113.0/24";
const guard = { timeoutMs: 20_000, intervalMs: 100 };

describe("announce through real BIRD, seen from the peer", { skip: skip ?? false }, () => {
  let bird: BirdPair;
  let daemon: ChildDaemon | undefined;
  const healthy = () => join(bird.dir, "healthy");
  const socket = () => join(bird.dir, "vpnham.sock");
  const cli = (...args: string[]) => {
    const [file, argv] = daemonArgv([...args, "--socket", socket()]);
    const r = spawnSync(file, argv, { cwd: repoRoot, encoding: "utf8", timeout: 30_000, env: { ...process.env, NO_COLOR: "1" } });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const has = async (prefix: string) => (await bird.ribD(prefix.includes(":") ? 6 : 4)).includes(prefix);
  const both = async (present: boolean) => (await has(V4)) === present && (await has(V6)) === present;

  before(async () => {
    bird = await startBirdPair(OWN);
    writeFileSync(
      join(bird.dir, "vpnham.yaml"),
      `checks:
  web: { kind: exec, command: [test, -e, ${healthy()}], interval: 500ms, timeout: 400ms, threshold_down: 2, threshold_up: 2 }
announce:
  bird: { socket: ${bird.socketC}, include_file: ${bird.includeFile} }
  state_file: ${join(bird.dir, "state.json")}
  interval: 2s
  timeout: 3s
  damping: { min_interval: 0s, hold_down: 0s, max_hold_down: 0s }
  services:
    web: { prefixes: [${V4}, "${V6}"], checks: [web] }
metrics: { listen_addr: 127.84.16.2:18000 }
control: { socket_path: ${socket()} }
`,
    );
    writeFileSync(healthy(), "");
    await waitFor(() => has(OWN), { ...guard, what: "the eBGP session (D learns C's own prefix)" });
    daemon = spawnDaemon(join(bird.dir, "vpnham.yaml"));
    await waitFor(() => daemon!.lines.some((l) => l.includes("control socket at")), { ...guard, timeoutMs: 60_000, what: "vpnham's control socket (a cold start under Deno on a busy machine is slow)" });
  }, { timeout: 120_000 });

  after(async () => {
    await daemon?.stop();
    bird?.teardown();
  }, { timeout: 30_000 });

  test("healthy: the peer learns the /32 and the /128 (vpnham created its protocols)", { timeout: 60_000 }, async () => {
    await waitFor(() => both(true), { ...guard, what: "D to learn both prefixes" });
  });

  test("health fails → the peer loses both; health returns → learns them back", { timeout: 60_000 }, async () => {
    rmSync(healthy());
    await waitFor(() => both(false), { ...guard, what: "D to lose both prefixes" });
    writeFileSync(healthy(), "");
    await waitFor(() => both(true), { ...guard, what: "D to learn both again" });
  });

  test("drain → withdrawn while healthy; undrain → back", { timeout: 60_000 }, async () => {
    assert.equal(cli("drain", V6, "--reason", "test").code, 0);
    await waitFor(async () => !(await has(V6)), { ...guard, what: "D to lose the drained /128" });
    assert.equal(await has(V4), true, "the other prefix stays");
    await new Promise((r) => setTimeout(r, 2_500));
    assert.equal(await has(V6), false, "still drained after a drift interval");
    assert.equal(cli("undrain", V6).code, 0);
    await waitFor(() => both(true), { ...guard, what: "D to learn the /128 back" });
  });

  test("the include file emptied behind our back → repaired within an interval", { timeout: 60_000 }, async () => {
    const drift = async () => sumSamples(await scrape("http://127.84.16.2:18000/metrics"), "vpnham_reconcile_drift_total", { kind: "announce_bird" });
    const before = await drift();
    writeFileSync(bird.includeFile, "");
    await bird.birdcC("configure");
    // D may lose them only briefly (the repair can come at once): the drift count shows it happened.
    await waitFor(async () => (await drift()) > before && (await both(true)), { ...guard, what: "vpnham's repair, seen by D" });
    assert.match(await bird.birdcC("show", "route", "protocol", "vpnham4"), /192\.0\.2\.20\/32/);
  });

  test("C's own prefix, outside the allow-list, was left alone throughout", { timeout: 60_000 }, async () => {
    assert.equal(await has(OWN), true);
  });
});

if (skip) test(`announce through real BIRD: skipped (${skip})`, { skip }, () => {});
