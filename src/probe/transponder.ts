/**
 * One UDP socket per tunnel, bound to the tunnel's `addr`: answers probe
 * requests (stateless, to the datagram's source, from the same socket; never
 * our own requests bounced back, docs/hardening.md "Reflected probes"), hands
 * replies to the monitor, sends our probes to `probeAddr`.
 *
 * Unlike the Go transponder it never stops receiving (an empty datagram ends
 * Go's loop for good), and any socket error closes the socket and re-opens it
 * with exponential back-off, so a vanished address or interface churn heals.
 */
import dgram from "node:dgram";
import { errorMessage } from "../util/errors.ts";
import { TaggedLog } from "../util/log.ts";
import { nowUnixNs } from "./gotime.ts";
import { decodeProbe, isRequest, makeReply, type Probe } from "./wire.ts";
import { claimedDirection, ReplayGuard, signProbe, verifyProbe, type ProbeDirection } from "./auth.ts";

/** The config model's address (`host` without brackets; `text` as written, for logs). */
export type { HostPort } from "../config/index.ts";
import type { HostPort } from "../config/index.ts";

export type SocketPhase = "bind" | "send" | "receive";

export type TransponderEvents = {
  /** A well-formed reply arrived (not yet checked to be ours: the monitor does that). */
  onReply(probe: Probe, receivedMonoNs: bigint, receivedUnixNs: bigint): void;
  /** We reflected a request (the reply left the socket). */
  onRequestAnswered(): void;
  /** A datagram that is not a probe was dropped; `reason` is a metric label. */
  onMalformed(reason: string, bytes: number): void;
  onSocketError(error: Error, phase: SocketPhase): void;
};

export type TransponderOptions = {
  addr: HostPort;
  probeAddr: HostPort;
  probeLocation: string;
  events: TransponderEvents;
  reopenBackoffMs?: { initial: number; max: number };
  /**
   * With a shared secret: every datagram sent carries an HMAC, every one
   * received must (else dropped as `unauthenticated`/`bad_mac`), and a request
   * replaying an old sequence is dropped as `replay`, never reflected.
   */
  probeKey?: Buffer;
  /**
   * The ids in our own requests (src_uuid, dst_uuid). A request carrying one is
   * our own probe bounced back at us: dropped as `own_request`, never answered
   * (docs/hardening.md "Reflected probes"). Read per datagram.
   */
  ownIds?: { has(id: Buffer): boolean };
};

export interface Transponder {
  /** Sends one request (a 142-byte probe) to probeAddr. False when the socket is not open now; never throws. */
  send(datagram: Buffer): boolean;
  readonly bound: boolean;
  /** Stops re-opening and closes the socket. Idempotent. */
  close(): Promise<void>;
}

const DEFAULT_BACKOFF_MS = { initial: 100, max: 5_000 };

/** Send errors that say the path is down, not that our socket is broken. */
const PATH_ERRORS = new Set(["ENETUNREACH", "EHOSTUNREACH", "ENETDOWN", "EHOSTDOWN", "EPERM", "ENOBUFS", "ECONNREFUSED"]);

export function isPathError(error: unknown): boolean {
  return PATH_ERRORS.has((error as { code?: string })?.code ?? "");
}

export function startTransponder(opts: TransponderOptions): Transponder {
  const { addr, probeAddr, events } = opts;
  const backoffMs = opts.reopenBackoffMs ?? DEFAULT_BACKOFF_MS;
  const { probeKey } = opts;
  const replayGuard = probeKey ? new ReplayGuard() : undefined;
  const seal = (datagram: Buffer, direction: ProbeDirection): Buffer => (probeKey ? signProbe(datagram, probeKey, direction) : datagram);
  const log = new TaggedLog("probe");

  let socket: dgram.Socket | undefined;
  let bound = false;
  let closed = false;
  let reopenTimer: ReturnType<typeof setTimeout> | undefined;
  let failedOpens = 0; // consecutive, drives the back-off
  let boundAtMs = 0;
  let closing: Promise<void> | undefined;

  /** Runs a user callback; it may throw, we must not. */
  function safely(what: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      log.error(`${what} callback threw`, { addr: addr.text, error: errorMessage(e) });
    }
  }

  function reportError(error: unknown, phase: SocketPhase): void {
    const err = error instanceof Error ? error : new Error(String(error));
    safely("onSocketError", () => events.onSocketError(err, phase));
  }

  function open(): void {
    reopenTimer = undefined;
    if (closed) return;
    let s: dgram.Socket;
    try {
      s = dgram.createSocket({ type: addr.family === 6 ? "udp6" : "udp4" });
    } catch (e) {
      fail(undefined, e, "bind");
      return;
    }
    socket = s;
    s.on("error", (err) => fail(s, err, bound ? "receive" : "bind"));
    s.on("message", (msg, rinfo) => {
      if (s === socket) receive(s, msg, rinfo);
    });
    try {
      s.bind({ address: addr.host, port: addr.port, exclusive: true }, () => {
        if (s !== socket || closed) return;
        bound = true;
        boundAtMs = Date.now();
        if (failedOpens > 0) log.info("transponder socket re-opened", { addr: addr.text, attempts: failedOpens });
        failedOpens = 0;
      });
    } catch (e) {
      fail(s, e, "bind");
    }
  }

  /** Closes the socket (if still current) and schedules a re-open with back-off. */
  function fail(s: dgram.Socket | undefined, error: unknown, phase: SocketPhase): void {
    if (s !== socket || closed) return; // a stale socket's late error
    reportError(error, phase);
    // A socket that stayed up a while earns a fresh back-off; a flapping one does not.
    if (bound && Date.now() - boundAtMs >= backoffMs.max) failedOpens = 0;
    const delayMs = Math.min(backoffMs.max, backoffMs.initial * 2 ** failedOpens);
    failedOpens++;
    log.warn(`transponder socket ${phase} failed, re-opening`, { addr: addr.text, error: errorMessage(error), delayMs });
    if (s) void dispose(s);
    socket = undefined;
    bound = false;
    reopenTimer = setTimeout(open, delayMs);
  }

  function receive(s: dgram.Socket, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    try {
      const receivedMonoNs = process.hrtime.bigint();
      const receivedUnixNs = nowUnixNs();
      let payload = msg;
      if (probeKey) {
        const verified = verifyProbe(msg, probeKey, claimedDirection(msg));
        if (!verified.ok) {
          safely("onMalformed", () => events.onMalformed(verified.reason, msg.length));
          return;
        }
        payload = verified.payload;
      }
      const decoded = decodeProbe(payload);
      if (!decoded.ok) {
        safely("onMalformed", () => events.onMalformed(decoded.reason, msg.length));
        return;
      }
      if (!isRequest(decoded.probe)) {
        safely("onReply", () => events.onReply(decoded.probe, receivedMonoNs, receivedUnixNs));
        return;
      }
      const { probe } = decoded;
      if (opts.ownIds && (opts.ownIds.has(probe.srcUuid) || opts.ownIds.has(probe.dstUuid))) {
        safely("onMalformed", () => events.onMalformed("own_request", msg.length));
        return;
      }
      if (replayGuard && !replayGuard.accept(Buffer.concat([probe.srcUuid, probe.dstUuid]), probe.sequence)) {
        safely("onMalformed", () => events.onMalformed("replay", msg.length));
        return;
      }
      reflect(s, seal(makeReply(payload, nowUnixNs(), opts.probeLocation), "reply"), { address: rinfo.address, port: rinfo.port });
    } catch (e) {
      // Our own bug; keep receiving whatever it was.
      log.error("transponder failed to handle a datagram", { addr: addr.text, error: errorMessage(e) });
    }
  }

  function reflect(s: dgram.Socket, reply: Buffer, to: { address: string; port: number }): void {
    // A failed answer is counted but never closes the socket: the destination
    // comes from the network and could be chosen to knock us off the air.
    const onSent = (error: Error | null): void => {
      if (error) reportError(error, "send");
      else safely("onRequestAnswered", () => events.onRequestAnswered());
    };
    try {
      s.send(reply, to.port, to.address, onSent);
    } catch (e) {
      reportError(e, "send");
    }
  }

  function send(datagram: Buffer): boolean {
    const s = socket;
    if (!s || !bound || closed) return false;
    try {
      s.send(seal(datagram, "request"), probeAddr.port, probeAddr.host, (error) => {
        if (!error) return;
        // The path is down (link cut, no route): the probe is lost, but the socket is
        // fine and must keep answering the peer. Re-open only when the socket itself broke.
        if (isPathError(error)) reportError(error, "send");
        else fail(s, error, "send");
      });
      return true;
    } catch (e) {
      fail(s, e, "send");
      return false;
    }
  }

  function dispose(s: dgram.Socket): Promise<void> {
    s.removeAllListeners("message");
    // Late errors of a closing socket are noise; keep a listener so none is unhandled.
    s.removeAllListeners("error");
    s.on("error", () => {});
    return new Promise<void>((resolve) => {
      try {
        s.close(() => resolve());
      } catch {
        resolve(); // already closed, or never bound
      }
    });
  }

  function close(): Promise<void> {
    if (closing) return closing;
    closed = true;
    if (reopenTimer) clearTimeout(reopenTimer);
    reopenTimer = undefined;
    const s = socket;
    socket = undefined;
    bound = false;
    closing = s ? dispose(s) : Promise.resolve();
    return closing;
  }

  open();
  return {
    send,
    get bound() {
      return bound;
    },
    close,
  };
}
