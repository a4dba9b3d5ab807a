import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCommand } from "../../src/hooks/run-command.ts";
import { pidExists, waitFor } from "./support.ts";

const env = { ...process.env };
const dir = mkdtempSync(join(tmpdir(), "vpnham-run-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Processes a test left behind on purpose; killed by pid at the end. */
const strays: number[] = [];
after(() => {
  for (const pid of strays) if (pidExists(pid)) process.kill(pid, "SIGKILL");
});

describe("runCommand", () => {
  test("captures exit code, stdout, stderr and the environment", async () => {
    const result = await runCommand(["sh", "-c", 'echo "out $GREETING"; echo err >&2; exit 3'], {
      timeoutMs: 5000,
      env: { ...env, GREETING: "hi" },
    });
    assert.equal(result.exitCode, 3);
    assert.equal(result.signal, null);
    assert.equal(result.timedOut, false);
    assert.equal(result.stdout, "out hi\n");
    assert.equal(result.stderr, "err\n");
    assert.equal(result.truncated, false);
    assert.equal(result.error, undefined);
    assert.deepEqual(result.argv, ["sh", "-c", 'echo "out $GREETING"; echo err >&2; exit 3']);
    assert.ok(result.durationMs >= 0);
  });

  test("passes argv without a shell", async () => {
    const result = await runCommand(["printf", "%s|", "a b", "$HOME", "*"], { timeoutMs: 5000, env });
    assert.equal(result.exitCode, 0);
    assert.equal(result.stdout, "a b|$HOME|*|");
  });

  test("a hanging command is killed at its timeout", async () => {
    const startedMs = performance.now();
    const result = await runCommand(["sleep", "100"], { timeoutMs: 200, env });
    const elapsedMs = performance.now() - startedMs;
    assert.equal(result.timedOut, true);
    assert.equal(result.exitCode, null);
    assert.equal(result.signal, "SIGTERM");
    assert.ok(elapsedMs >= 190 && elapsedMs < 10_000, `took ${elapsedMs} ms`);
  });

  test("on timeout the whole process group dies, and the result comes promptly", async () => {
    const startedMs = performance.now();
    const result = await runCommand(["sh", "-c", "sleep 100 & echo $!; sleep 100"], { timeoutMs: 300, env });
    const elapsedMs = performance.now() - startedMs;
    assert.equal(result.timedOut, true);
    assert.ok(elapsedMs < 10_000, `took ${elapsedMs} ms`);
    const grandchild = Number(result.stdout.trim());
    assert.ok(grandchild > 1, `grandchild pid from ${JSON.stringify(result.stdout)}`);
    strays.push(grandchild);
    // The orphan is reaped by pid 1, which may take a moment on this kind of host.
    await waitFor(() => !pidExists(grandchild), 5000, `grandchild ${grandchild} to be gone`);
  });

  test("a group that ignores SIGTERM gets SIGKILL after the grace", async () => {
    const startedMs = performance.now();
    // An ignored signal stays ignored across exec, so sleep ignores SIGTERM too.
    const result = await runCommand(["sh", "-c", "trap '' TERM; sleep 100 & echo $!; sleep 100"], {
      timeoutMs: 200,
      killGraceMs: 200,
      env,
    });
    const elapsedMs = performance.now() - startedMs;
    assert.equal(result.timedOut, true);
    assert.equal(result.signal, "SIGKILL");
    assert.ok(elapsedMs < 10_000, `took ${elapsedMs} ms`);
    const grandchild = Number(result.stdout.trim());
    strays.push(grandchild);
    await waitFor(() => !pidExists(grandchild), 5000, `grandchild ${grandchild} to be gone`);
  });

  test("a background grandchild holding the pipes does not keep a finished command pending", async () => {
    const startedMs = performance.now();
    const result = await runCommand(["sh", "-c", "sleep 100 & echo $!"], { timeoutMs: 10_000, ioGraceMs: 200, env });
    const elapsedMs = performance.now() - startedMs;
    strays.push(Number(result.stdout.trim()));
    assert.equal(result.exitCode, 0);
    assert.equal(result.timedOut, false);
    assert.ok(elapsedMs < 10_000, `took ${elapsedMs} ms`);
  });

  test("a flood of output is bounded and drained", async () => {
    const result = await runCommand(["sh", "-c", "yes | head -c 10000000; echo done >&2"], { timeoutMs: 20_000, env });
    assert.equal(result.exitCode, 0);
    assert.equal(result.timedOut, false);
    assert.equal(result.truncated, true);
    assert.equal(Buffer.byteLength(result.stdout), 64 * 1024);
    assert.equal(result.stderr, "done\n");
  });

  test("maxOutputBytes bounds each stream", async () => {
    const result = await runCommand(["sh", "-c", "echo 0123456789; echo abc >&2"], { timeoutMs: 5000, env, maxOutputBytes: 4 });
    assert.equal(result.stdout, "0123");
    assert.equal(result.stderr, "abc\n");
    assert.equal(result.truncated, true);
  });

  test("a missing executable is ENOENT", async () => {
    const result = await runCommand(["/nonexistent/vpnham-hook"], { timeoutMs: 5000, env });
    assert.equal(result.error, "ENOENT");
    assert.equal(result.exitCode, null);
    const onPath = await runCommand(["vpnham-no-such-command-xyz", "arg"], { timeoutMs: 5000, env });
    assert.equal(onPath.error, "ENOENT");
  });

  test("a file that is not executable is EACCES", async () => {
    const script = join(dir, "not-executable.sh");
    writeFileSync(script, "#!/bin/sh\necho hi\n");
    chmodSync(script, 0o644);
    const result = await runCommand([script], { timeoutMs: 5000, env });
    assert.equal(result.error, "EACCES");
    assert.equal(result.exitCode, null);
  });

  test("an empty argv is an error, not a crash", async () => {
    const result = await runCommand([], { timeoutMs: 5000, env });
    assert.equal(result.error, "empty command");
  });

  test("aborting kills the group", async () => {
    const controller = new AbortController();
    const pending = runCommand(["sleep", "100"], { timeoutMs: 10_000, env, signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    const result = await pending;
    assert.equal(result.aborted, true);
    assert.equal(result.timedOut, false);
    assert.equal(result.signal, "SIGTERM");
    const early = await runCommand(["true"], { timeoutMs: 1000, env, signal: AbortSignal.abort() });
    assert.equal(early.aborted, true);
    assert.equal(early.exitCode, null);
  });
});
