import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { stringify } from "yaml";
import { loadConfig } from "../../src/config/index.ts";
import { loadConfigOffThread } from "../../src/config/load-off-thread.ts";
import { UserError } from "../../src/util/errors.ts";
import { base } from "./support.ts";

const dir = mkdtempSync(join(tmpdir(), "vpnham-h-files-worker-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("a config loaded in the worker equals one loaded here (so a reload keeps unchanged bridges)", async () => {
  const data = base();
  data.bridges.b.secret_file = "secret";
  writeFileSync(join(dir, "secret"), "0123456789abcdef-long-enough\n", { mode: 0o600 });
  writeFileSync(join(dir, "good.yaml"), stringify(data));
  const here = await loadConfig(join(dir, "good.yaml"));
  const there = await loadConfigOffThread(join(dir, "good.yaml"));
  assert.deepEqual(there, here);
  assert.ok(isDeepStrictEqual(there.config.bridges[0], here.config.bridges[0]), "the daemon's reload comparison sees no change");
});

test("its problems come back as a UserError, a FIFO among them", async () => {
  const data = base();
  data.bridges.b.role = "boss";
  writeFileSync(join(dir, "bad.yaml"), stringify(data));
  await assert.rejects(loadConfigOffThread(join(dir, "bad.yaml")), (e: unknown) => e instanceof UserError && e.problems[0]!.startsWith("bridges.b.role: "));
  assert.equal(spawnSync("mkfifo", [join(dir, "fifo.yaml")]).status, 0);
  await assert.rejects(loadConfigOffThread(join(dir, "fifo.yaml")), (e: unknown) => e instanceof UserError && /not a regular file: a FIFO/.test(e.message));
});

test("a load that takes too long is given up", async () => {
  writeFileSync(join(dir, "slow.yaml"), stringify(base()));
  await assert.rejects(loadConfigOffThread(join(dir, "slow.yaml"), 1), (e: unknown) => e instanceof UserError && /took longer than 1 ms/.test(e.message));
});
