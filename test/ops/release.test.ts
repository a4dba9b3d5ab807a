// `bun build.ts --all`: x64 and arm64 binaries with SHA256SUMS, reproducible without the
// network once the pinned arm64 runtime is cached; the arm64 one checked by `file` and run
// under qemu-user (a whole loopback pair) when qemu is there.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { findTool, inCi, repoRoot, run, skipUnless, startPair, type RunResult } from "./support.ts";

const bun = join(repoRoot, "node_modules", ".bin", "bun");
const dist = join(repoRoot, "dist");
const names = ["vpnham-linux-x64", "vpnham-linux-arm64"] as const;
const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { version: string };

const fileTool = findTool("file");
const qemu = findTool("qemu-aarch64");
// Debian's libc6-arm64-cross: the loader and libc the arm64 binary needs under qemu-user.
const sysroot = "/usr/aarch64-linux-gnu";
const hasSysroot = existsSync(join(sysroot, "lib", "ld-linux-aarch64.so.1"));
const qemuSkip = skipUnless(qemu !== undefined && hasSysroot, "qemu-aarch64 or the arm64 libc missing (apt-get install qemu-user libc6-arm64-cross)");

function sha256(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

function buildAll(): Promise<RunResult> {
  return run([bun, "build.ts", "--all"], { timeoutMs: 540_000 });
}

describe("release build (bun build.ts --all)", { skip: existsSync(bun) ? false : "node_modules/.bin/bun missing" }, () => {
  // Built once by the first test (hooks get no timeout option on every runner); the
  // others look at its output.
  let sums = "";

  test("builds both binaries and a SHA256SUMS that sha256sum -c accepts", { timeout: 600_000 }, async () => {
    const first = await buildAll();
    assert.equal(first.code, 0, first.stdout + first.stderr);
    sums = readFileSync(join(dist, "SHA256SUMS"), "utf8");
    const lines = sums.trimEnd().split("\n");
    assert.deepEqual(lines.map((l) => l.split("  ")[1]), [...names]);
    for (const line of lines) {
      const [hash, name] = line.split("  ") as [string, string];
      assert.match(hash, /^[0-9a-f]{64}$/);
      assert.equal(sha256(join(dist, name)), hash, `${name}: checksum`);
    }
    const sha256sum = findTool("sha256sum");
    if (sha256sum) {
      const check = await run([sha256sum, "-c", "SHA256SUMS"], { cwd: dist });
      assert.equal(check.code, 0, check.stdout + check.stderr);
    }
  });

  test("the binaries are x86-64 and aarch64 ELF executables", { skip: skipUnless(fileTool !== undefined, "file not installed (apt-get install file)") }, async () => {
    assert.ok(fileTool, "file(1) is required with CI=true");
    const x64 = await run([fileTool, "-b", join(dist, names[0])]);
    const arm = await run([fileTool, "-b", join(dist, names[1])]);
    assert.match(x64.stdout, /^ELF 64-bit LSB .*x86-64/);
    assert.match(arm.stdout, /^ELF 64-bit LSB .*ARM aarch64/);
  });

  test("the host's binary reports the package version", { skip: process.arch === "x64" ? false : "not an x64 host" }, async () => {
    const r = await run([join(dist, names[0]), "--version"]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.trim().startsWith(pkg.version), `--version: ${r.stdout}`);
  });

  test("a second build is byte-identical and needs no download", { timeout: 600_000 }, async () => {
    assert.notEqual(sums, "", "the first build failed");
    const second = await buildAll();
    assert.equal(second.code, 0, second.stdout + second.stderr);
    assert.doesNotMatch(second.stdout, /fetching/, "the arm64 runtime was fetched again instead of coming from the cache");
    assert.equal(readFileSync(join(dist, "SHA256SUMS"), "utf8"), sums);
  });

  describe("the arm64 binary under qemu-user", { skip: qemuSkip }, () => {
    const arm64 = () => [qemu!, "-L", sysroot, join(dist, names[1])];

    test("prints its version", { timeout: 120_000 }, async () => {
      assert.ok(qemu && hasSysroot, "qemu-user and libc6-arm64-cross are required with CI=true");
      const r = await run([...arm64(), "--version"], { timeoutMs: 60_000 });
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.stdout.trim().startsWith(pkg.version), `--version: ${r.stdout}`);
    });

    test("runs a pair that brings its tunnels and partners up", { timeout: 120_000 }, async () => {
      const work = mkdtempSync(join(tmpdir(), "vpnham-arm64-"));
      try {
        const pair = await startPair(work, "127.77.4", arm64(), inCi ? 60_000 : 30_000);
        await pair.stop();
        for (const host of pair.hosts) {
          const { code } = await host.exited;
          assert.equal(code, 0, `arm64 vpnham exit after SIGTERM:\n${readFileSync(host.logPath, "utf8").slice(-2000)}`);
        }
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    });
  });
});
