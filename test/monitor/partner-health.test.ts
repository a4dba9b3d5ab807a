import { test } from "node:test";
import assert from "node:assert/strict";
import { initialPartnerHealth, partnerSample } from "../../src/monitor/partner-health.ts";

function run(role: "active" | "standby", samples: string, down = 3, up = 2): string {
  let s = initialPartnerHealth(role, down, up);
  let out = "";
  for (const c of samples) {
    s = partnerSample(s, c === "+").state;
    out += s.up ? "U" : "D";
  }
  return out;
}

test("partner is down before first contact, up after threshold_up good polls", () => {
  assert.equal(run("active", "+++"), "DUU");
});

test("standby uses each threshold + 1 so the active side wins ties", () => {
  assert.equal(run("standby", "+++"), "DDU");
  assert.equal(run("standby", "+++----"), "DDUUUUD");
  assert.equal(run("active", "++---"), "DUUUD");
});

test("regression (Go): failures before first contact count, so the standby is never stuck", () => {
  // Go ignored failures until first contact: a partner never reachable stayed "unknown" for ever.
  const s = initialPartnerHealth("standby", 5, 2);
  assert.equal(s.up, false);
  assert.equal(run("active", "----------"), "DDDDDDDDDD");
});

test("a single good sample resets a bad streak", () => {
  assert.equal(run("active", "++--+--+--"), "DUUUUUUUUU");
  assert.equal(run("active", "++---"), "DUUUD");
});

test("changed is reported exactly on transitions", () => {
  let s = initialPartnerHealth("active", 2, 2);
  const changes: (boolean | undefined)[] = [];
  for (const good of [true, true, true, false, false, false]) {
    const r = partnerSample(s, good);
    s = r.state;
    changes.push(r.changed);
  }
  assert.deepEqual(changes, [undefined, true, undefined, undefined, false, undefined]);
});
