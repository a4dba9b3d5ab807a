/**
 * `vpnham ctl` against a running `serve` (source, under the runtime running the tests):
 * status and reload as root, and a non-root client refused by the socket's 0600 mode.
 * Loopback only (127.88.32.x).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bridgeYaml, daemonArgv, hp, repoRoot, spawnDaemon, startEcho, tempDir, waitFor, type ChildDaemon } from "../robustness/support.ts";

const isRoot = process.getuid?.() === 0;
const hasSetpriv = spawnSync("setpriv", ["--version"]).status === 0;

function ctl(args: string[], asNobody = false) {
  const [file, argv] = daemonArgv(["ctl", ...args]);
  const [cmd, cmdArgs] = asNobody ? ["setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", file, ...argv]] : [file, argv];
  const r = spawnSync(cmd, cmdArgs, { cwd: repoRoot, encoding: "utf8", timeout: 30_000, env: { ...process.env, NO_COLOR: "1", HOME: "/tmp" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("vpnham ctl", () => {
  const dir = tempDir("ctl");
  const socket = join(dir.path, "run", "vpnham.sock");
  const config = join(dir.path, "vpnham.yaml");
  const yaml = (threshold: number) =>
    bridgeYaml(
      {
        name: "ctl",
        role: "active",
        statusAddr: "127.88.32.1:8080",
        partnerUrl: "http://127.88.32.3:8080/",
        probeInterval: "50ms",
        tunnels: [{ name: "t0", role: "active", addr: "127.88.32.1:3003", probeAddr: "127.88.32.2:3003", thresholdDown: threshold }],
      },
      "127.88.32.1:8000",
    ) + `control:\n  socket_path: ${socket}\n`;
  let daemon: ChildDaemon;
  let echo: Awaited<ReturnType<typeof startEcho>>;
  before(async () => {
    chmodSync(dir.path, 0o755); // the non-root client must reach the socket to be refused by its mode
    echo = await startEcho(hp("127.88.32.2", 3003));
    writeFileSync(config, yaml(3));
    daemon = spawnDaemon(config);
    await waitFor(() => daemon.lines.some((l) => l.includes("control socket at")), { timeoutMs: 20_000, what: "control socket" });
  });
  after(async () => {
    await daemon?.stop();
    await echo?.close();
    dir.remove();
  });

  test("status prints the bridges as JSON", () => {
    const r = ctl(["status", "--socket", socket]);
    assert.equal(r.code, 0, r.stderr);
    const status = JSON.parse(r.stdout) as { bridges: Record<string, { name: string }> };
    assert.equal(status.bridges.ctl?.name, "ctl");
  });

  test("reload applies a changed file and says what changed; a bad file is refused with the key path", () => {
    writeFileSync(config, yaml(4));
    let r = ctl(["reload", "--socket", socket]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((JSON.parse(r.stdout) as { restarted: string[] }).restarted, ["ctl"]);
    writeFileSync(config, yaml(1));
    r = ctl(["reload", "--socket", socket]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: reload failed.*threshold_down/m);
    assert.ok(!r.stderr.includes("    at "), "no stack trace");
  });

  test("an unknown command is a user error", () => {
    const r = ctl(["shutdown", "--socket", socket]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /shutdown is not a control command/);
  });

  test("a non-root client is refused by the socket's mode", { skip: !isRoot || !hasSetpriv ? "needs root and setpriv" : false }, () => {
    const r = ctl(["status", "--socket", socket], true);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /cannot reach the daemon's control socket .*(EACCES|ermission)/);
  });
});
