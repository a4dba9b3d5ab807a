import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describeConfigSchema } from "../../src/config/index.ts";
import { generatedPart } from "../../src/docs/markers.ts";
import { REGENERATE_COMMAND } from "../../src/docs/generate.ts";

test("docs/config.md's reference is the one generated from the schema", () => {
  const doc = readFileSync(new URL("../../docs/config.md", import.meta.url), "utf8");
  const part = generatedPart(doc, "config-reference");
  assert.ok(part !== undefined, "docs/config.md has the <!-- generated:config-reference --> markers");
  assert.equal(part.trim(), describeConfigSchema().trim(), `docs/config.md is stale: run \`${REGENERATE_COMMAND}\``);
});
