import { isRequestDatagram, PROBE_SIZE } from "./wire.ts";
import { MAC_SIZE, mac, macEquals } from "../auth/keys.ts";

/**
 * Authenticated probes (docs/hardening.md "Reflected probes"): the 142-byte Go datagram
 * followed by HMAC-SHA256(direction key, datagram). Each direction has its own key, derived
 * from the bridge's probe key with a domain-separation tag, so a request's MAC is worthless on a
 * reply and the reverse: the only way to get a signed reply is to have a responder make one.
 * Without a secret nothing changes on the wire, so a Go peer keeps working.
 */
export const AUTHENTICATED_PROBE_SIZE = PROBE_SIZE + MAC_SIZE;

export type ProbeDirection = "request" | "reply";

const DIRECTION_TAG: Readonly<Record<ProbeDirection, string>> = Object.freeze({
  request: "vpnham probe request v2",
  reply: "vpnham probe reply v2",
});

/**
 * Derived once per probe key (a bridge's key lives as long as the bridge): one HMAC per
 * datagram, as before the directions had keys of their own.
 */
const directionKeys = new WeakMap<Buffer, Readonly<Record<ProbeDirection, Buffer>>>();

function directionKey(key: Buffer, direction: ProbeDirection): Buffer {
  let keys = directionKeys.get(key);
  if (!keys) {
    keys = { request: mac(key, DIRECTION_TAG.request), reply: mac(key, DIRECTION_TAG.reply) };
    directionKeys.set(key, keys);
  }
  return keys[direction];
}

function probeMac(key: Buffer, direction: ProbeDirection, datagram: Buffer): Buffer {
  return mac(directionKey(key, direction), datagram);
}

export function signProbe(datagram: Buffer, key: Buffer, direction: ProbeDirection): Buffer {
  return Buffer.concat([datagram, probeMac(key, direction, datagram)]);
}

/** The direction a received datagram claims (a request has the zero dst_time); verify it with that. */
export function claimedDirection(datagram: Buffer): ProbeDirection {
  return isRequestDatagram(datagram) ? "request" : "reply";
}

/** The 142-byte payload when the MAC is right for `direction`, else why not (a metric label). */
export function verifyProbe(
  datagram: Buffer,
  key: Buffer,
  direction: ProbeDirection,
): { ok: true; payload: Buffer } | { ok: false; reason: "unauthenticated" | "bad_mac" } {
  if (datagram.length !== AUTHENTICATED_PROBE_SIZE) return { ok: false, reason: "unauthenticated" };
  const payload = datagram.subarray(0, PROBE_SIZE);
  return macEquals(probeMac(key, direction, payload), datagram.subarray(PROBE_SIZE)) ? { ok: true, payload } : { ok: false, reason: "bad_mac" };
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
