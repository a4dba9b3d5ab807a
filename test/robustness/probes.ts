// Probe bytes for fuzzing: an independent oracle of what the decoder must say,
// forged probes, and a small seeded PRNG with probe generators.
import { GO_UNIX_TO_INTERNAL_SEC, GO_ZERO_TIME, nowUnixNs } from "../../src/probe/gotime.ts";
import { decodeProbe, encodeProbe, PROBE_SIZE, type Probe } from "../../src/probe/wire.ts";

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** What the decoder should say, computed from the layout in docs/protocol.md §Tunnel probe without the decoder's code. */
export function oracle(buf: Buffer): "ok" | "size" | "time_version" | "time_range" | "location_utf8" {
  if (buf.length !== 142) return "size";
  for (const at of [24, 91]) {
    if (buf[at] !== 1) return "time_version";
    const nsec = buf.readInt32BE(at + 9);
    if (nsec < 0 || nsec > 999_999_999) return "time_range";
  }
  for (const at of [39, 106]) {
    const field = buf.subarray(at, at + 36);
    const nul = field.indexOf(0);
    try {
      utf8.decode(nul === -1 ? field : field.subarray(0, nul));
    } catch {
      return "location_utf8";
    }
  }
  return "ok";
}

/** A well-formed probe: a request unless `replyAtNs` is given. */
export function craftProbe(p: { sequence: bigint; srcUuid: Buffer; dstUuid: Buffer; replyAtNs?: bigint; location?: string }): Buffer {
  const probe: Probe = {
    sequence: p.sequence,
    srcUuid: p.srcUuid,
    srcTime: { unixNs: nowUnixNs(), offsetMin: -1 },
    srcLocation: p.location ?? "robust/craft",
    dstUuid: p.dstUuid,
    dstTime: p.replyAtNs === undefined ? GO_ZERO_TIME : { unixNs: p.replyAtNs, offsetMin: -1 },
    dstLocation: p.replyAtNs === undefined ? "" : "robust/craft",
  };
  return encodeProbe(probe);
}

/** Decoded probe or undefined (taps use it on whatever passes). */
export function peek(msg: Buffer): Probe | undefined {
  const d = decodeProbe(msg);
  return d.ok ? d.probe : undefined;
}

// ---------------------------------------------------------------- PRNG

/** mulberry32: small, seeded, good enough for fuzzing; print the seed on failure. */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    seed,
    next,
    int: (lo: number, hi: number): number => lo + Math.floor(next() * (hi - lo + 1)),
    bytes(n: number): Buffer {
      const b = Buffer.allocUnsafe(n);
      for (let i = 0; i < n; i++) b[i] = Math.floor(next() * 256);
      return b;
    },
    pick<T>(items: readonly T[]): T {
      return items[Math.floor(next() * items.length)]!;
    },
  };
}

export type Rng = ReturnType<typeof prng>;

const locationChars = ["a", "Z", "/", "-", " ", "é", "ß", "€", "中", "文", "😀", "🛰", "\u00a0", "\u2028"];

export function randomLocation(r: Rng): string {
  let s = "";
  const n = r.int(0, 40);
  for (let i = 0; i < n; i++) s += r.pick(locationChars);
  return s;
}

export function randomUnixNs(r: Rng): bigint {
  // Anywhere Go's int64 seconds can hold, with a bias towards "now".
  const choice = r.int(0, 3);
  if (choice === 0) return BigInt(Date.now()) * 1_000_000n + BigInt(r.int(0, 999_999));
  if (choice === 1) return -GO_UNIX_TO_INTERNAL_SEC * 1_000_000_000n; // the zero time
  const maxSec = 2n ** 62n;
  const sec = BigInt(Math.floor(r.next() * 2 ** 52)) * (maxSec / 2n ** 52n) - GO_UNIX_TO_INTERNAL_SEC;
  return sec * 1_000_000_000n + BigInt(r.int(0, 999_999_999));
}

export function randomProbe(r: Rng, request: boolean): Probe {
  return {
    sequence: r.bytes(8).readBigUInt64LE(0),
    srcUuid: r.bytes(16),
    srcTime: { unixNs: randomUnixNs(r), offsetMin: r.pick([-1, 0, 60, -300]) },
    srcLocation: randomLocation(r),
    dstUuid: r.bytes(16),
    dstTime: request ? GO_ZERO_TIME : { unixNs: randomUnixNs(r), offsetMin: r.pick([-1, 0]) },
    dstLocation: request ? "" : randomLocation(r),
  };
}

/** A valid probe with k random bytes overwritten: mostly near-valid, the decoder's hard cases. */
export function mutated(r: Rng): Buffer {
  const buf = encodeProbe(randomProbe(r, r.next() < 0.5));
  const k = r.int(1, 4);
  for (let i = 0; i < k; i++) buf[r.int(0, PROBE_SIZE - 1)] = r.int(0, 255);
  return buf;
}

export const testSeed = (): number => Number(process.env.VPNHAM_FUZZ_SEED ?? (Date.now() & 0x7fffffff));
