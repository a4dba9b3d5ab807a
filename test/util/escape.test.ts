import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { escapeControl, escapeJsonControl } from "../../src/util/escape.ts";

describe("escapeControl: text for a terminal or a log line", () => {
  const table: Array<[string, string, string]> = [
    ["plain text is untouched", "bridge vpnham-dev-lft (active) — ünïcödé ✓", "bridge vpnham-dev-lft (active) — ünïcödé ✓"],
    ["a backslash stays one", "C:\\path", "C:\\path"],
    ["ESC: title change", "\x1b]0;owned\x07", "\\x1b]0;owned\\x07"],
    ["ESC: clear screen", "\x1b[2J\x1b[H", "\\x1b[2J\\x1b[H"],
    ["CR and LF: forged lines", "ok\r\n12:00:00.000 INFO  [roles] fake", "ok\\r\\n12:00:00.000 INFO  [roles] fake"],
    ["TAB", "a\tb", "a\\tb"],
    ["NUL and other C0", "\x00\x01\x08\x0b\x0c\x1f", "\\x00\\x01\\x08\\x0b\\x0c\\x1f"],
    ["DEL", "a\x7fb", "a\\x7fb"],
    ["C1, e.g. the 8-bit CSI and NEL", "\x9b2J\x85\x80\x9f", "\\x9b2J\\x85\\x80\\x9f"],
    ["bidi embeddings and overrides", "\u202a\u202b\u202c\u202d\u202e", "\\u202a\\u202b\\u202c\\u202d\\u202e"],
    ["bidi isolates", "\u2066\u2067\u2068\u2069", "\\u2066\\u2067\\u2068\\u2069"],
    ["bidi marks", "\u200e\u200f\u061c", "\\u200e\\u200f\\u061c"],
    ["line and paragraph separators", "a\u2028b\u2029c", "a\\u2028b\\u2029c"],
    ["the characters just outside the ranges are kept", " ~\u00a0\u2029x\u2065\u206a\u2029", " ~\u00a0\\u2029x\u2065\u206a\\u2029"],
  ];
  for (const [what, input, expected] of table) {
    test(what, () => assert.equal(escapeControl(input), expected));
  }

  test("no output character is a control character, whatever the input", () => {
    let all = "";
    for (let code = 0; code < 0x3000; code++) all += String.fromCharCode(code);
    assert.doesNotMatch(escapeControl(all), /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/);
  });
});

describe("escapeJsonControl: JSON text that stays valid JSON", () => {
  test("what JSON.stringify leaves raw (DEL, C1, bidi) becomes \\u escapes; C0 was escaped already", () => {
    const value = { msg: "\x1b[2J\x7f\x9b\u202egnp.exe\u2028" };
    const json = escapeJsonControl(JSON.stringify(value));
    assert.equal(json, '{"msg":"\\u001b[2J\\u007f\\u009b\\u202egnp.exe\\u2028"}');
    assert.deepEqual(JSON.parse(json), value, "the same value when read back");
  });

  test("the newlines of indented JSON are structure and stay", () => {
    const json = escapeJsonControl(JSON.stringify({ a: "\u202e" }, null, 2));
    assert.equal(json, '{\n  "a": "\\u202e"\n}');
  });
});
