import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { checkVerdict, ipvsVerdict, serviceHealth, type Verdict } from "../../src/announce/health.ts";

describe("announce health: check verdicts", () => {
  test("undecided or missing checks are unknown; decided ones are their verdict", () => {
    assert.equal(checkVerdict(undefined), undefined);
    assert.equal(checkVerdict({ up: false, decided: false }), undefined);
    assert.equal(checkVerdict({ up: true, decided: true }), true);
    assert.equal(checkVerdict({ up: false, decided: true, lastError: "refused: x" }), false);
  });
});

describe("announce health: IPVS hysteresis (vip_watchdog)", () => {
  // above: count > withdraw_at_or_below; enough: count >= announce_at_or_above.
  const table: [string, Verdict, Verdict, Verdict, Verdict][] = [
    ["announced stays announced between the thresholds", true, true, false, true],
    ["announced is withdrawn at or below withdraw_at_or_below", true, false, false, false],
    ["announced stays while 'above' is not decided", true, undefined, undefined, true],
    ["withdrawn stays withdrawn between the thresholds", false, true, false, false],
    ["withdrawn comes back at announce_at_or_above", false, true, true, true],
    ["withdrawn stays while 'enough' is undecided", false, true, undefined, false],
    ["unknown becomes announced with enough servers", undefined, true, true, true],
    ["unknown becomes withdrawn at or below the low mark", undefined, false, false, false],
    ["unknown between the thresholds stays unknown (leave FRR as it is)", undefined, true, false, undefined],
    ["unknown with nothing decided stays unknown", undefined, undefined, undefined, undefined],
  ];
  for (const [name, previous, above, enough, expected] of table) {
    test(name, () => assert.equal(ipvsVerdict(previous, above, enough), expected));
  }
});

describe("announce health: a service", () => {
  const table: [string, Parameters<typeof serviceHealth>[0], ReturnType<typeof serviceHealth>][] = [
    ["no checks at all: healthy", { checks: [] }, { healthy: true, reasons: [] }],
    ["all checks up", { checks: [["a", true], ["b", true]] }, { healthy: true, reasons: [] }],
    ["one down wins over unknown ones", { checks: [["a", undefined], ["b", false]] }, { healthy: false, reasons: ["check b is down"] }],
    ["one unknown, rest up: unknown", { checks: [["a", true], ["b", undefined]] }, { healthy: undefined, reasons: ["check b is not decided yet"] }],
    ["ipvs down", { checks: [["a", true]], ipvs: false }, { healthy: false, reasons: ["ipvs: too few real servers"] }],
    ["ipvs unknown", { checks: [["a", true]], ipvs: undefined }, { healthy: undefined, reasons: ["ipvs: not decided yet"] }],
    ["ipvs up and checks up", { checks: [["a", true]], ipvs: true }, { healthy: true, reasons: [] }],
    ["every reason is listed", { checks: [["a", false], ["b", false]], ipvs: false }, { healthy: false, reasons: ["check a is down", "check b is down", "ipvs: too few real servers"] }],
  ];
  for (const [name, input, expected] of table) test(name, () => assert.deepEqual(serviceHealth(input), expected));
});
