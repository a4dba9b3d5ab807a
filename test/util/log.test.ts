import { test } from "node:test";
import assert from "node:assert/strict";
import { configureLogger, logger } from "../../src/util/log.ts";

test("children taken before configureLogger follow the later level and format", () => {
  const child = logger.withTag("early");
  const lines: string[] = [];
  const original = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string) => (lines.push(String(chunk)), true)) as typeof process.stdout.write;
  try {
    configureLogger({ level: "info", format: "json" });
    child.info("hello", { bridge: "b1" });
    child.debug("hidden");
    configureLogger({ level: "silent" });
    child.error("also hidden");
  } finally {
    process.stdout.write = original;
    configureLogger({ level: "info" });
  }
  assert.equal(lines.length, 1);
  const event = JSON.parse(lines[0]!);
  assert.equal(event.msg, "hello");
  assert.equal(event.component, "early");
  assert.equal(event.bridge, "b1");
  assert.equal(event.level, "info");
});
