import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { LineSplitter, commandLabel, encodeResponse, parseRequest } from "../../src/control/protocol.ts";

describe("control protocol: parseRequest", () => {
  const table: [string, string, ReturnType<typeof parseRequest>][] = [
    ["status with an id", '{"id":7,"command":"status"}', { ok: true, request: { id: 7, command: "status" } }],
    ["reload without an id", '{"command":"reload"}', { ok: true, request: { id: null, command: "reload" } }],
    ["string ids are kept", '{"id":"a","command":"status"}', { ok: true, request: { id: "a", command: "status" } }],
    ["not JSON", "status", { ok: false, id: null, error: "not JSON: send one JSON object per line" }],
    ["an array", "[1]", { ok: false, id: null, error: "a request is a JSON object" }],
    ["null", "null", { ok: false, id: null, error: "a request is a JSON object" }],
    ["unknown command keeps the id", '{"id":3,"command":"rm -rf"}', { ok: false, id: 3, error: "command must be one of status, reload" }],
    ["prototype keys are just unknown", '{"command":"__proto__"}', { ok: false, id: null, error: "command must be one of status, reload" }],
    ["object ids are dropped", '{"id":{"x":1},"command":"status"}', { ok: true, request: { id: null, command: "status" } }],
  ];
  for (const [name, line, expected] of table) test(name, () => assert.deepEqual(parseRequest(line), expected));

  const jobs = ["status", "reload", "drain"];
  const withArgs: [string, string, ReturnType<typeof parseRequest>][] = [
    ["a job's command with args", '{"id":1,"command":"drain","args":{"target":"web","reason":"x"}}', { ok: true, request: { id: 1, command: "drain", args: { target: "web", reason: "x" } } }],
    ["a job's command without args", '{"id":1,"command":"drain"}', { ok: true, request: { id: 1, command: "drain" } }],
    ["args must be an object", '{"id":2,"command":"drain","args":["web"]}', { ok: false, id: 2, error: "args must be a JSON object" }],
    ["null args are refused too", '{"id":2,"command":"drain","args":null}', { ok: false, id: 2, error: "args must be a JSON object" }],
    ["a command the server does not serve", '{"id":3,"command":"undrain"}', { ok: false, id: 3, error: "command must be one of status, reload, drain" }],
  ];
  for (const [name, line, expected] of withArgs) test(name, () => assert.deepEqual(parseRequest(line, jobs), expected));

  test("metric label is bounded: a known command or invalid", () => {
    assert.equal(commandLabel(parseRequest('{"command":"status"}')), "status");
    assert.equal(commandLabel(parseRequest('{"command":"\\u001b[2J"}')), "invalid");
  });

  test("answers are one line of JSON, escapes included", () => {
    const line = encodeResponse({ id: 1, ok: false, error: "bad\nthing\u001b[2J" });
    assert.equal(line.indexOf("\n"), line.length - 1);
    assert.ok(!line.includes("\u001b"));
  });
});

describe("control protocol: LineSplitter", () => {
  test("lines across chunks, CRLF, blank lines", () => {
    const s = new LineSplitter(100);
    assert.deepEqual(s.push('{"a"'), { lines: [], overflow: false });
    assert.deepEqual(s.push(':1}\r\n\n{"b":2}\n{"c"'), { lines: ['{"a":1}', '{"b":2}'], overflow: false });
    assert.deepEqual(s.push(":3}\n"), { lines: ['{"c":3}'], overflow: false });
  });

  test("an endless line overflows once past the cap, without a newline ever coming", () => {
    const s = new LineSplitter(100);
    assert.equal(s.push("x".repeat(60)).overflow, false);
    assert.equal(s.push("x".repeat(60)).overflow, true);
  });

  test("a complete line longer than the cap overflows too", () => {
    assert.equal(new LineSplitter(10).push(`${"y".repeat(20)}\n`).overflow, true);
  });
});
