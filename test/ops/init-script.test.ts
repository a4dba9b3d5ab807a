// examples/init.d/vpnham against the built binary, with start-stop-daemon and with the
// portable fallback: start/status/reload/stop, double start, stale pidfiles, start failure.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import {
  argv0Of,
  binaryPath,
  binarySkip,
  examplesDir,
  fetchText,
  findTool,
  pairConfig,
  pidAlive,
  run,
  waitFor,
  type RunResult,
} from "./support.ts";

const script = join(examplesDir, "init.d", "vpnham");

test("the init script is executable, has an LSB header and is valid sh", async () => {
  assert.ok((statSync(script).mode & 0o111) !== 0, "not executable");
  const text = readFileSync(script, "utf8");
  assert.match(text, /^#!\/bin\/sh\n/);
  const header = /### BEGIN INIT INFO\n([\s\S]*?)### END INIT INFO/.exec(text)?.[1] ?? "";
  for (const key of ["Provides", "Required-Start", "Required-Stop", "Default-Start", "Default-Stop", "Short-Description"]) {
    assert.match(header, new RegExp(`^# ${key}:`, "m"), `LSB header lacks ${key}`);
  }
  const r = await run(["sh", "-n", script]);
  assert.equal(r.code, 0, r.stderr);
});

/** Processes whose command line mentions `needle` (our config path): no second instance. */
function processesWith(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").includes(needle)) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

async function reloadsOk(metricsUrl: string): Promise<number> {
  const { text } = await fetchText(metricsUrl);
  const m = /^vpnham_config_reloads_total\{outcome="ok"\} (\d+)/m.exec(text);
  assert.ok(m, "no vpnham_config_reloads_total{outcome=\"ok\"} in the scrape");
  return Number(m[1]);
}

const modes = [
  { name: "with start-stop-daemon", ssd: "yes", net: "127.77.1", skip: findTool("start-stop-daemon") ? false : "no start-stop-daemon on this host" },
  { name: "with the portable fallback", ssd: "no", net: "127.77.5", skip: false },
] as const;

/** Field 19 of /proc/<pid>/stat (after the parenthesised command name). */
function niceOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
}

for (const mode of modes) {
  describe(`init script ${mode.name}`, { skip: binarySkip || mode.skip }, () => {
    test("start → status → reload (SIGHUP) → stop; double start, stale pidfiles and a failed start", { timeout: 120_000 }, async () => {
      const work = mkdtempSync(join(tmpdir(), "vpnham-init-"));
      const config = join(work, "vpnham.yaml");
      const pidfile = join(work, "run", "vpnham.pid"); // the script creates run/
      const logfile = join(work, "log", "vpnham.log");
      const ip = `${mode.net}.1`;
      const metricsUrl = `http://${ip}:18000/metrics`;
      const goodConfig = pairConfig({ ip, peerIp: `${mode.net}.2`, role: "active" }, join(work, "hooks.log"));
      writeFileSync(config, goodConfig);
      // Settings the way an appliance has them: a defaults file.
      const defaults = join(work, "default-vpnham");
      writeFileSync(
        defaults,
        [`DAEMON=${binaryPath}`, `CONFIG=${config}`, `PIDFILE=${pidfile}`, `LOGFILE=${logfile}`, "STOP_TIMEOUT=20", `USE_START_STOP_DAEMON=${mode.ssd}`].join("\n") + "\n",
      );
      const initd = (action: string): Promise<RunResult> =>
        run(["sh", script, action], { env: { ...process.env, DEFAULTS_FILE: defaults }, timeoutMs: 60_000 });
      const readPid = () => Number(readFileSync(pidfile, "utf8").trim());
      const bystander = spawn("sleep", ["300"], { stdio: "ignore" });
      let blocker: Server | undefined;
      try {
        let r = await initd("status");
        assert.equal(r.code, 3, `status before start: ${r.stdout}`);

        // start: running, and the daemon answers.
        r = await initd("start");
        assert.equal(r.code, 0, `start: ${r.stdout}${r.stderr}\n${readFileSync(logfile, "utf8")}`);
        const pid = readPid();
        assert.match(r.stdout, new RegExp(`started \\(pid ${pid}\\)`));
        assert.equal(argv0Of(pid), binaryPath, "the pidfile names the daemon itself");
        // Probes are time-critical: NICE (default -10) puts the daemon ahead of ordinary work.
        if (process.getuid?.() === 0) assert.equal(niceOf(pid), -10, "the daemon runs at NICE=-10");
        r = await initd("status");
        assert.equal(r.code, 0);
        assert.match(r.stdout, new RegExp(`running \\(pid ${pid}\\)`));
        const status = await fetchText(`http://${ip}:18080/status`);
        assert.equal(status.status, 200);
        assert.equal((JSON.parse(status.text) as { name: string }).name, "ops-pair");

        // double start: refused, still one instance.
        r = await initd("start");
        assert.equal(r.code, 0);
        assert.match(r.stdout, new RegExp(`already running \\(pid ${pid}\\)`));
        assert.equal(readPid(), pid);
        assert.deepEqual(processesWith(config), [pid]);

        // reload: SIGHUP, counted by the daemon.
        const before = await reloadsOk(metricsUrl);
        r = await initd("reload");
        assert.equal(r.code, 0, r.stdout + r.stderr);
        await waitFor(async () => (await reloadsOk(metricsUrl)) === before + 1, { timeoutMs: 5_000, what: "reloads_total{ok} + 1" });
        assert.equal(readPid(), pid, "reload keeps the process");

        // reload of an invalid file: refused by the script, no SIGHUP sent.
        writeFileSync(config, goodConfig.replace("threshold_down: 3", "threshold_down: 1"));
        r = await initd("reload");
        assert.notEqual(r.code, 0);
        assert.match(r.stdout + r.stderr, /threshold_down/);
        assert.equal(await reloadsOk(metricsUrl), before + 1);
        writeFileSync(config, goodConfig);

        // stop: waits for the exit, removes the pidfile.
        r = await initd("stop");
        assert.equal(r.code, 0, r.stdout + r.stderr);
        assert.ok(!pidAlive(pid), "stop returned before the daemon exited");
        assert.ok(!existsSync(pidfile), "stale pidfile after stop");
        r = await initd("status");
        assert.equal(r.code, 3);
        assert.match(r.stdout, /not running/);
        r = await initd("stop");
        assert.equal(r.code, 0, "stop when stopped is fine");
        assert.match(readFileSync(logfile, "utf8"), /"msg":"SIGTERM: stopping"/);

        // A stale pidfile naming a live process that is not vpnham: never signalled.
        writeFileSync(pidfile, `${bystander.pid}\n`);
        r = await initd("status");
        assert.equal(r.code, 1, `status with a stale pidfile: ${r.stdout}`);
        r = await initd("start");
        assert.equal(r.code, 0, r.stdout + r.stderr);
        assert.match(r.stdout, /removing stale pidfile/);
        const pid2 = readPid();
        assert.notEqual(pid2, bystander.pid);
        assert.equal(argv0Of(pid2), binaryPath);

        // restart: a new process.
        r = await initd("restart");
        assert.equal(r.code, 0, r.stdout + r.stderr);
        const pid3 = readPid();
        assert.notEqual(pid3, pid2);
        assert.ok(!pidAlive(pid2));
        assert.deepEqual(processesWith(config), [pid3]);
        r = await initd("stop");
        assert.equal(r.code, 0);
        assert.ok(bystander.exitCode === null && pidAlive(bystander.pid!), "the bystander was killed");

        // A daemon that cannot start (metrics address taken): failure, log shown, no pidfile.
        const server = createServer();
        blocker = server;
        await new Promise<void>((resolve, reject) => server.once("error", reject).listen(18000, ip, () => resolve()));
        r = await initd("start");
        assert.equal(r.code, 1, `start with the port taken: ${r.stdout}`);
        assert.match(r.stdout, /failed to start/);
        assert.ok(!existsSync(pidfile), "pidfile left after a failed start");
      } finally {
        blocker?.close();
        for (const pid of processesWith(config)) process.kill(pid, "SIGKILL");
        bystander.kill("SIGKILL");
        rmSync(work, { recursive: true, force: true });
      }
    });
  });
}
