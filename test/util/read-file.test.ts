import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileRefusedError, formatBytes, readRegularFile, readRegularFileSync } from "../../src/util/read-file.ts";

const dir = mkdtempSync(join(tmpdir(), "vpnham-h-files-read-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const fifo = join(dir, "fifo");
assert.equal(spawnSync("mkfifo", [fifo]).status, 0, "mkfifo");
mkdirSync(join(dir, "sub"));
writeFileSync(join(dir, "exact"), "x".repeat(1024), { mode: 0o640 });
writeFileSync(join(dir, "over"), "x".repeat(1025));

const readers = [
  ["async", readRegularFile],
  ["sync", async (path: string, maxBytes: number) => readRegularFileSync(path, maxBytes)],
] as const;

for (const [name, read] of readers) {
  describe(`readRegularFile (${name})`, () => {
    test("a regular file up to the cap is read whole, with its mode", async () => {
      const { bytes, mode } = await read(join(dir, "exact"), 1024);
      assert.equal(bytes.length, 1024);
      assert.equal(mode & 0o777, 0o640);
    });

    const refused = (code: string, message: RegExp) => (error: unknown) =>
      error instanceof FileRefusedError && error.code === code && message.test(error.message);

    test("one byte over the cap is refused", async () => {
      await assert.rejects(read(join(dir, "over"), 1024), refused("too_large", /^larger than 1 KiB$/));
    });

    test("devices, FIFOs without a writer and directories are refused at once", async () => {
      const started = performance.now();
      await assert.rejects(read("/dev/zero", 1024), refused("not_regular", /^not a regular file: a character device$/));
      await assert.rejects(read("/dev/urandom", 1024), refused("not_regular", /a character device/));
      await assert.rejects(read(fifo, 1024), refused("not_regular", /^not a regular file: a FIFO$/));
      await assert.rejects(read(join(dir, "sub"), 1024), refused("not_regular", /^not a regular file: a directory$/));
      assert.ok(performance.now() - started < 1000, "no read waited");
    });

    test("a missing file keeps its errno code", async () => {
      await assert.rejects(read(join(dir, "missing"), 1024), (e: NodeJS.ErrnoException) => e.code === "ENOENT");
    });
  });
}

test("formatBytes", () => {
  assert.equal(formatBytes(1 << 20), "1 MiB");
  assert.equal(formatBytes(64 * 1024), "64 KiB");
  assert.equal(formatBytes(1000), "1000 bytes");
});
