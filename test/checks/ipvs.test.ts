import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { activeRealServers, parseIpvs } from "../../src/checks/ipvs.ts";
import { parseIpvsService, type IpvsService } from "../../src/checks/targets.ts";

// No ip_vs module on the build machines: the fixture is written byte for byte in the format of
// the kernel's ip_vs_info_seq_show (trailing spaces, %-7s %-6d %-10d %-10d columns, IPv6 as
// full-length groups), covering IPv4, IPv6, FWM, persistent and SCTP services.
const fixture = readFileSync(new URL("./fixtures/proc-net-ip_vs.txt", (import.meta as unknown as { url: string }).url), "utf8");

function service(text: string): IpvsService {
  const parsed = parseIpvsService(text);
  assert.ok(parsed.ok, text);
  return parsed.value;
}

test("ipvs: every service of the capture with its real servers", () => {
  const entries = parseIpvs(fixture);
  assert.deepEqual(
    entries.map((e) => [e.service, e.scheduler, e.realServers.map((r) => `${r.host}:${r.port} ${r.forward} w${r.weight} ${r.activeConns}/${r.inactiveConns}`)]),
    [
      [{ protocol: "TCP", host: "10.0.0.100", port: 80 }, "rr", ["192.168.1.11:8080 Masq w1 3/17", "192.168.1.12:8080 Masq w0 0/2", "192.168.1.13:8080 Masq w2 5/40"]],
      [{ protocol: "UDP", host: "10.0.0.100", port: 53 }, "wrr", ["192.168.1.21:53 Route w0 0/0"]],
      [{ protocol: "TCP", host: "10.0.0.101", port: 8443 }, "sh", []],
      [{ protocol: "TCP", host: "2001:db8::64", port: 443 }, "wlc", ["2001:db8:1::11:443 Route w1 0/1", "2001:db8:1::12:443 Tunnel w1 2/0"]],
      [{ protocol: "FWM", fwmark: 5 }, "sh", ["192.168.1.31:0 Route w1 0/0"]],
      [{ protocol: "SCTP", host: "10.0.0.102", port: 3868 }, "lc", ["192.168.1.41:3868 Masq w1 0/0"]],
    ],
  );
});

const table: Array<[query: string, expected: number | undefined]> = [
  ["TCP 10.0.0.100:80", 2], // weight 0 is drained, not counted
  ["tcp 10.0.0.100:80", 2],
  ["UDP 10.0.0.100:53", 0],
  ["TCP 10.0.0.100:53", undefined], // protocol matters
  ["TCP 10.0.0.101:8443", 0],
  ["TCP [2001:db8::64]:443", 2],
  ["TCP [2001:0db8:0:0::64]:443", 2], // any spelling of the address
  ["FWM 5", 1],
  ["FWM 6", undefined],
  ["SCTP 10.0.0.102:3868", 1],
  ["TCP 10.0.0.99:80", undefined],
];

for (const [query, expected] of table) {
  test(`ipvs: active real servers of ${query} = ${expected}`, () => {
    assert.equal(activeRealServers(parseIpvs(fixture), service(query)), expected);
  });
}

test("ipvs: empty table, header only, garbage and real servers without a service", () => {
  assert.deepEqual(parseIpvs(""), []);
  assert.deepEqual(parseIpvs(fixture.split("\n").slice(0, 3).join("\n")), []);
  assert.deepEqual(parseIpvs("  -> 0A000001:0050      Masq    1      0          0\nnonsense\n\0\0\0"), []);
  // A service line cut off mid-read (proc files are read in pages) does not borrow the next servers.
  const cut = "TCP  0A000064:00\n  -> C0A8010B:1F90      Masq    1      3          17\n";
  assert.deepEqual(parseIpvs(cut), []);
});

test("ipvs: a real-server line with a malformed weight column is not counted", () => {
  const text = "TCP  0A000064:0050 rr  \n  -> C0A8010B:1F90      Masq    x      3          17\n";
  assert.equal(activeRealServers(parseIpvs(text), service("TCP 10.0.0.100:80")), 0);
});
