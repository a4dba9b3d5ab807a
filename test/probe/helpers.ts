// Shared by the transponder tests: real sockets on 127.0.0.1 only.
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { GO_ZERO_TIME, nowUnixNs } from "../../src/probe/gotime.ts";
import { startTransponder, type HostPort, type SocketPhase } from "../../src/probe/transponder.ts";
import { encodeProbe, type Probe } from "../../src/probe/wire.ts";
import { waitFor as waitForCondition } from "../../src/util/wait.ts";

/** Positional form of src/util/wait.ts's waitFor, as these tests call it. */
export const waitFor = (pred: () => boolean, timeoutMs = 3_000, what = "condition"): Promise<void> =>
  waitForCondition(pred, { timeoutMs, what, intervalMs: 2 });

/** True when pred never holds during forMs (used to show nothing happens after close). */
export async function staysFalse(pred: () => boolean, forMs: number): Promise<boolean> {
  const deadline = Date.now() + forMs;
  while (Date.now() < deadline) {
    if (pred()) return false;
    await new Promise((r) => setTimeout(r, 2));
  }
  return !pred();
}

export function hostPort(port: number, host = "127.0.0.1", family: 4 | 6 = 4): HostPort {
  return { host, port, family, text: family === 6 ? `[${host}]:${port}` : `${host}:${port}` };
}

/** A bound UDP socket that records what it receives. */
export async function peer(type: "udp4" | "udp6" = "udp4", host = "127.0.0.1") {
  const socket = dgram.createSocket(type);
  const received: { msg: Buffer; port: number }[] = [];
  socket.on("message", (msg, rinfo) => received.push({ msg, port: rinfo.port }));
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(0, host, () => resolve());
  });
  const port = socket.address().port;
  return {
    socket,
    port,
    received,
    sendTo(buf: Buffer, toPort: number) {
      socket.send(buf, toPort, host);
    },
    close: () => new Promise<void>((r) => socket.close(() => r())),
  };
}

/** A port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const p = await peer();
  await p.close();
  return p.port;
}

export function recorder() {
  const r = {
    replies: [] as { probe: Probe; monoNs: bigint; unixNs: bigint }[],
    answered: 0,
    malformed: [] as { reason: string; bytes: number }[],
    errors: [] as { error: Error; phase: SocketPhase }[],
    events: {
      onReply: (probe: Probe, monoNs: bigint, unixNs: bigint) => void r.replies.push({ probe, monoNs, unixNs }),
      onRequestAnswered: () => void r.answered++,
      onMalformed: (reason: string, bytes: number) => void r.malformed.push({ reason, bytes }),
      onSocketError: (error: Error, phase: SocketPhase) => void r.errors.push({ error, phase }),
    },
  };
  return r;
}

let seq = 0n;
/** The sequence of the last request() made. */
export const lastSequence = (): bigint => seq;
export function request(location = "right/active"): Buffer {
  seq++;
  return encodeProbe({
    sequence: seq,
    srcUuid: Buffer.alloc(16, 0xab),
    srcTime: { unixNs: nowUnixNs(), offsetMin: -1 },
    srcLocation: location,
    dstUuid: Buffer.alloc(16, 0xcd),
    dstTime: GO_ZERO_TIME,
    dstLocation: "",
  });
}

/** Starts a transponder on a free port and waits until it is bound. */
export async function started(rec: ReturnType<typeof recorder>, probePort = 9, extra: Partial<Parameters<typeof startTransponder>[0]> = {}) {
  const port = await freePort();
  const t = startTransponder({
    addr: hostPort(port),
    probeAddr: hostPort(probePort),
    probeLocation: "left/active",
    events: rec.events,
    ...extra,
  });
  await waitFor(() => t.bound, 3_000, "bound");
  return { t, port };
}

/** Sends a request from `client` and waits for the answer. */
export async function roundTrip(client: Awaited<ReturnType<typeof peer>>, port: number): Promise<Buffer> {
  const before = client.received.length;
  const req = request();
  client.sendTo(req, port);
  await waitFor(() => client.received.length > before, 3_000, "reply");
  const reply = client.received[client.received.length - 1]!.msg;
  assert.deepEqual(reply.subarray(0, 91), req.subarray(0, 91), "bytes 0..90 unchanged");
  return reply;
}

