import { test } from "node:test";
import assert from "node:assert/strict";
import { UserError, errorMessage } from "../../src/util/errors.ts";

test("UserError keeps every problem", () => {
  const e = new UserError("two problems", ["a: bad", "b: bad"]);
  assert.equal(e.name, "UserError");
  assert.deepEqual(e.problems, ["a: bad", "b: bad"]);
  assert.equal(errorMessage(e), "two problems");
  assert.equal(errorMessage("x"), "x");
});
