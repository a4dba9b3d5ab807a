import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { initialPartnerHealth, partnerPathsGood, partnerSample } from "../../src/monitor/partner-health.ts";

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

test("changed is reported exactly on transitions, including the first verdict", () => {
  const changes = (role: "active" | "standby", samples: boolean[]) => {
    let s = initialPartnerHealth(role, 2, 2);
    return samples.map((good) => {
      const r = partnerSample(s, good);
      s = r.state;
      return r.changed;
    });
  };
  assert.deepEqual(changes("active", [true, true, true, false, false, false]), [undefined, true, undefined, undefined, false, undefined]);
  // Never reached: first verdict "down" after thresholdDown failures.
  assert.deepEqual(changes("active", [false, false, false]), [undefined, false, undefined]);
  assert.deepEqual(changes("standby", [false, true, false, false, false]), [undefined, undefined, undefined, undefined, false]);
});

test("undecided until the first verdict; decided stays", () => {
  let s = initialPartnerHealth("active", 3, 2);
  assert.equal(s.decided, false);
  s = partnerSample(s, true).state;
  assert.equal(s.decided, false);
  assert.equal(s.up, false, "one good poll is not up yet");
  s = partnerSample(s, true).state;
  assert.equal(s.decided, true);
  s = partnerSample(partnerSample(partnerSample(s, false).state, false).state, false).state;
  assert.equal(s.up, false);
  assert.equal(s.decided, true);
});

test("start-up grace: an undecided partner is not judged down while held, and is once the hold ends", () => {
  let s = initialPartnerHealth("standby", 3, 2);
  for (let i = 0; i < 10; i++) {
    const r = partnerSample(s, false, { holdFirstDown: true });
    assert.equal(r.changed, undefined, "no verdict inside the grace");
    s = r.state;
  }
  assert.equal(s.decided, false);
  const after = partnerSample(s, false);
  assert.equal(after.changed, false, "the bad run so far decides at once after the grace");
  assert.equal(after.state.decided, true);
});

test("start-up grace: good samples decide at once, and a decided partner is not held", () => {
  let s = initialPartnerHealth("active", 3, 2);
  s = partnerSample(s, true, { holdFirstDown: true }).state;
  const up = partnerSample(s, true, { holdFirstDown: true });
  assert.equal(up.changed, true);
  s = up.state;
  for (let i = 0; i < 2; i++) s = partnerSample(s, false, { holdFirstDown: true }).state;
  assert.equal(partnerSample(s, false, { holdFirstDown: true }).changed, false, "hold applies only to the first verdict");
});

describe("partnerPathsGood: the partner sample over every path (partner_url + partner_checks)", () => {
  const cases: Array<[string, Parameters<typeof partnerPathsGood>[0], Array<boolean | undefined>, boolean]> = [
    ["poll good, partner up", { ok: true, up: true }, [], true],
    ["poll good, partner reports itself down: its word stands, checks or not", { ok: true, up: false }, [true], false],
    ["poll unreachable (connect), no checks", { ok: false, reason: "connect" }, [], false],
    ["poll unreachable (connect), one check up", { ok: false, reason: "connect" }, [false, true], true],
    ["poll timed out, one check up", { ok: false, reason: "timeout" }, [true], true],
    ["poll unreachable, every check down", { ok: false, reason: "timeout" }, [false, false], false],
    ["poll unreachable, checks undecided or not running", { ok: false, reason: "connect" }, [undefined, undefined], false],
    ["the partner answered wrong (auth): bad, checks or not", { ok: false, reason: "auth" }, [true], false],
    ["the partner answered wrong (name_mismatch): bad", { ok: false, reason: "name_mismatch" }, [true], false],
    ["HTTP error from the status server: bad", { ok: false, reason: "http_status" }, [true], false],
  ];
  for (const [name, poll, checks, want] of cases) test(name, () => assert.equal(partnerPathsGood(poll, checks), want));
});
