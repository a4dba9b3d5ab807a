import { PROBE_SIZE } from "./wire.ts";
import { MAC_SIZE, mac, macEquals } from "../auth/keys.ts";

/**
 * Authenticated probes: the 142-byte Go datagram followed by
 * HMAC-SHA256(probeKey, datagram). Without a secret nothing changes on the
 * wire, so a Go peer keeps working.
 */
export const AUTHENTICATED_PROBE_SIZE = PROBE_SIZE + MAC_SIZE;

export function signProbe(datagram: Buffer, key: Buffer): Buffer {
  return Buffer.concat([datagram, mac(key, datagram)]);
}

/** The 142-byte payload when the MAC is right, else why not (a metric label). */
export function verifyProbe(datagram: Buffer, key: Buffer): { ok: true; payload: Buffer } | { ok: false; reason: "unauthenticated" | "bad_mac" } {
  if (datagram.length !== AUTHENTICATED_PROBE_SIZE) return { ok: false, reason: "unauthenticated" };
  const payload = datagram.subarray(0, PROBE_SIZE);
  return macEquals(mac(key, payload), datagram.subarray(PROBE_SIZE)) ? { ok: true, payload } : { ok: false, reason: "bad_mac" };
}

/**
 * Responder-side replay guard: per sender (src_uuid + dst_uuid: random per
 * process start and tunnel), sequence numbers must increase, so a captured
 * authenticated request is never reflected twice. Bounded: the oldest
 * senders are forgotten first (only authenticated senders get an entry).
 */
export class ReplayGuard {
  private readonly lastSequence = new Map<string, bigint>();
  constructor(private readonly maxSenders = 256) {}

  accept(sender: Buffer, sequence: bigint): boolean {
    const key = sender.toString("hex");
    const last = this.lastSequence.get(key);
    if (last !== undefined && sequence <= last) return false;
    this.lastSequence.delete(key); // re-insert: Map order is our LRU order
    this.lastSequence.set(key, sequence);
    if (this.lastSequence.size > this.maxSenders) this.lastSequence.delete(this.lastSequence.keys().next().value!);
    return true;
  }
}
