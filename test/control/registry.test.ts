import { test } from "node:test";
import assert from "node:assert/strict";
import { createControlRegistry } from "../../src/control/registry.ts";

test("jobs register their commands once; the daemon's own and odd names are refused", () => {
  const registry = createControlRegistry();
  const drain = async () => "ok";
  registry.register("drain", drain);
  assert.equal(registry.handlers().get("drain"), drain);
  assert.throws(() => registry.register("drain", drain), /registered twice/);
  assert.throws(() => registry.register("status", drain), /registered twice/);
  assert.throws(() => registry.register("Drain Now", drain), /not a plain lower-case word/);
  assert.throws(() => registry.register("__proto__", drain), /not a plain lower-case word/);
  assert.deepEqual([...registry.handlers().keys()], ["drain"]);
});
