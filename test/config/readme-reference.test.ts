import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describeConfigSchema } from "../../src/config/index.ts";

test("the README's config reference is the one generated from the schema", () => {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const match = /<!-- config-reference:start -->\n([\s\S]*?)<!-- config-reference:end -->/.exec(readme);
  assert.ok(match, "README has the config-reference markers");
  assert.equal(match[1]!.trim(), describeConfigSchema().trim(), "regenerate it: see README, Development");
});
