import { test } from "node:test";
import assert from "node:assert/strict";
import { hysteresisSample, initialHysteresis } from "../../src/monitor/hysteresis.ts";

/** Samples as "+"/"-"; per step: U up, D down-decided, ? undecided; changes as ^ (up) v (down) . (none). */
function run(samples: string, down: number, up: number): { verdicts: string; changes: string } {
  let s = initialHysteresis(down, up);
  let verdicts = "";
  let changes = "";
  for (const c of samples) {
    const r = hysteresisSample(s, c === "+");
    s = r.state;
    verdicts += !s.decided ? "?" : s.up ? "U" : "D";
    changes += r.changed === "up" ? "^" : r.changed === "down" ? "v" : ".";
  }
  return { verdicts, changes };
}

const table: Array<{ name: string; samples: string; down: number; up: number; verdicts: string; changes: string }> = [
  { name: "undecided until threshold_up good", samples: "+++", down: 3, up: 2, verdicts: "?UU", changes: ".^." },
  { name: "undecided until threshold_down bad", samples: "----", down: 3, up: 2, verdicts: "??DD", changes: "..v." },
  { name: "threshold 1 decides at once", samples: "+-+-", down: 1, up: 1, verdicts: "UDUD", changes: "^v^v" },
  { name: "a good sample resets the bad run", samples: "++--+--+--", down: 3, up: 2, verdicts: "?UUUUUUUUU", changes: ".^........" },
  { name: "down then up again", samples: "++---++", down: 3, up: 2, verdicts: "?UUUDDU", changes: ".^..v.^" },
  { name: "a bad sample resets the good run", samples: "-+-+-++", down: 5, up: 2, verdicts: "??????U", changes: "......^" },
  { name: "mixed start decides on the first complete run", samples: "+--", down: 2, up: 2, verdicts: "??D", changes: "..v" },
];

for (const row of table) {
  test(`hysteresis: ${row.name}`, () => {
    assert.deepEqual(run(row.samples, row.down, row.up), { verdicts: row.verdicts, changes: row.changes });
  });
}

test("hysteresis: runs are counted while decided and never exceed what was seen", () => {
  let s = initialHysteresis(2, 2);
  for (const good of [true, true, true, false]) s = hysteresisSample(s, good).state;
  assert.equal(s.goodRun, 0);
  assert.equal(s.badRun, 1);
  assert.equal(s.up, true);
});
