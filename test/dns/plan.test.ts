import { test } from "node:test";
import assert from "node:assert/strict";
import { describeChange, planRecords, type DnsRecord, type NameDesired } from "../../src/dns/plan.ts";

const name = "vpn.example.test";
const want = (present: string[], absent: string[], ttlS = 60): NameDesired => ({ name, ttlS, present, absent });
const a = (address: string, ttlS = 60): DnsRecord => ({ type: address.includes(":") ? "AAAA" : "A", address, ttlS });
const plan = (desired: NameDesired, actual: DnsRecord[]) => {
  const result = planRecords(desired, actual);
  return { changes: result.changes.map((c) => describeChange(name, c)), kept: result.kept };
};

test("plan table: adds and deletes against what DNS holds", () => {
  const rows: Array<[NameDesired, DnsRecord[], string[]]> = [
    [want(["192.0.2.1", "192.0.2.2"], []), [a("192.0.2.1"), a("192.0.2.2")], []],
    [want(["192.0.2.1"], ["192.0.2.2"]), [a("192.0.2.1"), a("192.0.2.2")], ["delete vpn.example.test. A 192.0.2.2"]],
    [want(["192.0.2.1"], ["192.0.2.2"]), [a("192.0.2.1")], []],
    [want(["192.0.2.1", "192.0.2.2"], []), [a("192.0.2.1")], ["add vpn.example.test. 60 A 192.0.2.2"]],
    [want(["192.0.2.2"], ["192.0.2.1"]), [a("192.0.2.1")], ["add vpn.example.test. 60 A 192.0.2.2", "delete vpn.example.test. A 192.0.2.1"]],
    // hold: neither listed → left as it is (present or not)
    [want([], []), [a("192.0.2.1")], []],
    // records of other addresses are never touched
    [want(["192.0.2.1"], []), [a("192.0.2.1"), a("198.51.100.7")], []],
    [want(["192.0.2.1"], ["192.0.2.2"]), [a("198.51.100.7"), a("192.0.2.2")], ["add vpn.example.test. 60 A 192.0.2.1", "delete vpn.example.test. A 192.0.2.2"]],
    // TTL drift is repaired by adding again with the configured TTL
    [want(["192.0.2.1"], []), [a("192.0.2.1", 300)], ["add vpn.example.test. 60 A 192.0.2.1 (TTL 300 → 60)"]],
    // AAAA the same way, independently of A
    [want(["2001:db8::1"], ["2001:db8::2"]), [a("2001:db8::1"), a("2001:db8::2"), a("192.0.2.1")], ["delete vpn.example.test. AAAA 2001:db8::2"]],
  ];
  for (const [desired, actual, changes] of rows) {
    assert.deepEqual(plan(desired, actual), { changes, kept: [] }, JSON.stringify({ desired, actual }));
  }
});

test("plan: the last record of a type is never deleted (fail open), whatever the target says", () => {
  assert.deepEqual(plan(want([], ["192.0.2.1"]), [a("192.0.2.1")]), { changes: [], kept: [{ type: "A", addresses: ["192.0.2.1"] }] });
  assert.deepEqual(plan(want([], ["192.0.2.1", "192.0.2.2"]), [a("192.0.2.1"), a("192.0.2.2")]), {
    changes: [],
    kept: [{ type: "A", addresses: ["192.0.2.1", "192.0.2.2"] }],
  });
  // The AAAA set does not count for the A set: an IPv4-only client would be left with nothing.
  assert.deepEqual(plan(want(["2001:db8::1"], ["192.0.2.1"]), [a("192.0.2.1"), a("2001:db8::1")]).kept, [{ type: "A", addresses: ["192.0.2.1"] }]);
  // An address being added makes room for the deletion.
  assert.deepEqual(plan(want(["192.0.2.2"], ["192.0.2.1"]), [a("192.0.2.1")]).kept, []);
  // A TTL correction is no new address: the set would still be emptied.
  assert.deepEqual(plan(want([], ["192.0.2.1"]), [a("192.0.2.1", 300)]).kept, [{ type: "A", addresses: ["192.0.2.1"] }]);
  // An unmanaged record keeps the set non-empty, so ours may go.
  assert.deepEqual(plan(want([], ["192.0.2.1"]), [a("192.0.2.1"), a("198.51.100.7")]).changes, ["delete vpn.example.test. A 192.0.2.1"]);
});
