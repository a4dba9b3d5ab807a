import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  drain,
  drainOf,
  emptyDrainState,
  formatDrainState,
  parseDrainState,
  prefixContains,
  prefixesOfAddresses,
  resolveDrainTarget,
  undrain,
} from "../../src/announce/drains.ts";
import { announceConfig, twoServices } from "./support.ts";

const config = announceConfig(twoServices);

describe("announce drains: what a target names", () => {
  const table: [string, string, ReturnType<typeof resolveDrainTarget>][] = [
    ["a service", "web", { kind: "service", service: "web" }],
    ["a configured prefix", "192.0.2.10/32", { kind: "prefixes", prefixes: ["192.0.2.10/32"] }],
    ["a prefix written differently", "2001:DB8:0::10/128", { kind: "prefixes", prefixes: ["2001:db8::10/128"] }],
    ["an address of a host prefix", "192.0.2.10", { kind: "prefixes", prefixes: ["192.0.2.10/32"] }],
    ["an address inside a wider prefix", "198.51.100.7", { kind: "prefixes", prefixes: ["198.51.100.0/24"] }],
    ["a DNS name", "vip-1.example.com.", { kind: "dns_name", name: "vip-1.example.com" }],
    ["an unknown prefix is refused", "203.0.113.1/32", { kind: "unknown", error: "203.0.113.1/32 is not a configured prefix (have 192.0.2.10/32, 2001:db8::10/128, 198.51.100.0/24)" }],
    ["an address in no prefix is refused", "203.0.113.1", { kind: "unknown", error: "203.0.113.1 is in no configured prefix (have 192.0.2.10/32, 2001:db8::10/128, 198.51.100.0/24)" }],
    ["a prefix with host bits is refused", "192.0.2.10/24", { kind: "unknown", error: '"192.0.2.10/24": "192.0.2.10/24" has host bits set (the network is 192.0.2.0/24)' }],
    ["an unknown word is refused", "webb", { kind: "unknown", error: '"webb" is neither a service (web, db), a configured prefix, an address nor a DNS name' }],
    ["shell-ish text is refused", "web && reboot", { kind: "unknown", error: '"web && reboot" is neither a service (web, db), a configured prefix, an address nor a DNS name' }],
  ];
  for (const [name, target, expected] of table) test(name, () => assert.deepEqual(resolveDrainTarget(config, target), expected));

  test("a DNS name's addresses map to prefixes; addresses in none are reported", () => {
    assert.deepEqual(prefixesOfAddresses(config, ["192.0.2.10", "2001:db8::10", "203.0.113.9"]), {
      prefixes: ["192.0.2.10/32", "2001:db8::10/128"],
      unmatched: ["203.0.113.9"],
    });
  });

  test("prefix containment", () => {
    assert.equal(prefixContains("198.51.100.0/24", "198.51.100.255"), true);
    assert.equal(prefixContains("198.51.100.0/24", "198.51.101.0"), false);
    assert.equal(prefixContains("2001:db8::/32", "2001:db8:ffff::1"), true);
    assert.equal(prefixContains("2001:db8::/32", "192.0.2.1"), false);
    assert.equal(prefixContains("0.0.0.0/0", "8.8.8.8"), true);
  });
});

describe("announce drains: state", () => {
  test("drain and undrain a service and prefixes", () => {
    let state = drain(emptyDrainState, { kind: "service", service: "web" }, { sinceMs: 5, reason: "maintenance" });
    state = drain(state, { kind: "prefixes", prefixes: ["198.51.100.0/24"] }, { sinceMs: 6, via: "db.example.com" });
    assert.deepEqual(drainOf(state, "web", "192.0.2.10/32"), { sinceMs: 5, reason: "maintenance", by: "service" });
    assert.deepEqual(drainOf(state, "db", "198.51.100.0/24"), { sinceMs: 6, via: "db.example.com", by: "prefix" });
    const lifted = undrain(state, { kind: "prefixes", prefixes: ["198.51.100.0/24", "192.0.2.10/32"] });
    assert.deepEqual(lifted.lifted, ["prefix 198.51.100.0/24"]);
    assert.equal(drainOf(lifted.state, "db", "198.51.100.0/24"), undefined);
    assert.deepEqual(undrain(lifted.state, { kind: "service", service: "web" }).lifted, ["service web"]);
    assert.deepEqual(undrain(emptyDrainState, { kind: "service", service: "web" }).lifted, []);
  });

  test("the state file round-trips, and a bad one is refused with why", () => {
    const state = drain(emptyDrainState, { kind: "service", service: "web" }, { sinceMs: 5, reason: "maintenance" });
    assert.deepEqual(parseDrainState(formatDrainState(state)), { ok: true, value: state });
    assert.deepEqual(parseDrainState("{"), { ok: false, error: "not JSON: " + (() => { try { JSON.parse("{"); } catch (e) { return (e as Error).message; } return ""; })() });
    assert.deepEqual(parseDrainState('{"version":2}'), { ok: false, error: "not a vpnham announce state (version 1)" });
    assert.deepEqual(parseDrainState('{"version":1,"services":{"web":{"reason":"x"}}}'), { ok: false, error: "services.web is not a drain" });
    assert.deepEqual(parseDrainState('{"version":1,"services":{"__proto__":{"sinceMs":1}}}').ok, true);
  });
});
