import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bridgeSample, commandSample, ipvsSample, pingArgv, probeExec, probeIcmp, probeIpvs } from "../../src/checks/probe-local.ts";
import type { CommandResult } from "../../src/hooks/types.ts";
import { waitFor } from "../hooks/support.ts";

const env = { PATH: process.env.PATH };
const fixtureUrl = new URL("./fixtures/proc-net-ip_vs.txt", (import.meta as unknown as { url: string }).url);

function result(extra: Partial<CommandResult>): CommandResult {
  return { argv: ["x"], exitCode: 0, signal: null, timedOut: false, durationMs: 1, stdout: "", stderr: "", truncated: false, ...extra };
}

test("command results → samples (table)", () => {
  const rows: Array<[Partial<CommandResult>, unknown]> = [
    [{}, { ok: true }],
    [{ exitCode: 1, stderr: "\n  db is down \nmore" }, { ok: false, reason: "exit", detail: "exit 1: db is down" }],
    [{ exitCode: 3, stdout: "warning" }, { ok: false, reason: "exit", detail: "exit 3: warning" }],
    [{ exitCode: null, signal: "SIGSEGV" }, { ok: false, reason: "signal", detail: "killed by SIGSEGV" }],
    [{ exitCode: null, signal: "SIGTERM", timedOut: true }, { ok: false, reason: "timeout", detail: "no answer in time" }],
    [{ exitCode: null, aborted: true }, { ok: false, reason: "timeout", detail: "no answer in time" }],
    [{ exitCode: null, error: "ENOENT" }, { ok: false, reason: "spawn", detail: "x: ENOENT" }],
  ];
  for (const [partial, expected] of rows) assert.deepEqual(commandSample(result(partial), () => "exit"), expected, JSON.stringify(partial));
  assert.deepEqual(commandSample(result({ exitCode: 1 }), (code) => (code === 1 ? "no_reply" : "exit")), { ok: false, reason: "no_reply", detail: "exit 1" });
});

describe("exec probe (the hooks' process-group runner)", () => {
  test("exit 0: good; exit 1: bad with its stderr", async () => {
    assert.deepEqual(await probeExec(["true"], env, 2000, AbortSignal.timeout(5000)), { ok: true });
    assert.deepEqual(await probeExec(["sh", "-c", "echo not ready >&2; exit 1"], env, 2000, AbortSignal.timeout(5000)), {
      ok: false,
      reason: "exit",
      detail: "exit 1: not ready",
    });
  });

  test("the check name is in the environment", async () => {
    const sample = await probeExec(["sh", "-c", 'test "$VPNHAM_CHECK" = web'], { ...env, VPNHAM_CHECK: "web" }, 2000, AbortSignal.timeout(5000));
    assert.deepEqual(sample, { ok: true });
  });

  test("timeout: the whole process group is killed, grandchildren too", async () => {
    const dir = mkdtempSync(join(tmpdir(), "h-checks-"));
    try {
      const pidFile = join(dir, "pid");
      const startMs = performance.now();
      const sample = await probeExec(["sh", "-c", `sleep 30 & echo $! > ${pidFile}; wait`], env, 300, AbortSignal.timeout(10_000));
      const ms = performance.now() - startMs;
      assert.deepEqual(sample, { ok: false, reason: "timeout", detail: "no answer in time" });
      assert.ok(ms < 2000, `${ms} ms`);
      const pid = Number(readFileSync(pidFile, "utf8").trim());
      const alive = (): boolean => {
        try {
          // A zombie until PID 1 reaps it counts as gone.
          return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
        } catch {
          return false;
        }
      };
      await waitFor(() => !alive(), 2000, "the grandchild sleep killed with the group");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("abort (the runtime's timeout) ends the command too", async () => {
    const startMs = performance.now();
    const sample = await probeExec(["sleep", "30"], env, 10_000, AbortSignal.timeout(200));
    assert.equal(!sample.ok && sample.reason, "timeout");
    assert.ok(performance.now() - startMs < 2000);
  });

  test("a missing program: spawn", async () => {
    const sample = await probeExec(["/nonexistent/h-checks"], env, 2000, AbortSignal.timeout(5000));
    assert.deepEqual(sample, { ok: false, reason: "spawn", detail: "/nonexistent/h-checks: ENOENT" });
  });
});

function hasPing(): boolean {
  try {
    execFileSync("ping", ["-V"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

describe("icmp probe (system ping)", () => {
  test("argv: one echo, whole seconds, numeric output", () => {
    assert.deepEqual(pingArgv("127.0.0.1", 2000), ["ping", "-c", "1", "-W", "2", "-n", "127.0.0.1"]);
    assert.deepEqual(pingArgv("::1", 300), ["ping", "-c", "1", "-W", "1", "-n", "::1"]);
    assert.deepEqual(pingArgv("h", 1500), ["ping", "-c", "1", "-W", "2", "-n", "h"]);
  });

  const skip = hasPing() ? false : "ping is not installed (apt-get install iputils-ping)";
  test("127.0.0.1 answers", { skip }, async () => {
    assert.deepEqual(await probeIcmp("127.0.0.1", 2000, AbortSignal.timeout(5000)), { ok: true });
  });

  test("no ping binary: spawn, with the package to install", async () => {
    const run = async (argv: readonly string[]) => result({ argv: [...argv], exitCode: null, error: "ENOENT" });
    assert.deepEqual(await probeIcmp("127.0.0.1", 1000, AbortSignal.timeout(5000), run), {
      ok: false,
      reason: "spawn",
      detail: "ping not found (install iputils-ping)",
    });
  });

  test("exit 1 (no reply) is no_reply", async () => {
    const run = async (argv: readonly string[]) => result({ argv: [...argv], exitCode: 1, stdout: "1 packets transmitted, 0 received" });
    const sample = await probeIcmp("192.0.2.1", 1000, AbortSignal.timeout(5000), run);
    assert.equal(!sample.ok && sample.reason, "no_reply");
  });
});

describe("ipvs probe", () => {
  const fixture = readFileSync(fixtureUrl, "utf8");
  test("judged from the table (pure)", () => {
    assert.deepEqual(ipvsSample(fixture, { protocol: "TCP", host: "10.0.0.100", port: 80 }, 2), { ok: true });
    assert.deepEqual(ipvsSample(fixture, { protocol: "TCP", host: "10.0.0.100", port: 80 }, 3), {
      ok: false,
      reason: "servers",
      detail: "TCP 10.0.0.100:80 has 2 real servers with weight > 0, needs 3",
    });
    assert.deepEqual(ipvsSample(fixture, { protocol: "FWM", fwmark: 9 }, 1), { ok: false, reason: "not_found", detail: "FWM 9 is not an IPVS virtual service" });
    assert.equal(ipvsSample(fixture, { protocol: "UDP", host: "10.0.0.100", port: 53 }, 1).ok, false);
  });

  test("reads the configured path; a missing file is a read failure", async () => {
    const dir = mkdtempSync(join(tmpdir(), "h-checks-"));
    try {
      const path = join(dir, "ip_vs");
      writeFileSync(path, fixture);
      assert.deepEqual(await probeIpvs(path, { protocol: "TCP", host: "2001:db8::64", port: 443 }, 2, AbortSignal.timeout(2000)), { ok: true });
      const missing = await probeIpvs(join(dir, "nope"), { protocol: "FWM", fwmark: 5 }, 1, AbortSignal.timeout(2000));
      assert.deepEqual(missing, { ok: false, reason: "read", detail: `${join(dir, "nope")}: ENOENT` });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test("bridge_active from the daemon's callback", () => {
  const bridges: Record<string, boolean> = { dc1: true, dc2: false };
  const active = (name: string) => bridges[name];
  assert.deepEqual(bridgeSample("dc1", active), { ok: true });
  assert.deepEqual(bridgeSample("dc2", active), { ok: false, reason: "inactive", detail: 'bridge "dc2" is not active' });
  assert.deepEqual(bridgeSample("dc3", active), { ok: false, reason: "unknown_bridge", detail: 'no bridge "dc3" is running' });
});
