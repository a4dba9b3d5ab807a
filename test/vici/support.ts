import { readFileSync, readdirSync } from "node:fs";

const fixturesUrl = new URL("../collectors/fixtures/strongswan/", (import.meta as unknown as { url: string }).url);

/** A captured VICI payload (no length prefix), see test/collectors/fixtures/strongswan/README.md. */
export function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(new URL(name, fixturesUrl)));
}

export function fixtureNames(): string[] {
  return readdirSync(fixturesUrl).filter((n) => n.endsWith(".bin")).sort();
}

export function fixtureText(name: string): string {
  return readFileSync(new URL(name, fixturesUrl), "utf8");
}

/** The payload with its 4-byte big-endian length prefix: one segment as on the wire. */
export function segment(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + payload.length);
  new DataView(out.buffer).setUint32(0, payload.length);
  out.set(payload, 4);
  return out;
}

/** Deterministic PRNG (mulberry32), so a failing fuzz case can be replayed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
