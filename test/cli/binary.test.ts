import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { waitFor } from "../../src/util/wait.ts";
import { hp, startEcho } from "../robustness/udp.ts";

/**
 * The compiled executable, as an operator runs it: --version, validate,
 * serve + status, SIGHUP with a bad config, SIGTERM. `npm test` builds
 * dist/vpnham first; a missing binary is built here.
 */
const root = resolve(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "../..");
const binary = join(root, "dist/vpnham");
const bun = join(root, "node_modules/.bin/bun");
const dir = mkdtempSync(join(tmpdir(), "vpnham-cli-"));
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(binary, args, { encoding: "utf8", env: { ...process.env, ...env }, cwd: dir, timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * The far end of every tunnel here: a stateless responder, as a peer's would be. (A tunnel
 * probing its own socket never comes up: its own requests are refused, docs/hardening.md
 * "Reflected probes".)
 */
const ECHO = hp("127.66.9.1", 13003);
let echo: Awaited<ReturnType<typeof startEcho>> | undefined;

const config = (thresholdDown: number) => `
bridges:
  cli-test:
    role: active
    bridge_interface: lo
    peer_cidr: 10.1.0.0/16
    status_addr: 127.66.0.1:18080
    partner_url: http://127.66.0.2:18080/
    probe_interval: 100ms
    partner_status_timeout: 50ms
    tunnel_interfaces:
      lo:
        role: active
        addr: 127.66.0.1:13003
        probe_addr: ${ECHO.text}
        threshold_down: ${thresholdDown}
        threshold_up: 2
metrics:
  listen_addr: 127.66.0.1:18000
`;

before(async () => {
  if (!existsSync(binary)) {
    const r = spawnSync(bun, ["build.ts"], { cwd: root, stdio: "inherit" });
    assert.equal(r.status, 0, "building dist/vpnham");
  }
  echo = await startEcho(ECHO, "cli-test/echo");
});
after(async () => {
  await echo?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("compiled binary", () => {
  test("--version prints the embedded version", () => {
    const r = run(["--version"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout.trim(), new RegExp(`^${pkg.version.replace(/\./g, "\\.")}(\\+[0-9a-f]+)?$`));
  });

  test("validate accepts every example and warns about absent interfaces", () => {
    for (const file of ["seed.yaml", "go-v0.0.18.yaml", "topology/left-active.yaml"]) {
      const r = run(["validate", "--config", join(root, "examples", file)]);
      assert.equal(r.code, 0, `${file}: ${r.stderr}`);
      assert.match(r.stdout, /valid/);
    }
    assert.match(run(["validate", "--config", join(root, "examples/seed.yaml")]).stderr, /warning: .*eth1/);
  });

  test("validate names every problem by key path, without a stack trace, and exits 1", () => {
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, config(1).replace("role: active\n    bridge_interface", "role: boss\n    colour: red\n    bridge_interface"));
    const r = run(["validate", "--config", bad]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bridges\.cli-test\.tunnel_interfaces\.lo\.threshold_down: 1 is out of range 2\.\.100/);
    assert.match(r.stderr, /bridges\.cli-test\.role: /);
    assert.match(r.stderr, /bridges\.cli-test\.colour: unknown key/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
  });

  test("validate refuses a file without a job section, still checking the other sections", () => {
    const noJob = join(dir, "no-job.yaml");
    writeFileSync(noJob, "metrics:\n  listen_addr: 127.66.0.1:99999\n");
    const r = run(["validate", "--config", noJob]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bridges: missing \(a config needs at least one job section: bridges[,) ]/);
    assert.match(r.stderr, /metrics\.listen_addr: "127\.66\.0\.1:99999"/);
  });

  test("a missing config file is a clear error; $VPNHAM_CONFIG is honoured", () => {
    const r = run(["validate"], { VPNHAM_CONFIG: join(dir, "nope.yaml") });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /nope\.yaml/);
  });

  test("a busy metrics port is a user error naming the key", async () => {
    const { createServer } = await import("node:net");
    const blocker = createServer();
    await new Promise<void>((res) => blocker.listen(18001, "127.66.0.9", () => res()));
    try {
      const file = join(dir, "busy.yaml");
      writeFileSync(file, config(3).replaceAll("127.66.0.1", "127.66.0.9").replace(":18000", ":18001"));
      const r = run(["serve", "--config", file]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /metrics\.listen_addr: cannot listen on 127\.66\.0\.9:18001: address already in use/);
      assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
    } finally {
      blocker.close();
    }
  });

  test("unknown options and log settings are user errors", () => {
    assert.equal(run(["validate", "--log-format", "xml", "--config", join(root, "examples/seed.yaml")]).code, 1);
  });
});

describe("compiled binary: serve", () => {
  let child: ChildProcess;
  let output = "";
  const file = join(dir, "serve.yaml");
  const logFile = join(dir, "serve.log");
  const statusFile = join(dir, "serve.exit");
  const pidFile = join(dir, "serve.pid");
  // sh records the daemon's own exit status: runtimes differ in what child_process reports after kill().
  const daemonPid = () => Number(readFileSync(pidFile, "utf8"));
  const readOutput = () => (output = existsSync(logFile) ? readFileSync(logFile, "utf8") : "");

  before(async () => {
    writeFileSync(file, config(3));
    const script = `"$0" serve --config "$1" --log-format json >"$2" 2>&1 & echo $! >"$3"; wait $!; echo $? >"$4"`;
    child = spawn("sh", ["-c", script, binary, file, logFile, pidFile, statusFile], { cwd: dir, stdio: "ignore" });
    await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, "utf8").trim() !== "", { timeoutMs: 5000, what: "the pid file" });
    await waitFor(async () => (await fetch("http://127.66.0.1:18080/status").catch(() => null))?.status === 200, {
      timeoutMs: 10_000,
      what: "the status server",
    });
  });
  after(() => {
    if (!existsSync(statusFile)) {
      try {
        process.kill(daemonPid(), "SIGKILL");
      } catch {
        /* already gone */
      }
    }
  });

  test("the tunnel (probing a loopback echo) comes up, and status shows it as a table and as JSON", async () => {
    await waitFor(async () => ((await (await fetch("http://127.66.0.1:18080/status")).json()) as { up: boolean }).up === true, {
      timeoutMs: 10_000,
      what: "the tunnel to come up",
    });
    const table = run(["status", "http://127.66.0.1:18080"]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /bridge cli-test \(active\)\s+yes/);
    assert.match(table.stdout, /tunnel lo\s+yes/);
    // "Why is this bridge active?" answered from the status body.
    assert.match(table.stdout, /why:\n  bridge active: role active, up, partner /);
    assert.match(table.stdout, /tunnel lo active: up, configured active; last change: active \(no_active_tunnel\)/);
    const json = JSON.parse(run(["status", "--json", "http://127.66.0.1:18080/"]).stdout);
    assert.equal(json.name, "cli-test");
    assert.equal(run(["status", "http://127.66.0.1:1"]).code, 1, "unreachable status is a clear error");
  });

  test("JSON log lines carry transitions with from, to and reason", () => {
    readOutput();
    const events = output.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
    const transition = events.find((e) => e.bridge === "cli-test" && e.to === "active" && e.reason);
    assert.ok(transition, output);
    assert.equal(transition.level, "info");
  });

  test("SIGHUP with a changed config reloads it (the loader's worker is in the executable)", async () => {
    writeFileSync(file, config(4));
    process.kill(daemonPid(), "SIGHUP");
    await waitFor(() => readOutput().includes('"msg":"configuration reloaded"'), { timeoutMs: 10_000, what: "the reload log line" });
    assert.match(output, /"restarted":\["cli-test"\]/);
  });

  test("SIGHUP with an invalid config keeps running and says why; SIGTERM exits 0", async () => {
    writeFileSync(file, "bridges: [oops");
    process.kill(daemonPid(), "SIGHUP");
    await waitFor(() => readOutput().includes("reload failed"), { timeoutMs: 5000, what: "the reload failure log line" });
    const metrics = await (await fetch("http://127.66.0.1:18000/metrics")).text();
    assert.match(metrics, /vpnham_config_reloads_total\{outcome="failed"\} 1/);
    assert.equal((await fetch("http://127.66.0.1:18080/status")).status, 200, "still serving");
    process.kill(daemonPid(), "SIGTERM");
    await waitFor(() => existsSync(statusFile) && readFileSync(statusFile, "utf8").trim() !== "", {
      timeoutMs: 10_000,
      what: "the daemon to exit",
    });
    assert.equal(readFileSync(statusFile, "utf8").trim(), "0");
    assert.match(readOutput(), /"msg":"stopped"/);
  });
});

describe("compiled binary: serve --dry-run", () => {
  test("logs the hooks it would run with placeholders substituted, and runs none", async () => {
    const file = join(dir, "dry.yaml");
    const marker = join(dir, "dry-hook-ran");
    writeFileSync(
      file,
      config(3).replaceAll("127.66.0.1", "127.66.0.7") +
        `default_scripts:\n  bridge_activate: [["touch", "${marker}"], ["echo", "\${bridge_peer_cidr} via \${bridge_interface}"]]\n`,
    );
    const log = join(dir, "dry.log");
    const script = `exec "$0" serve --dry-run --config "$1" --log-format json >"$2" 2>&1`;
    const child = spawn("sh", ["-c", script, binary, file, log], { stdio: "ignore" });
    try {
      const read = () => (existsSync(log) ? readFileSync(log, "utf8") : "");
      await waitFor(() => read().includes("would run"), { timeoutMs: 10_000, what: "the dry-run log lines" });
      await waitFor(() => read().includes('would run [\\"echo\\",\\"10.1.0.0/16 via lo\\"]'), {
        timeoutMs: 5000,
        what: "the second command, substituted",
      });
      assert.ok(!existsSync(marker), "no hook command ran");
    } finally {
      child.kill("SIGKILL");
    }
  });
});

describe("running from source under Deno", () => {
  test("deno run -A src/main.ts validate", () => {
    const deno = join(root, "node_modules/.bin/deno");
    const r = spawnSync(deno, ["run", "-A", join(root, "src/main.ts"), "validate", "--config", join(root, "examples/seed.yaml")], {
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /valid/);
  });
});
