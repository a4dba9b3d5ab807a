import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  beginProbe,
  classifyReply,
  initialTunnelHealth,
  probeSendFailed,
  replyReceived,
  verdictToReport,
  externalDown,
  verdictWithExternal,
  windowCounts,
  WINDOW_SLACK,
  type TieInput,
  type TunnelHealthState,
  type TunnelVerdict,
} from "../../src/monitor/tunnel-health.ts";

/**
 * A tiny script language: `s` send a probe, `S` send after our own stall,
 * `r` reply to the newest probe, `x` the newest send failed, `rN` reply to
 * sequence N. After each step we
 * record the verdict letter: U up, D down (undecided shows as d).
 */
function play(script: string, thresholdDown: number, thresholdUp: number): string {
  let state = initialTunnelHealth(thresholdDown, thresholdUp);
  let verdicts = "";
  for (const token of script.trim().split(/\s+/)) {
    if (token === "s") state = beginProbe(state).state;
    else if (token === "S") state = beginProbe(state, { stalled: true }).state;
    else if (token === "r") state = replyReceived(state, state.lastSequence).state;
    else if (token === "x") state = probeSendFailed(state, state.lastSequence).state;
    else if (token.startsWith("r")) state = replyReceived(state, BigInt(token.slice(1))).state;
    else throw new Error(token);
    verdicts += state.decided ? (state.verdict === "up" ? "U" : "D") : "d";
  }
  return verdicts;
}

describe("tunnel health verdicts (threshold_down 3, threshold_up 2)", () => {
  const table: [string, string, string][] = [
    ["down until the first verdict", "s", "d"],
    ["one reply is not enough", "s r", "dd"],
    ["newest in flight counts as a reply (as in Go)", "s r s", "ddU"],
    ["two replies", "s r s r", "ddUU"],
    ["down after threshold_down probes without reply", "s s s", "ddD"],
    ["goes down on the send of the third unanswered probe", "s r s r s s s", "ddUUUUD"],
    ["one loss does not flap", "s r s r s s r s r", "ddUUUUUUU"],
    ["recovers after threshold_up", "s s s s r s", "ddDDDU"],
    ["send failure counts as no reply", "s x s x s x", "ddddDD"],
    ["send failure breaks the up run", "s r s x s", "ddUUU"],
    ["a late reply never brings a tunnel up", "s s r1 s s r2 s", "dddDDDD"],
    ["a late reply is a sign of life: no down verdict (BFD-like)", "s r s r s s r3 s", "ddUUUUUU"],
    ["down once nothing at all came back for the newest threshold_down probes", "s r s r s s r3 s s s", "ddUUUUUUDD"],
    ["duplicate reply ignored", "s r r s", "dddU"],
  ];
  for (const [name, script, expected] of table) {
    test(name, () => assert.equal(play(script, 3, 2), expected));
  }
});

describe("our own stall (threshold_down 2, threshold_up 2)", () => {
  const table: [string, string, string][] = [
    // Without grace the probe in flight during the stall fails and the tunnel goes down.
    ["without grace a stall fails the probe in flight", "s r s r s s", "ddUUUD"],
    ["with grace its reply, read after the stall, counts as returned", "s r s r s S r3 r s", "ddUUUUUUU"],
    // The probe sent by the late tick left late too: it gets its own grace, so down comes one interval later.
    ["grace lasts one interval: no reply at all still means down", "s r s r s S s s", "ddUUUUUD"],
    ["a probe sent by a late tick is not failed at the next tick", "s r s r S s", "ddUUUU"],
    ["a probe sent late whose reply comes in its grace interval counts", "s r s r S s r3 r s", "ddUUUUUUU"],
    ["a tick late by a whole stall twice in a row keeps the tunnel up while replies trickle in", "s r s r S S r4 r5 s", "ddUUUUUUU"],
  ];
  for (const [name, script, expected] of table) {
    test(name, () => assert.equal(play(script, 2, 2), expected));
  }
});

describe("reply classification", () => {
  test("returned, late, duplicate, stale, future", () => {
    let s: TunnelHealthState = initialTunnelHealth(3, 2);
    for (let i = 0; i < 5; i++) s = beginProbe(s).state; // 1..4 failed, 5 in flight
    assert.equal(classifyReply(s, 5n), "returned");
    assert.equal(classifyReply(s, 4n), "late");
    assert.equal(classifyReply(s, 6n), "future");
    assert.equal(classifyReply(s, 0n), "future");
    assert.equal(classifyReply(s, -3n), "future");
    assert.equal(classifyReply(s, 2n ** 64n - 1n), "future");
    s = replyReceived(s, 5n).state;
    assert.equal(classifyReply(s, 5n), "duplicate");
    const size = s.window.length;
    for (let i = 0; i < size + 10; i++) s = beginProbe(s).state;
    assert.equal(classifyReply(s, 5n), "stale");
  });

  test("regression (Go): a reply exactly one window late is ignored, no crash", () => {
    let s = initialTunnelHealth(5, 2);
    s = beginProbe(s).state;
    const size = BigInt(s.window.length);
    for (let i = 0n; i < size; i++) s = beginProbe(s).state;
    // Sequence 1 maps to the same ring slot as sequence 1 + size, which is in flight.
    assert.equal(s.lastSequence, 1n + size);
    const r = replyReceived(s, 1n);
    assert.equal(r.outcome, "stale");
    assert.equal(r.state, s, "state untouched");
    assert.equal(replyReceived(s, 1n + size).outcome, "returned");
  });

  test("window is bounded by the thresholds plus slack", () => {
    assert.equal(initialTunnelHealth(100, 2).window.length, 100 + WINDOW_SLACK);
  });
});

describe("accounting: sent = returned + failed + in flight", () => {
  test("random traffic", () => {
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 48271) % 2147483647), seed % n);
    let s = initialTunnelHealth(4, 3);
    let sent = 0;
    let returned = 0;
    let failed = 0;
    let late = 0;
    let changes = 0;
    for (let i = 0; i < 20_000; i++) {
      const action = rand(10);
      if (action < 4) {
        const r = beginProbe(s, { stalled: rand(5) === 0 });
        s = r.state;
        sent++;
        failed += r.newlyFailed;
        if (r.changed) changes++;
      } else if (action < 5 && s.lastSequence > 0n) {
        const r = probeSendFailed(s, s.lastSequence);
        s = r.state;
        failed += r.newlyFailed;
      } else if (s.lastSequence > 0n) {
        const back = BigInt(rand(4));
        const r = replyReceived(s, s.lastSequence - back);
        s = r.state;
        if (r.outcome === "returned") returned++;
        if (r.outcome === "late") late++;
      }
      const inFlight = windowCounts(s).inFlight;
      assert.ok(inFlight <= 2, "the newest probe, plus one given grace after a stall");
      assert.equal(sent, returned + failed + inFlight);
    }
    assert.ok(late > 0 && changes > 0, "the walk exercised late replies and verdict changes");
  });
});

describe("first verdict", () => {
  test("replies that are always late still give a first verdict (down) after threshold_down probes", () => {
    let s = initialTunnelHealth(3, 2);
    const firsts: (string | undefined)[] = [];
    for (let i = 1n; i <= 6n; i++) {
      const r = beginProbe(s);
      s = r.state;
      firsts.push(r.firstVerdict);
      if (i > 1n) s = replyReceived(s, i - 1n).state; // each reply one interval late
    }
    assert.equal(s.decided, true);
    assert.equal(s.verdict, "down");
    assert.deepEqual(firsts.filter(Boolean), ["down"]);
  });

  test("is reported once, also when it is the initial 'down'", () => {
    let s = initialTunnelHealth(3, 2);
    const firsts: (string | undefined)[] = [];
    for (let i = 0; i < 5; i++) {
      const r = beginProbe(s);
      s = r.state;
      firsts.push(r.firstVerdict);
      assert.equal(r.changed, undefined, "down → down is no change");
    }
    assert.deepEqual(firsts, [undefined, undefined, "down", undefined, undefined]);
  });
});

describe("the ties as one extra input (docs/collectors.md §IPsec-aware failover, §BGP-aware failover)", () => {
  test("external down: any tie down (CHILD_SA not installed, BGP session not Established); unknown is not down", () => {
    const table: [ipsec: TieInput, bgp: TieInput, expected: boolean][] = [
      ["unknown", "unknown", false],
      ["up", "unknown", false],
      ["unknown", "up", false],
      ["up", "up", false],
      ["down", "unknown", true],
      ["unknown", "down", true],
      ["up", "down", true], // the SA is installed but BGP over it is not Established
      ["down", "up", true],
      ["down", "down", true],
    ];
    for (const [ipsec, bgp, expected] of table) assert.equal(externalDown(ipsec, bgp), expected, `${ipsec} + ${bgp}`);
    assert.equal(externalDown(), false, "no tie");
  });

  test("external down is down at once; otherwise the probes decide", () => {
    const table: [TunnelVerdict, boolean, TunnelVerdict][] = [
      ["up", false, "up"],
      ["up", true, "down"],
      ["down", false, "down"],
      ["down", true, "down"],
    ];
    for (const [probes, down, expected] of table) assert.equal(verdictWithExternal(probes, down), expected, `${probes} + ${down}`);
  });

  test("what to report: only changes; before the probes decide, only an external down", () => {
    const table: [probes: TunnelVerdict, decided: boolean, externalDown: boolean, reported: TunnelVerdict | undefined, expected: TunnelVerdict | undefined][] = [
      ["up", true, true, "up", "down"], // the child-updown event / the peer not Established: down before any probe fails
      ["up", true, true, "down", undefined], // already reported
      ["up", true, false, "down", "up"], // the SA / session is back and the probes never went down: up again
      ["down", true, false, "down", undefined], // back, the probes still down: wait for them
      ["up", true, false, "up", undefined],
      ["down", false, true, undefined, "down"], // at start, a tie is down: down without waiting for probes
      ["down", false, false, undefined, undefined], // at start, ties up or unknown: the probes still decide
      ["down", true, false, undefined, "down"], // the probes' first verdict, as without ties
    ];
    for (const [probes, probesDecided, externalDown, reported, expected] of table) {
      assert.equal(verdictToReport({ probes, probesDecided, externalDown, reported }), expected, JSON.stringify({ probes, probesDecided, externalDown, reported }));
    }
  });
});
