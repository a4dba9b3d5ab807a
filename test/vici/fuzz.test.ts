// The VICI decoder on hostile input: truncated, mutated, random, oversized, wrong element types.
// Every case must end in a value or a ViciDecodeError — no other exception, no hang.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ViciDecodeError } from "../../src/vici/message.ts";
import { decodePacket, FrameSplitter } from "../../src/vici/packet.ts";
import { fixture, fixtureNames, prng, segment } from "./support.ts";

function decodeOrDecodeError(payload: Uint8Array, label: string): void {
  try {
    decodePacket(payload);
  } catch (error) {
    if (!(error instanceof ViciDecodeError)) assert.fail(`${label}: ${String(error)}`);
  }
}

describe("VICI decoder fuzz", () => {
  const corpus = fixtureNames().map((name) => ({ name, payload: fixture(name) }));

  test("every truncation of every captured payload", () => {
    for (const { name, payload } of corpus) {
      for (let length = 0; length < payload.length; length += 1) decodeOrDecodeError(payload.subarray(0, length), `${name}[0,${length})`);
    }
  });

  test("random byte mutations of captured payloads (seeded)", () => {
    const random = prng(0x5eed);
    const started = performance.now();
    for (let round = 0; round < 20_000; round += 1) {
      const { name, payload } = corpus[Math.floor(random() * corpus.length)]!;
      const copy = payload.slice();
      const flips = 1 + Math.floor(random() * 4);
      for (let i = 0; i < flips; i += 1) copy[Math.floor(random() * copy.length)] = Math.floor(random() * 256);
      decodeOrDecodeError(copy, `${name} round ${round}`);
    }
    assert.ok(performance.now() - started < 20_000, "decoding stays fast");
  });

  test("random payloads, and element types swapped for each other", () => {
    const random = prng(42);
    for (let round = 0; round < 20_000; round += 1) {
      const length = Math.floor(random() * 64);
      const payload = Uint8Array.from({ length }, () => (random() < 0.5 ? Math.floor(random() * 8) : Math.floor(random() * 256)));
      decodeOrDecodeError(payload, `random round ${round}`);
    }
  });

  test("a length prefix promising more than the limit is refused at once; garbage streams end in an error", () => {
    const random = prng(7);
    for (let round = 0; round < 2_000; round += 1) {
      const splitter = new FrameSplitter(64 * 1024);
      const stream = Uint8Array.from({ length: 1 + Math.floor(random() * 256) }, () => Math.floor(random() * 256));
      try {
        for (const payload of splitter.push(stream)) decodeOrDecodeError(payload, `stream round ${round}`);
        assert.ok(splitter.pendingBytes <= 64 * 1024 + 4);
      } catch (error) {
        assert.ok(error instanceof ViciDecodeError, String(error));
      }
    }
  });

  test("deep nesting up to the frame limit is refused, not recursed", () => {
    const payload = new Uint8Array(2 + 4 + 3 * 170_000);
    payload.set([7, 4, 0x61, 0x62, 0x63, 0x64]);
    for (let i = 6; i + 3 <= payload.length; i += 3) payload.set([1, 1, 0x73], i);
    assert.throws(() => decodePacket(payload), /nested deeper/);
    const splitter = new FrameSplitter();
    assert.throws(() => splitter.push(segment(new Uint8Array(600 * 1024))), /exceeds/);
  });
});
