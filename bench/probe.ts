/**
 * Probe path benchmark on loopback (127.0.0.1), one process, one JS thread.
 *   bun bench/probe.ts            deno run -A bench/probe.ts
 * (a) throughput: A sends probes to B, B reflects, A decodes; closed loop with
 *     WINDOW probes in flight for DURATION_MS.
 * (b) round trip, one probe at a time: transponder ↔ transponder vs a raw
 *     node:dgram echo of the same 142 bytes (the floor the runtime allows).
 */
import dgram from "node:dgram";
import { GO_ZERO_TIME, nowUnixNs } from "../src/probe/gotime.ts";
import { startTransponder, type HostPort, type Transponder } from "../src/probe/transponder.ts";
import { encodeProbe, PROBE_SIZE, type Probe } from "../src/probe/wire.ts";

const WINDOW = 64;
const DURATION_MS = 3_000;
const SAMPLES = 5_000;
const WARMUP = 500;

const runtime =
  "Deno" in globalThis ? `deno ${process.versions.deno ?? ""}` : "Bun" in globalThis ? `bun ${process.versions.bun ?? ""}` : `node ${process.version}`;

const hp = (port: number): HostPort => ({ host: "127.0.0.1", port, family: 4, text: `127.0.0.1:${port}` });

const pairs: Transponder[] = []; // closed at the end

async function freePort(): Promise<number> {
  const s = dgram.createSocket("udp4");
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function waitFor(pred: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 1));
  }
}

const srcUuid = Buffer.alloc(16, 0x11);
const dstUuid = Buffer.alloc(16, 0x22);
function probeBytes(sequence: bigint): Buffer {
  const p: Probe = {
    sequence,
    srcUuid,
    srcTime: { unixNs: nowUnixNs(), offsetMin: -1 },
    srcLocation: "bench/left",
    dstUuid,
    dstTime: GO_ZERO_TIME,
    dstLocation: "",
  };
  return encodeProbe(p);
}

/** Two transponders pointing at each other; `onReply` is what A does with a reply. */
async function pair(onReply: (sequence: bigint, receivedMonoNs: bigint) => void): Promise<[Transponder, Transponder]> {
  const [portA, portB] = [await freePort(), await freePort()];
  const quiet = { onRequestAnswered() {}, onMalformed() {}, onSocketError(e: Error) { process.stderr.write(`socket error: ${e.message}\n`); } };
  const a = startTransponder({
    addr: hp(portA), probeAddr: hp(portB), probeLocation: "bench/left",
    events: { ...quiet, onReply: (p, mono) => onReply(p.sequence, mono) },
  });
  const b = startTransponder({ addr: hp(portB), probeAddr: hp(portA), probeLocation: "bench/right", events: { ...quiet, onReply() {} } });
  await waitFor(() => a.bound && b.bound, 2_000);
  return [a, b];
}

async function throughput(): Promise<{ perSec: number; lost: number; sendFailures: number }> {
  let seq = 0n;
  let returned = 0;
  let lost = 0;
  let sendFailures = 0;
  let running = true;
  const inFlight = new Map<bigint, number>(); // sequence → sent at (ms)
  const fire = () => {
    if (!running) return;
    const s = ++seq;
    inFlight.set(s, performance.now());
    if (!a.send(probeBytes(s))) {
      inFlight.delete(s);
      sendFailures++;
    }
  };
  const [a, b] = await pair((s) => {
    if (!inFlight.delete(s)) return; // late, already written off
    returned++;
    fire();
  });
  pairs.push(a, b);
  // A datagram dropped by a full socket buffer would shrink the window for good: write it off and refill.
  const sweep = setInterval(() => {
    const now = performance.now();
    for (const [s, sentMs] of inFlight) if (now - sentMs > 200) (inFlight.delete(s), lost++);
    while (inFlight.size < WINDOW) fire();
  }, 50);
  const startMs = performance.now();
  for (let i = 0; i < WINDOW; i++) fire();
  await new Promise((r) => setTimeout(r, DURATION_MS));
  running = false;
  clearInterval(sweep);
  const elapsedS = (performance.now() - startMs) / 1000;
  return { perSec: returned / elapsedS, lost, sendFailures };
}

function quantiles(samplesNs: bigint[]): { p50: number; p99: number; max: number } {
  const us = samplesNs.map((n) => Number(n) / 1000).sort((x, y) => x - y);
  const at = (q: number) => us[Math.min(us.length - 1, Math.floor(q * us.length))]!;
  return { p50: at(0.5), p99: at(0.99), max: us[us.length - 1]! };
}

/** One at a time: `send` starts a trip, `arrived` resolves when it is back. */
async function sequentialRtt(send: () => void, setArrived: (f: (monoNs: bigint) => void) => void): Promise<bigint[]> {
  const out: bigint[] = [];
  for (let i = 0; i < WARMUP + SAMPLES; i++) {
    const t0 = process.hrtime.bigint();
    const t1 = await new Promise<bigint>((resolve) => {
      setArrived(resolve);
      send();
    });
    if (i >= WARMUP) out.push(t1 - t0);
  }
  return out;
}

async function transponderRtt(): Promise<bigint[]> {
  let arrived: (monoNs: bigint) => void = () => {};
  let seq = 0n;
  const [a, b] = await pair((_s, mono) => arrived(mono));
  pairs.push(a, b);
  return sequentialRtt(
    () => void a.send(probeBytes(++seq)),
    (f) => (arrived = f),
  );
}

async function rawRtt(): Promise<bigint[]> {
  const x = dgram.createSocket("udp4");
  const y = dgram.createSocket("udp4");
  await new Promise<void>((r) => x.bind(0, "127.0.0.1", () => r()));
  await new Promise<void>((r) => y.bind(0, "127.0.0.1", () => r()));
  y.on("message", (msg, rinfo) => y.send(msg, rinfo.port, rinfo.address));
  let arrived: (monoNs: bigint) => void = () => {};
  x.on("message", () => arrived(process.hrtime.bigint()));
  const payload = Buffer.alloc(PROBE_SIZE, 1);
  const yPort = y.address().port;
  try {
    return await sequentialRtt(
      () => x.send(payload, yPort, "127.0.0.1"),
      (f) => (arrived = f),
    );
  } finally {
    await new Promise<void>((r) => x.close(() => r()));
    await new Promise<void>((r) => y.close(() => r()));
  }
}

// process.stdout rather than console: `deno check` with this tsconfig's libs has no console.
const out = (line: string) => process.stdout.write(line + "\n");
const fmt = (n: number) => n.toFixed(1).padStart(8);
const tp = await throughput();
const trip = quantiles(await transponderRtt());
const raw = quantiles(await rawRtt());
await Promise.all(pairs.map((t) => t.close()));

out(`vpnham probe bench — ${runtime}, loopback, ${WINDOW} in flight for ${DURATION_MS} ms`);
out(`throughput: ${Math.round(tp.perSec)} probes/s (encode+send+reflect+decode), lost ${tp.lost}, send failures ${tp.sendFailures}`);
out(`round trip, ${SAMPLES} samples one at a time (µs):`);
out(`  path                        p50       p99       max`);
out(`  transponder↔transponder ${fmt(trip.p50)}  ${fmt(trip.p99)}  ${fmt(trip.max)}`);
out(`  raw dgram echo          ${fmt(raw.p50)}  ${fmt(raw.p99)}  ${fmt(raw.max)}`);
