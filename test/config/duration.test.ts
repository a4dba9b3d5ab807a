import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { formatDurationMs, parseDurationMs } from "../../src/config/duration.ts";

describe("parseDurationMs", () => {
  const valid: Array<[string, number]> = [
    ["1s", 1000],
    ["250ms", 250],
    ["1m30s", 90_000],
    ["1.5s", 1500],
    ["100us", 0.1],
    ["100µs", 0.1],
    ["100μs", 0.1],
    ["1500ns", 0.0015],
    ["2h", 7_200_000],
    ["1h2m3s4ms", 3_723_004],
    [".5s", 500],
    ["1.s", 1000],
    ["-1s", -1000],
    ["+2ms", 2],
    ["0", 0],
    ["0s", 0],
    [" 1s ", 1000],
  ];
  for (const [text, ms] of valid) {
    test(`${JSON.stringify(text)} is ${ms} ms`, () => assert.equal(parseDurationMs(text), ms));
  }

  const invalid: Array<[string, RegExp]> = [
    ["", /empty/],
    ["5", /bare number.*use a unit, e\.g\. 1s/],
    ["1.5", /bare number/],
    ["-5", /bare number/],
    ["1x", /unknown unit "x"/],
    ["1sec", /unknown unit "sec"/],
    ["s", /invalid duration/],
    [".s", /missing number/],
    ["1s2", /invalid duration/],
    ["-", /invalid duration/],
    ["9999999h", /out of range/],
  ];
  for (const [text, message] of invalid) {
    test(`${JSON.stringify(text)} is rejected`, () => assert.throws(() => parseDurationMs(text), message));
  }
});

describe("formatDurationMs", () => {
  const table: Array<[number, string]> = [
    [0, "0s"],
    [1000, "1s"],
    [90_000, "1m30s"],
    [1500, "1.5s"],
    [250, "250ms"],
    [0.1, "100us"],
    [0.0015, "1500ns"],
    [3_600_000, "1h"],
    [-2000, "-2s"],
  ];
  for (const [ms, text] of table) {
    test(`${ms} ms is ${text}`, () => assert.equal(formatDurationMs(ms), text));
  }
  test("round-trips through parseDurationMs", () => {
    for (const ms of [1, 999, 1000, 61_500, 3_723_004, 0.25]) assert.equal(parseDurationMs(formatDurationMs(ms)), ms);
  });
});
