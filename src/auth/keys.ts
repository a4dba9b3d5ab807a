import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * Opt-in authentication (docs/protocol.md §Authentication). One shared secret per bridge;
 * separate keys are derived for probes and for the status API so a MAC from
 * one can never be accepted by the other.
 */
export const MAC_SIZE = 32;

export interface BridgeKeys {
  readonly probe: Buffer;
  readonly status: Buffer;
}

/** A key for one purpose only, so a MAC made for one use is never accepted by another. */
export function deriveKey(secret: string, purpose: string): Buffer {
  return createHmac("sha256", secret).update(`vpnham ${purpose} v1`).digest();
}

export function deriveKeys(secret: string): BridgeKeys {
  return { probe: deriveKey(secret, "probe"), status: deriveKey(secret, "status") };
}

export function mac(key: Buffer, ...parts: (Buffer | string)[]): Buffer {
  const h = createHmac("sha256", key);
  for (const p of parts) h.update(p);
  return h.digest();
}

/** Constant-time comparison; false on any length difference. */
export function macEquals(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export function nonce(): string {
  return randomBytes(12).toString("hex");
}
