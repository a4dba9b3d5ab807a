import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfigWith } from "../../src/config/index.ts";

/** Every vpnham config shown in README.md and docs/*.md loads, without warnings on a host that has its interfaces. */
const root = new URL("../../", import.meta.url).pathname;
const pages = ["README.md", ...readdirSync(join(root, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];

function configBlocks(text: string): string[] {
  return [...text.matchAll(/^```ya?ml\n([\s\S]*?)^```$/gm)].map((m) => m[1]!).filter((block) => /^bridges:/m.test(block));
}

test("the configs shown in the README and docs/ are valid", () => {
  let shown = 0;
  for (const page of pages) {
    for (const block of configBlocks(readFileSync(join(root, page), "utf8"))) {
      shown++;
      const { warnings } = parseConfigWith(block, { sourceName: page, interfaceNames: new Set(["eth0", "eth1", "eth2"]) });
      assert.deepEqual(warnings, [], page);
    }
  }
  assert.ok(shown >= 2, "the README and docs/config.md each show a config");
});
