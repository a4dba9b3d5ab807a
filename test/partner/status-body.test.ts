import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ZERO_TIME, formatGoTime, formatStatusBody, parseGoTime, parseStatusBody, type BridgeStatus } from "../../src/partner/status-body.ts";

// The Go vpnham v0.0.18's own output (status of an inactive bridge), recorded.
const goInactive = readFileSync(new URL("./fixtures/go-vpnham-0.0.18-status-inactive.json", (import.meta as unknown as { url: string }).url), "utf8");

describe("Go times", () => {
  test("formatGoTime writes RFC 3339 UTC with 9 fractional digits", () => {
    assert.equal(formatGoTime(null), ZERO_TIME);
    assert.equal(formatGoTime(Number.NaN), ZERO_TIME);
    assert.equal(formatGoTime(0), "1970-01-01T00:00:00.000000000Z");
    assert.equal(formatGoTime(Date.UTC(2026, 10, 21, 4, 55, 35, 70)), "2026-11-21T04:55:35.070000000Z");
    // Sub-millisecond fractions become the micro/nanosecond digits.
    assert.match(formatGoTime(Date.UTC(2026, 10, 21, 4, 55, 36, 71) + 0.341), /^2026-11-21T04:55:36\.071341\d{3}Z$/);
    // Rounding up to a whole second carries.
    assert.equal(formatGoTime(1999.9999999), "1970-01-01T00:00:02.000000000Z");
  });

  test("parseGoTime reads what Go writes, including trimmed fractions and offsets", () => {
    assert.equal(parseGoTime(ZERO_TIME), null);
    assert.equal(parseGoTime("2026-11-21T05:13:57Z"), Date.UTC(2026, 10, 21, 5, 13, 57));
    const trimmed = parseGoTime("2026-11-21T05:13:57.68286216Z")!;
    assert.ok(Math.abs(trimmed - (Date.UTC(2026, 10, 21, 5, 13, 57) + 682.86216)) < 1e-3);
    assert.equal(parseGoTime("2026-11-21T07:13:57+02:00"), Date.UTC(2026, 10, 21, 5, 13, 57));
    assert.equal(parseGoTime("2026-11-21T05:13:57.5-01:30"), Date.UTC(2026, 10, 21, 6, 43, 57, 500));
    for (const bad of ["", "yesterday", "2026-11-21", "2026-11-21T05:13:57", "2026-02-30T00:00:00Z", "2026-11-21T05:13:57.1234567890Z"]) {
      assert.equal(parseGoTime(bad), undefined, bad);
    }
    const now = Date.now();
    assert.ok(Math.abs(parseGoTime(formatGoTime(now))! - now) < 1e-3, "round trip");
  });
});

describe("status body", () => {
  test("parses the Go fixture", () => {
    const parsed = parseStatusBody(goInactive);
    assert.ok(parsed.ok, parsed.ok ? "" : parsed.reason);
    assert.deepEqual(parsed.status, {
      name: "vpnham-dev-lft",
      role: "active",
      active: false,
      active_since: "2026-11-21T05:13:57.68286216Z",
      up: false,
      up_since: ZERO_TIME,
      interfaces: {
        lo: { active: false, active_since: "2026-11-21T05:13:57.68286216Z", up: false, up_since: "2026-11-21T05:13:57.68286216Z" },
      },
    });
  });

  test("extra fields are allowed; ours are kept, wrong-typed ones dropped", () => {
    const body = JSON.parse(goInactive) as Record<string, unknown>;
    const withExtras = { ...body, protocol: 1, partner_up: true, reasons: ["tunnel eth1 up"], future: { x: 1 }, split_brain: "yes" };
    const parsed = parseStatusBody(JSON.stringify(withExtras));
    assert.ok(parsed.ok);
    assert.equal(parsed.status.protocol, 1);
    assert.equal(parsed.status.partner_up, true);
    assert.deepEqual(parsed.status.reasons, ["tunnel eth1 up"]);
    assert.ok(!("future" in parsed.status));
    assert.ok(!("split_brain" in parsed.status), "a malformed extra is dropped, not fatal");
  });

  test("rejects what decisions cannot rely on", () => {
    const good = JSON.parse(goInactive) as Record<string, unknown>;
    const cases: [string, string][] = [
      ["not json", "not JSON"],
      ["[]", "body"],
      [JSON.stringify({ ...good, role: "primary" }), "role"],
      [JSON.stringify({ ...good, up: "true" }), "up"],
      [JSON.stringify({ ...good, name: "" }), "name"],
      [JSON.stringify({ ...good, active_since: "yesterday" }), "active_since"],
      [JSON.stringify({ ...good, interfaces: { eth1: { active: 1, up: true } } }), "interfaces.eth1.active"],
    ];
    for (const [text, where] of cases) {
      const parsed = parseStatusBody(text);
      assert.ok(!parsed.ok, `${text} rejected`);
      assert.ok(parsed.reason.includes(where), `${parsed.reason} mentions ${where}`);
    }
    // Go's json.Unmarshal would accept missing times and a null map: so do we.
    const { active_since: _a, up_since: _u, ...minimal } = good;
    const parsed = parseStatusBody(JSON.stringify({ ...minimal, interfaces: null }));
    assert.ok(parsed.ok);
    assert.equal(parsed.status.active_since, ZERO_TIME);
    assert.deepEqual(parsed.status.interfaces, {});
  });

  test("formatStatusBody writes compact JSON in Go's field order that parses back", () => {
    const status: BridgeStatus = {
      name: "b",
      role: "standby",
      active: true,
      active_since: formatGoTime(1_700_000_000_000),
      up: true,
      up_since: ZERO_TIME,
      interfaces: { eth1: { active: true, active_since: ZERO_TIME, up: true, up_since: ZERO_TIME } },
      partner_up: false,
    };
    const text = formatStatusBody(status);
    assert.ok(text.startsWith('{"name":"b","role":"standby","active":true,"active_since":"2023-11-14T22:13:20.000000000Z","up":true,'));
    assert.ok(text.endsWith("}\n"));
    assert.ok(!text.includes(" "), "compact");
    assert.ok(!text.includes("protocol"), "absent extras are omitted");
    const back = parseStatusBody(text);
    assert.ok(back.ok);
    assert.deepEqual(back.status, status);
    // Our own document for the fixture's state reproduces the fixture apart from the time digits.
    const parsedGo = parseStatusBody(goInactive);
    assert.ok(parsedGo.ok);
    assert.equal(formatStatusBody(parsedGo.status), `${goInactive.trim()}\n`);
  });
});
