import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { dampStep, holdDownMs, initialDampState, type DampState } from "../../src/announce/damping.ts";
import type { DampingConfig } from "../../src/announce/model.ts";

const config: DampingConfig = { minIntervalMs: 2_000, holdDownMs: 10_000, maxHoldDownMs: 60_000 };

/** Feeds (time, want) pairs and records the damped decision after each. */
function run(steps: [nowMs: number, want: boolean | undefined][], start: DampState = initialDampState) {
  let state = start;
  return steps.map(([nowMs, want]) => {
    const result = dampStep(state, want, nowMs, config);
    state = result.state;
    return [result.announced, result.heldUntilMs] as const;
  });
}

describe("announce damping", () => {
  test("hold-down: none for the first flap, then hold_down doubling, capped", () => {
    assert.deepEqual([0, 1, 2, 3, 4, 5, 9].map((f) => holdDownMs(f, config)), [0, 0, 10_000, 20_000, 40_000, 60_000, 60_000]);
  });

  const table: [string, [number, boolean | undefined][], (readonly [boolean | undefined, number | undefined])[]][] = [
    ["unknown health decides nothing", [[0, undefined], [5, undefined]], [[undefined, undefined], [undefined, undefined]]],
    ["the first decision is immediate, either way", [[0, false]], [[false, undefined]]],
    ["the first announce too, and unknown afterwards keeps it", [[0, true], [1, undefined]], [[true, undefined], [true, undefined]]],
    [
      "a withdraw right after the first decision is not delayed (no change yet)",
      [[0, true], [100, false]],
      [[true, undefined], [false, undefined]],
    ],
    [
      "re-announce waits min_interval after the withdraw (first flap: no hold-down)",
      [[0, true], [100, false], [1_000, true], [2_100, true]],
      [[true, undefined], [false, undefined], [false, 2_100], [true, undefined]],
    ],
    [
      "a withdraw within min_interval of an announce waits for it",
      [[0, false], [10_000, true], [11_000, false], [12_000, false]],
      [[false, undefined], [true, undefined], [true, 12_000], [false, undefined]],
    ],
    [
      "the second flap holds the re-announce down for hold_down",
      [[0, true], [100, false], [2_100, true], [5_000, false], [7_000, true], [14_999, true], [15_000, true]],
      [[true, undefined], [false, undefined], [true, undefined], [false, undefined], [false, 15_000], [false, 15_000], [true, undefined]],
    ],
    [
      "the third flap doubles it",
      [[0, true], [100, false], [2_100, true], [5_000, false], [15_000, true], [20_000, false], [40_000, true]],
      [
        [true, undefined],
        [false, undefined],
        [true, undefined],
        [false, undefined],
        [true, undefined],
        [false, undefined],
        [true, undefined],
      ],
    ],
    [
      "a prefix announced for max_hold_down starts counting flaps again",
      [[0, true], [100, false], [2_100, true], [62_100, false], [64_100, true]],
      [[true, undefined], [false, undefined], [true, undefined], [false, undefined], [true, undefined]],
    ],
  ];
  for (const [name, steps, expected] of table) test(name, () => assert.deepEqual(run(steps), expected));

  test("the third flap's hold-down is 20 s after its withdraw", () => {
    const steps: [number, boolean][] = [[0, true], [100, false], [2_100, true], [5_000, false], [15_000, true], [20_000, false], [39_999, true], [40_000, true]];
    assert.deepEqual(run(steps).slice(-2), [[false, 40_000], [true, undefined]]);
  });
});
