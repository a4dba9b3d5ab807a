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

export function deriveKeys(secret: string): BridgeKeys {
  const derive = (purpose: string) => createHmac("sha256", secret).update(`vpnham ${purpose} v1`).digest();
  return { probe: derive("probe"), status: derive("status") };
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
