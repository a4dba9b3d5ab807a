import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { bindsConflict, formatIp, parseCidr, parseHostPort, parseIp, type HostPort } from "../../src/config/address.ts";

function hp(text: string): HostPort {
  const parsed = parseHostPort(text);
  assert.ok(parsed.ok, `${text}: ${parsed.ok ? "" : parsed.error}`);
  return parsed.value;
}

describe("parseHostPort", () => {
  test("IPv4", () => assert.deepEqual(hp("10.0.0.2:8080"), { host: "10.0.0.2", port: 8080, family: 4, text: "10.0.0.2:8080" }));
  test("bracketed IPv6, canonicalised host", () =>
    assert.deepEqual(hp("[FD00:0:0::1]:3003"), { host: "fd00::1", port: 3003, family: 6, text: "[FD00:0:0::1]:3003" }));
  test("unbracketed IPv6 splits at the last colon, as Go does", () => assert.deepEqual(hp("::1:8080"), { host: "::1", port: 8080, family: 6, text: "::1:8080" }));
  test("IPv4-mapped IPv6 is IPv4", () => assert.equal(hp("[::ffff:10.0.0.2]:80").host, "10.0.0.2"));
  test("port bounds", () => {
    assert.equal(hp("1.2.3.4:1").port, 1);
    assert.equal(hp("1.2.3.4:65535").port, 65535);
  });
  const invalid: Array<[string, RegExp]> = [
    ["10.0.0.2", /missing port/],
    ["10.0.0.2:0", /out of range 1\.\.65535/],
    ["10.0.0.2:65536", /out of range 1\.\.65535/],
    ["10.0.0.2:http", /not a number/],
    [":8000", /missing IP address/],
    ["localhost:8000", /not an IP address/],
    ["010.0.0.2:80", /not an IP address/],
    ["256.0.0.1:80", /not an IP address/],
    ["[fe80::1%eth0]:80", /zones/],
    ["[1::2::3]:80", /not an IP address/],
  ];
  for (const [text, error] of invalid) {
    test(`${text} is rejected`, () => {
      const parsed = parseHostPort(text);
      assert.equal(parsed.ok, false);
      if (!parsed.ok) assert.match(parsed.error, error);
    });
  }
});

describe("IP text", () => {
  const table: Array<[string, string]> = [
    ["2001:DB8:0:0:0:0:0:1", "2001:db8::1"],
    ["2001:db8:0:1:0:0:0:1", "2001:db8:0:1::1"],
    ["2001:0:0:1:0:0:0:1", "2001:0:0:1::1"],
    ["::", "::"],
    ["1::", "1::"],
    ["1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"],
    ["64:ff9b::1.2.3.4", "64:ff9b::102:304"],
  ];
  for (const [input, canonical] of table) {
    test(`${input} → ${canonical}`, () => assert.equal(formatIp(parseIp(input)!), canonical));
  }
});

describe("parseCidr", () => {
  test("IPv4 network", () =>
    assert.deepEqual(parseCidr("10.1.0.0/16"), {
      ok: true,
      value: { text: "10.1.0.0/16", written: "10.1.0.0/16", family: 4, prefixLength: 16, hostBitsSet: false },
    }));
  test("host bits are cleared and reported", () => {
    const parsed = parseCidr("10.1.2.3/16");
    assert.ok(parsed.ok);
    assert.equal(parsed.value.text, "10.1.0.0/16");
    assert.equal(parsed.value.hostBitsSet, true);
  });
  test("IPv6 network", () => {
    const parsed = parseCidr("FD00:1:0::5/64");
    assert.ok(parsed.ok);
    assert.equal(parsed.value.text, "fd00:1::/64");
    assert.equal(parsed.value.family, 6);
  });
  test("odd prefix lengths mask inside a byte", () => {
    const parsed = parseCidr("192.168.255.19/28");
    assert.ok(parsed.ok);
    assert.equal(parsed.value.text, "192.168.255.16/28");
  });
  for (const text of ["10.1.0.0", "10.1.0.0/33", "10.1.0.0/-1", "fd00::/129", "example.com/8", "10.1.0.0/016"]) {
    test(`${text} is rejected`, () => assert.equal(parseCidr(text).ok, false));
  }
});

describe("bindsConflict", () => {
  const table: Array<[string, string, boolean]> = [
    ["10.0.0.2:8080", "10.0.0.2:8080", true],
    ["10.0.0.2:8080", "10.0.0.2:8081", false],
    ["10.0.0.2:8080", "10.0.0.3:8080", false],
    ["0.0.0.0:8000", "10.0.0.2:8000", true],
    ["0.0.0.0:8000", "10.0.0.2:8080", false],
    ["0.0.0.0:8000", "[fd00::1]:8000", false],
    ["[::]:8000", "10.0.0.2:8000", true],
    ["[::]:8000", "[fd00::1]:8000", true],
    ["[fd00::1]:8000", "[fd00::2]:8000", false],
  ];
  for (const [a, b, conflict] of table) {
    test(`${a} vs ${b}: ${conflict ? "conflict" : "fine"}`, () => {
      assert.equal(bindsConflict(hp(a), hp(b)), conflict);
      assert.equal(bindsConflict(hp(b), hp(a)), conflict);
    });
  }
});
