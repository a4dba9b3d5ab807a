import { test } from "node:test";
import assert from "node:assert/strict";
import { formatResponse } from "../../src/http/response.ts";

test("a byte body is sent as exactly its own bytes, also when it is a view into a larger buffer", () => {
  const backing = Buffer.from("xxHELLOyy", "latin1");
  const view = backing.subarray(2, 7);
  const bytes = formatResponse({ status: 200, body: view }, { omitBody: false, close: false, nowMs: 0 }).toString("latin1");
  assert.match(bytes, /\r\nContent-Length: 5\r\n/);
  assert.ok(bytes.endsWith("\r\n\r\nHELLO"), JSON.stringify(bytes));
  const typed = new Uint8Array([0x41, 0x42, 0x43]).subarray(1);
  assert.ok(formatResponse({ status: 200, body: typed }, { omitBody: false, close: false, nowMs: 0 }).toString("latin1").endsWith("\r\n\r\nBC"));
});
