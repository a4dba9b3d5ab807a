import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { generatedParts, partLabel, staleParts, writeGeneratedParts } from "../../src/docs/generate.ts";
import { replaceGeneratedPart } from "../../src/docs/markers.ts";

const root = resolve(dirname(fileURLToPath((import.meta as unknown as { url: string }).url)), "..", "..");
const scratch = mkdtempSync(join(tmpdir(), "vpnham-docs-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A copy of every file of docs/ that has generated parts, in a fresh directory. */
function copyDocs(name: string): string {
  const dir = join(scratch, name);
  mkdirSync(dir, { recursive: true });
  for (const file of new Set(generatedParts().map((p) => p.file))) copyFileSync(join(root, "docs", file), join(dir, file));
  return dir;
}

/** Runs `src/main.ts ARGS` under the runtime running the tests. */
function vpnham(args: string[]) {
  const main = join(root, "src", "main.ts");
  const argv = "Deno" in globalThis ? ["run", "-A", main, ...args] : [main, ...args];
  const r = spawnSync(process.execPath, argv, { cwd: root, encoding: "utf8", timeout: 60_000, env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("every generated part of docs/ is up to date", () => {
  assert.deepEqual(staleParts(join(root, "docs")), [], "run `bun src/main.ts docs`");
});

test("writeGeneratedParts restores stale parts and leaves the hand-written text alone", () => {
  const dir = copyDocs("write");
  const original = readFileSync(join(dir, "metrics.md"), "utf8");
  writeFileSync(join(dir, "metrics.md"), replaceGeneratedPart(original, "metrics-reference", "| stale |"));
  assert.deepEqual(staleParts(dir), ["metrics.md: metrics-reference"]);
  assert.deepEqual(writeGeneratedParts(dir), ["metrics.md"]);
  assert.equal(readFileSync(join(dir, "metrics.md"), "utf8"), original);
  assert.deepEqual(writeGeneratedParts(dir), [], "nothing left to change");
});

test("the generated parts cover the config reference, the metrics and their buckets, and the JSON schema", () => {
  assert.deepEqual(generatedParts().map(partLabel), [
    "config.md: config-reference",
    "metrics.md: metrics-reference",
    "metrics.md: metrics-buckets",
    "vpnham.schema.json",
  ]);
});

test("a stale or missing JSON schema is reported by `vpnham docs --check` and rewritten by `vpnham docs`", () => {
  const dir = copyDocs("json");
  const original = readFileSync(join(dir, "vpnham.schema.json"), "utf8");
  writeFileSync(join(dir, "vpnham.schema.json"), original.replace('"type": "object"', '"type": "array"'));
  assert.deepEqual(staleParts(dir), ["vpnham.schema.json"]);
  const check = vpnham(["docs", "--check", "--dir", dir]);
  assert.equal(check.code, 1, check.stderr);
  assert.match(check.stderr, /vpnham\.schema\.json is stale: run `bun src\/main\.ts docs`/);
  assert.equal(vpnham(["docs", "--dir", dir]).code, 0);
  assert.equal(readFileSync(join(dir, "vpnham.schema.json"), "utf8"), original);
  rmSync(join(dir, "vpnham.schema.json"));
  assert.deepEqual(staleParts(dir), ["vpnham.schema.json"]);
  assert.deepEqual(writeGeneratedParts(dir), ["vpnham.schema.json"]);
  assert.equal(readFileSync(join(dir, "vpnham.schema.json"), "utf8"), original);
});

test("`vpnham docs --check` fails on a stale part and says how to fix it; `vpnham docs` fixes it", () => {
  const dir = copyDocs("cli");
  const original = readFileSync(join(dir, "config.md"), "utf8");
  writeFileSync(join(dir, "config.md"), replaceGeneratedPart(original, "config-reference", "| stale |"));
  const check = vpnham(["docs", "--check", "--dir", dir]);
  assert.equal(check.code, 1, check.stderr);
  assert.match(check.stderr, /config\.md: config-reference is stale: run `bun src\/main\.ts docs`/);
  assert.equal(vpnham(["docs", "--dir", dir]).code, 0);
  assert.equal(readFileSync(join(dir, "config.md"), "utf8"), original);
  assert.equal(vpnham(["docs", "--check", "--dir", dir]).code, 0);
});

test("`vpnham docs` is hidden from --help and names a file without markers", () => {
  const help = vpnham(["--help"]);
  assert.equal(help.code, 0);
  assert.doesNotMatch(help.stdout + help.stderr, /\bdocs\b/);
  const dir = copyDocs("no-markers");
  writeFileSync(join(dir, "metrics.md"), "# Metrics\n");
  const r = vpnham(["docs", "--dir", dir]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /error: .*metrics\.md: missing markers <!-- generated:metrics-reference -->/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
});
