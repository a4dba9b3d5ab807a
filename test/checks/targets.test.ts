import { test } from "node:test";
import assert from "node:assert/strict";
import { checkNameProblem, defaultExpectedStatus, defaultStatusRanges, formatIpvsService, parseIpvsService, parsePingHost, parseStatusRanges, statusExpected } from "../../src/checks/targets.ts";

const statusTable: Array<[input: unknown, ok: string | RegExp]> = [
  ["200-399", "200-399"],
  [200, "200-200"],
  ["200", "200-200"],
  ["200,204", "200-200 204-204"],
  [[200, "300-308"], "200-200 300-308"],
  [" 200 - 299 ", "200-299"],
  ["99", /not a status code/],
  ["600", /outside 100..599/],
  ["399-200", /empty range/],
  [[], /empty list/],
  ["2xx", /not a status code/],
  [true, /not a status code/],
];

for (const [input, expected] of statusTable) {
  test(`status ranges: ${JSON.stringify(input)}`, () => {
    const parsed = parseStatusRanges(input);
    if (typeof expected === "string") {
      assert.ok(parsed.ok, parsed.ok ? "" : parsed.error);
      assert.equal(parsed.value.map((r) => `${r.min}-${r.max}`).join(" "), expected);
    } else {
      assert.ok(!parsed.ok);
      assert.match(parsed.error, expected);
    }
  });
}

test("status expected: inclusive bounds", () => {
  const ranges = [{ min: 200, max: 399 }, { min: 503, max: 503 }];
  assert.deepEqual([199, 200, 399, 400, 503, 504].map((code) => statusExpected(ranges, code)), [false, true, true, false, true, false]);
});

const ipvsTable: Array<[input: string, result: string | RegExp]> = [
  ["TCP 10.0.0.100:80", "TCP 10.0.0.100:80"],
  ["udp [2001:DB8::1]:53", "UDP [2001:db8::1]:53"],
  ["sctp 10.0.0.1:3868", "SCTP 10.0.0.1:3868"],
  ["FWM 5", "FWM 5"],
  ["FWM 0", /not a number/],
  ["FWM x", /not a number/],
  ["ICMP 10.0.0.1:1", /not one of TCP, UDP, SCTP, FWM/],
  ["TCP 10.0.0.1", /missing port/],
  ["TCP", /expected/],
  ["TCP host.example:80", /not an IP address/],
];

for (const [input, expected] of ipvsTable) {
  test(`ipvs service: ${input}`, () => {
    const parsed = parseIpvsService(input);
    if (typeof expected === "string") {
      assert.ok(parsed.ok, parsed.ok ? "" : parsed.error);
      assert.equal(formatIpvsService(parsed.value), expected);
    } else {
      assert.ok(!parsed.ok);
      assert.match(parsed.error, expected);
    }
  });
}

const pingTable: Array<[input: string, result: string | RegExp]> = [
  ["127.0.0.1", "127.0.0.1"],
  ["::1", "::1"],
  ["2001:DB8::1", "2001:db8::1"],
  ["gw.example.net", "gw.example.net"],
  ["gw.example.net.", "gw.example.net."],
  ["-f", /neither an IP address nor a host name/], // never an option of ping
  ["--help", /neither/],
  ["010.0.0.1", /not an IP address/], // ping would read it as octal
  ["fe80::1%eth0", /not an IP address/],
  ["a b", /neither/],
  ["", /neither/],
];

for (const [input, expected] of pingTable) {
  test(`ping host: ${JSON.stringify(input)}`, () => {
    const parsed = parsePingHost(input);
    if (typeof expected === "string") {
      assert.ok(parsed.ok, parsed.ok ? "" : parsed.error);
      assert.equal(parsed.value, expected);
    } else {
      assert.ok(!parsed.ok);
      assert.match(parsed.error, expected);
    }
  });
}

test("check names: plain label values only", () => {
  assert.equal(checkNameProblem("web-1.frontend_a"), undefined);
  for (const bad of ["", "-x", "a b", "a\"b", "x".repeat(65), "ü"]) assert.ok(checkNameProblem(bad), bad);
});

test("the default status ranges are the documented default", () => {
  const parsed = parseStatusRanges(defaultExpectedStatus);
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.value, defaultStatusRanges);
});
