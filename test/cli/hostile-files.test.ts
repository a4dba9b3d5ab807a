import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "../../src/util/wait.ts";
import { describeRun, rssBytes, runVpnham, type BoundedResult } from "../support/bounded-run.ts";

/**
 * Files the daemon reads, made hostile (docs/hardening.md, "Files the daemon reads"): devices,
 * FIFOs without a writer, directories, oversized files and YAML alias bombs are refused with an
 * `error: <key path>: …` line and exit 1 by validate and serve, and a SIGHUP into a running
 * daemon with such a file is a refused reload: it keeps probing and serving.
 */
const dir = mkdtempSync(join(tmpdir(), "vpnham-h-files-"));
after(() => rmSync(dir, { recursive: true, force: true }));

// Enough for a cold Deno start on a loaded machine; a read that blocks or grows is killed here.
const timeoutMs = 15_000;
const maxRssBytes = 400 * 1024 * 1024;

const configText = (secretLine = "", ip = "127.66.40.1") => `
bridges:
  b:
    role: active
    bridge_interface: lo
    peer_cidr: 10.1.0.0/16
    status_addr: ${ip}:18080
    partner_url: http://127.66.40.250:18080/
    probe_interval: 100ms
    partner_status_timeout: 50ms
${secretLine}    tunnel_interfaces:
      lo:
        role: active
        addr: ${ip}:13003
        probe_addr: ${ip}:13003
        threshold_down: 3
        threshold_up: 2
metrics:
  listen_addr: ${ip}:18000
`;

function mkfifo(path: string): void {
  const r = spawnSync("mkfifo", [path]);
  assert.equal(r.status, 0, `mkfifo ${path}: ${r.stderr}`);
}

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text, { mode: 0o600 });
  return path;
}

const validate = (config: string) => runVpnham(["validate", "--config", config], { timeoutMs, maxRssBytes, cwd: dir });

function assertRefused(r: BoundedResult, line: RegExp): void {
  assert.equal(r.killed, undefined, describeRun(r));
  assert.equal(r.code, 1, describeRun(r));
  assert.match(r.stderr, line, describeRun(r));
  assert.doesNotMatch(r.stderr, /\n\s+at |unexpected failure/, `no stack trace: ${describeRun(r)}`);
}

describe("validate refuses files that are not small regular files", () => {
  test("the config is /dev/zero", async () => {
    assertRefused(await validate("/dev/zero"), /^error: config \/dev\/zero: cannot read it \(not a regular file: a character device\)$/m);
  });

  test("the config is a FIFO with no writer", async () => {
    const fifo = join(dir, "config.fifo");
    mkfifo(fifo);
    assertRefused(await validate(fifo), /^error: config .*config\.fifo: cannot read it \(not a regular file: a FIFO\)$/m);
  });

  test("the config is a directory", async () => {
    const sub = join(dir, "config.d");
    mkdirSync(sub);
    assertRefused(await validate(sub), /^error: config .*config\.d: cannot read it \(not a regular file: a directory\)$/m);
  });

  test("the config is larger than 1 MiB", async () => {
    const big = write("big.yaml", configText() + `# ${"x".repeat(2 * 1024 * 1024)}\n`);
    assertRefused(await validate(big), /^error: config .*big\.yaml: cannot read it \(larger than 1 MiB\)$/m);
  });

  for (const device of ["/dev/zero", "/dev/urandom"]) {
    test(`secret_file is ${device}`, async () => {
      const config = write("dev-secret.yaml", configText(`    secret_file: ${device}\n`));
      assertRefused(await validate(config), new RegExp(`^error: bridges\\.b\\.secret_file: cannot read ${device} \\(not a regular file: a character device\\)$`, "m"));
    });
  }

  test("secret_file is a FIFO with no writer", async () => {
    mkfifo(join(dir, "secret.fifo"));
    const config = write("fifo-secret.yaml", configText("    secret_file: secret.fifo\n"));
    assertRefused(await validate(config), /^error: bridges\.b\.secret_file: cannot read .*secret\.fifo \(not a regular file: a FIFO\)$/m);
  });

  test("secret_file is larger than 64 KiB", async () => {
    write("big.secret", "s".repeat(65 * 1024));
    const config = write("big-secret.yaml", configText("    secret_file: big.secret\n"));
    assertRefused(await validate(config), /^error: bridges\.b\.secret_file: cannot read .*big\.secret \(larger than 64 KiB\)$/m);
  });

  test("a small regular secret file (through a symlink) is still fine", async () => {
    write("good.secret", "0123456789abcdef-long-enough\n");
    symlinkSync(join(dir, "good.secret"), join(dir, "link.secret"));
    const r = await validate(write("good-secret.yaml", configText("    secret_file: link.secret\n")));
    assert.equal(r.code, 0, describeRun(r));
  });

  test("a YAML alias bomb is a user error, not a crash", async () => {
    const levels = ["a: &a [x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 10; i++) {
      const previous = String.fromCharCode(96 + i);
      const name = String.fromCharCode(97 + i);
      levels.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(", ")}]`);
    }
    const r = await validate(write("bomb.yaml", levels.join("\n") + "\n"));
    assertRefused(r, /^error: YAML: too many alias expansions \(more than 100; an alias bomb\?\)$/m);
  });
});

describe("serve: SIGHUP with a hostile config is a refused reload that never stalls the daemon", () => {
  test("config replaced by a FIFO, then by /dev/zero: status keeps answering, probes keep going; a good file reloads", async () => {
    const config = write("serve.yaml", configText());
    let pid = 0;
    let output = "";
    const run = runVpnham(["serve", "--config", config, "--log-format", "json"], {
      timeoutMs: 60_000,
      maxRssBytes,
      cwd: dir,
      onStart: (child) => {
        pid = child.pid!;
        child.stdout!.on("data", (chunk: Buffer) => void (output += chunk.toString("utf8")));
      },
    });
    const get = async (url: string) => {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      return { status: response.status, text: await response.text() };
    };
    const sent = async () => Number(/vpnham_probes_sent_total\{[^}]*\} (\d+)/.exec((await get("http://127.66.40.1:18000/metrics")).text)?.[1] ?? 0);
    try {
      await waitFor(async () => (await get("http://127.66.40.1:18080/status").catch(() => null))?.status === 200, {
        timeoutMs: 20_000,
        what: "the status server",
      });
      const hostile: Array<[string, () => void]> = [
        ["a FIFO", () => (rmSync(config), mkfifo(config))],
        ["/dev/zero", () => (rmSync(config), symlinkSync("/dev/zero", config))],
      ];
      for (const [index, [what, replace]] of hostile.entries()) {
        replace();
        const before = await sent();
        process.kill(pid, "SIGHUP");
        await waitFor(() => output.split("\n").filter((l) => l.includes("reload failed")).length > index, {
          timeoutMs: 5000,
          what: `the refused reload of ${what} in the log`,
        });
        assert.match(output, /reload failed, still running the previous configuration: config .*serve\.yaml: cannot read it \(not a regular file/);
        assert.equal((await get("http://127.66.40.1:18080/status")).status, 200, `still serving after ${what}`);
        await waitFor(async () => (await sent()) > before + 3, { timeoutMs: 3000, what: `probes to go on after ${what}` });
        const metrics = (await get("http://127.66.40.1:18000/metrics")).text;
        assert.match(metrics, new RegExp(`vpnham_config_reloads_total\\{outcome="failed"\\} ${index + 1}`));
        assert.ok(rssBytes(pid) < maxRssBytes, "memory stays bounded");
      }
      // And a good file again reloads (through the loader's worker thread).
      rmSync(config);
      writeFileSync(config, configText().replace("threshold_down: 3", "threshold_down: 4"));
      process.kill(pid, "SIGHUP");
      await waitFor(() => output.includes('"msg":"configuration reloaded"'), { timeoutMs: 10_000, what: "the good reload" });
      assert.match(output, /"restarted":\["b"\]/);
    } finally {
      if (pid) process.kill(pid, "SIGTERM");
    }
    const r = await run;
    assert.equal(r.killed, undefined, describeRun(r));
    assert.equal(r.code, 0, describeRun(r));
  });
});
