import { test } from "node:test";
import assert from "node:assert/strict";
import { generatedPart, isGeneratedPartFresh, replaceGeneratedPart } from "../../src/docs/markers.ts";

const doc = "# Title\n\nby hand\n\n<!-- generated:table -->\nold\n<!-- /generated -->\n\nmore by hand\n<!-- generated:other -->\nkeep\n<!-- /generated -->\n";

test("replaceGeneratedPart rewrites only the named part and keeps the hand-written text", () => {
  const after = replaceGeneratedPart(doc, "table", "| a |\n|---|\n");
  assert.equal(after, doc.replace("\nold\n", "\n\n| a |\n|---|\n\n"));
  assert.equal(generatedPart(after, "other"), "\nkeep\n", "the other part is untouched");
  assert.equal(replaceGeneratedPart(after, "table", "| a |\n|---|\n"), after, "idempotent");
});

test("isGeneratedPartFresh ignores surrounding blank lines only", () => {
  assert.ok(isGeneratedPartFresh(doc, "table", "old"));
  assert.ok(isGeneratedPartFresh(doc, "table", "\n\nold\n"));
  assert.ok(!isGeneratedPartFresh(doc, "table", "new"));
  assert.ok(!isGeneratedPartFresh(doc, "missing", "old"));
});

test("missing markers are an error naming them", () => {
  assert.equal(generatedPart(doc, "missing"), undefined);
  assert.throws(() => replaceGeneratedPart(doc, "missing", "x"), /<!-- generated:missing -->/);
  assert.throws(() => replaceGeneratedPart("<!-- generated:open -->\nno end", "open", "x"), /missing markers/);
});
