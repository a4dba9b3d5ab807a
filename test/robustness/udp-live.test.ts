// Fuzzing live sockets: a transponder alone, then a running bridge whose probe
// path we tap, so we can forge replies with its real ids (replays, far-future
// sequences) besides plain garbage. Every datagram is accounted for exactly:
// answered, delivered, or counted by reason. Paced by sentinel requests, so
// the kernel has no reason to drop any (a drop would show in /proc/net/udp and
// relax the equality to a bound).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { startDaemon, type Daemon } from "../../src/daemon/daemon.ts";
import { WINDOW_SLACK } from "../../src/monitor/tunnel-health.ts";
import { nowUnixNs } from "../../src/probe/gotime.ts";
import { startTransponder } from "../../src/probe/transponder.ts";
import { isRequest, PROBE_SIZE } from "../../src/probe/wire.ts";
import {
  bindUdp,
  bridgeConfig,
  closeUdp,
  craftProbe,
  hp,
  metricSum,
  mutated,
  oracle,
  peek,
  prng,
  startEcho,
  startRelay,
  testSeed,
  udpDrops,
  waitFor,
} from "./support.ts";

const seed = testSeed();

/** Sends datagrams in small batches, each closed by a request we wait to see answered. */
function pacer(send: (msg: Buffer) => void, answered: (marker: Buffer, sequence: bigint) => boolean) {
  const marker = randomBytes(16);
  let sequence = 0n;
  let batchBytes = 0;
  let batchCount = 0;
  const flush = async (): Promise<void> => {
    sequence++;
    const seq = sequence;
    // Resend the sentinel if it was lost; the wait proves the batch before it was read.
    for (let attempt = 0; ; attempt++) {
      send(craftProbe({ sequence: seq, srcUuid: marker, dstUuid: marker }));
      try {
        await waitFor(() => answered(marker, seq), { timeoutMs: 1000, intervalMs: 1, what: `sentinel ${seq}` });
        break;
      } catch (error) {
        if (attempt >= 4) throw error;
      }
    }
    batchBytes = 0;
    batchCount = 0;
  };
  return {
    marker,
    sentinels: () => sequence,
    async push(msg: Buffer): Promise<void> {
      send(msg);
      batchBytes += msg.length + 512;
      batchCount++;
      if (batchBytes > 64 * 1024 || batchCount >= 64) await flush();
    },
    flush,
  };
}

describe(`live transponder fuzz (seed ${seed})`, () => {
  test("every size, random and mutated datagrams: each answered, delivered or counted", async () => {
    const r = prng(seed);
    const counted = new Map<string, number>();
    let delivered = 0;
    let answered = 0;
    let socketErrors = 0;
    const addr = hp("127.88.1.1", 3003);
    const t = startTransponder({
      addr,
      probeAddr: hp("127.88.1.2", 9),
      probeLocation: "robust/live",
      events: {
        onReply: () => void delivered++,
        onRequestAnswered: () => void answered++,
        onMalformed: (reason) => void counted.set(reason, (counted.get(reason) ?? 0) + 1),
        onSocketError: () => void socketErrors++,
      },
    });
    const client = await bindUdp("127.88.1.2", 0);
    const replies: Buffer[] = [];
    client.on("message", (msg) => replies.push(msg));
    try {
      await waitFor(() => t.bound, { timeoutMs: 3000, what: "bound" });
      const dropsBefore = udpDrops(addr.host, addr.port);
      const seenSentinels = new Set<bigint>();
      const p = pacer(
        (msg) => client.send(msg, addr.port, addr.host),
        (marker, sequence) => {
          for (const reply of replies.splice(0)) {
            const probe = peek(reply);
            if (probe && probe.srcUuid.equals(marker)) seenSentinels.add(probe.sequence);
          }
          return seenSentinels.has(sequence);
        },
      );
      const expected = new Map<string, number>();
      let expectRequests = 0;
      let expectReplies = 0;
      const push = async (msg: Buffer): Promise<void> => {
        const verdict = oracle(msg);
        if (verdict === "ok") {
          if (isRequest(peek(msg)!)) expectRequests++;
          else expectReplies++;
        } else expected.set(verdict, (expected.get(verdict) ?? 0) + 1);
        await p.push(msg);
      };

      // Every length up to 1600 but 142, then a spread up to the largest UDP/IPv4 payload.
      for (let n = 0; n <= 1600; n++) if (n !== PROBE_SIZE) await push(r.bytes(n));
      for (const n of [2000, 4096, 8192, 9000, 16384, 32768, 65000, 65507]) await push(r.bytes(n));
      for (let i = 0; i < 16; i++) await push(r.bytes(r.int(1601, 65507)));
      // 142 bytes: pure noise, then near-valid probes (both time versions, nsec, UTF-8, requests, replies).
      for (let i = 0; i < 500; i++) await push(r.bytes(PROBE_SIZE));
      for (let i = 0; i < 3000; i++) await push(mutated(r));
      await p.flush();

      const drops = udpDrops(addr.host, addr.port) - dropsBefore;
      const report = JSON.stringify({ expected: [...expected], counted: [...counted], drops, expectRequests, answered, expectReplies, delivered });
      if (drops === 0) {
        assert.deepEqual(new Map([...counted].sort()), new Map([...expected].sort()), report);
        // Each sentinel is a request too, answered like any other.
        assert.equal(answered, expectRequests + Number(p.sentinels()), report);
        assert.equal(delivered, expectReplies, report);
      } else {
        // The kernel dropped some (receive buffer full): nothing may be over-counted, and
        // the shortfall is at most what the kernel dropped.
        let missing = 0;
        for (const [reason, n] of expected) {
          assert.ok((counted.get(reason) ?? 0) <= n, report);
          missing += n - (counted.get(reason) ?? 0);
        }
        assert.ok(missing <= drops, report);
      }
      assert.equal(socketErrors, 0, "no input closes the socket");
      assert.ok(t.bound, "still bound");
    } finally {
      await closeUdp(client);
      await t.close();
    }
  });
});

describe(`running bridge: forged and malformed probes (seed ${seed})`, () => {
  const bridge = "robust-fuzz";
  const tunnel = "t0";
  const daemonAddr = hp("127.88.1.3", 3003);
  const near = hp("127.88.1.4", 3003);
  const far = hp("127.88.1.5", 3003);
  const peerAddr = hp("127.88.1.6", 3003);
  const labels = { bridge, tunnel };
  let daemon: Daemon;
  let echo: Awaited<ReturnType<typeof startEcho>>;
  let relay: Awaited<ReturnType<typeof startRelay>>;
  // What the tap learned: the bridge's ids, its newest sequence, the replies it got.
  let bridgeId: Buffer | undefined;
  let tunnelId: Buffer | undefined;
  let lastSequence = 0n;
  const realReplies: { sequence: bigint; bytes: Buffer }[] = [];
  const reflected = new Map<string, Set<bigint>>();

  before(async () => {
    echo = await startEcho(peerAddr);
    relay = await startRelay({
      near,
      far,
      daemon: daemonAddr,
      peer: peerAddr,
      toPeer: (msg) => {
        const probe = peek(msg);
        if (!probe) return;
        if (isRequest(probe)) {
          bridgeId = probe.srcUuid;
          tunnelId = probe.dstUuid;
          if (probe.sequence > lastSequence) lastSequence = probe.sequence;
          return;
        }
        // A request we injected, reflected by the bridge: note it, don't bother the echo.
        const key = probe.srcUuid.toString("hex");
        if (!reflected.has(key)) reflected.set(key, new Set());
        reflected.get(key)!.add(probe.sequence);
        return "drop";
      },
      toDaemon: (msg) => {
        const probe = peek(msg);
        if (probe && realReplies.length < 10_000) realReplies.push({ sequence: probe.sequence, bytes: Buffer.from(msg) });
      },
    });
    daemon = await startDaemon(
      bridgeConfig(
        {
          name: bridge,
          role: "active",
          statusAddr: "127.88.1.3:8080",
          partnerUrl: "http://127.88.1.3:1/",
          probeInterval: "20ms",
          tunnels: [{ name: tunnel, role: "active", addr: daemonAddr.text, probeAddr: near.text, thresholdDown: 3, thresholdUp: 2 }],
        },
        "127.88.1.3:8000",
      ),
    );
    await waitFor(async () => (await metricSum(daemon.metrics.tunnelUp, labels)) === 1 && realReplies.length >= 3, {
      timeoutMs: 5000,
      what: "tunnel up",
    });
  });

  after(async () => {
    await daemon?.stop();
    await relay?.close();
    await echo?.close();
  });

  /** Injects, then waits until a sentinel request injected after them was reflected. */
  async function injectAll(datagrams: Buffer[]): Promise<void> {
    const p = pacer(
      (msg) => void relay.inject(msg),
      (marker, sequence) => reflected.get(marker.toString("hex"))?.has(sequence) === true,
    );
    for (const d of datagrams) await p.push(d);
    await p.flush();
  }

  const malformed = (reason: string) => metricSum(daemon.metrics.datagramsMalformed, { ...labels, reason });

  test("garbage, wrong ids, far-future and replayed sequences: counted by reason, never a returned probe", async () => {
    const r = prng(seed + 7);
    const replayable = () => realReplies.filter((x) => x.sequence + 2n <= lastSequence && lastSequence - x.sequence < 40n);
    await waitFor(() => replayable().length >= 20, { timeoutMs: 5000, what: "real replies to replay" });
    const transitionsBefore = await metricSum(daemon.metrics.roleTransitions, { bridge });
    const returnedBefore = await metricSum(daemon.metrics.probesReturned, labels);
    const lateBefore = await metricSum(daemon.metrics.probesLate, labels);
    const before = new Map<string, number>();
    for (const reason of ["size", "time_version", "time_range", "location_utf8", "foreign_reply", "reply_future", "reply_duplicate", "reply_stale"]) {
      before.set(reason, await malformed(reason));
    }
    const ids = { srcUuid: bridgeId!, dstUuid: tunnelId! };
    const now = nowUnixNs();
    const expect = new Map<string, number>();
    const batch: Buffer[] = [];
    const add = (reason: string, msg: Buffer): void => {
      batch.push(msg);
      expect.set(reason, (expect.get(reason) ?? 0) + 1);
    };

    for (const n of [0, 1, 8, 141, 143, 284, 1500, 9000, 65507]) add("size", r.bytes(n));
    for (let i = 0; i < 300; i++) {
      const msg = mutated(r);
      const verdict = oracle(msg);
      if (verdict !== "ok") add(verdict, msg);
    }
    for (let i = 0; i < 100; i++) {
      // Valid-looking replies that are not ours: another bridge, another tunnel, or both.
      const which = i % 3;
      add("foreign_reply", craftProbe({
        sequence: lastSequence - BigInt(i % 3),
        srcUuid: which === 1 ? ids.srcUuid : randomBytes(16),
        dstUuid: which === 0 ? ids.dstUuid : randomBytes(16),
        replyAtNs: now,
      }));
    }
    // Right ids, sequences we never sent: 0, far future, the end of the u64 range.
    for (const sequence of [0n, lastSequence + 10_000n, 2n ** 63n, 2n ** 64n - 1n]) {
      add("reply_future", craftProbe({ sequence, ...ids, replyAtNs: now }));
    }
    // Replays of real replies the bridge already took, a few probes back.
    const replays = replayable().slice(-20);
    for (const x of replays) batch.push(x.bytes);

    await injectAll(batch);

    for (const [reason, n] of expect) assert.equal((await malformed(reason)) - before.get(reason)!, n, `reason ${reason}`);
    // A replay is a duplicate, unless its original came back late (then late again).
    const dup = (await malformed("reply_duplicate")) - before.get("reply_duplicate")!;
    const late = (await metricSum(daemon.metrics.probesLate, labels)) - lateBefore;
    assert.equal(dup + late, replays.length, `replays: ${dup} duplicate + ${late} late`);

    // None of it counted as a returned probe, moved a verdict or a role.
    const sent = await metricSum(daemon.metrics.probesSent, labels);
    const returned = await metricSum(daemon.metrics.probesReturned, labels);
    const failed = await metricSum(daemon.metrics.probesFailed, labels);
    assert.ok(sent - returned - failed >= 0 && sent - returned - failed <= 1, `sent ${sent} = returned ${returned} + failed ${failed} + in flight`);
    assert.equal(await metricSum(daemon.metrics.tunnelUp, labels), 1);
    assert.equal(await metricSum(daemon.metrics.roleTransitions, { bridge }), transitionsBefore);
    // …and real probes kept coming back.
    await waitFor(async () => (await metricSum(daemon.metrics.probesReturned, labels)) >= returnedBefore + 5, {
      timeoutMs: 3000,
      what: "real probes still returned",
    });
  });

  test("a replay older than the window is stale; the sequence exactly one window back too (regression (Go): no crash)", async () => {
    const windowLength = BigInt(Math.max(3, 2) + WINDOW_SLACK);
    const oldest = realReplies[0]!;
    await waitFor(() => lastSequence >= oldest.sequence + windowLength + 2n, { timeoutMs: 10_000, what: "a window of probes" });
    const staleBefore = await malformed("reply_stale");
    const exactlyOneWindow = realReplies.find((x) => x.sequence === lastSequence - windowLength);
    const batch = [oldest.bytes, ...(exactlyOneWindow ? [exactlyOneWindow.bytes] : [])];
    await injectAll(batch);
    assert.equal((await malformed("reply_stale")) - staleBefore, batch.length);
    assert.equal(await metricSum(daemon.metrics.tunnelUp, labels), 1);
  });

  test("regression (Go): an empty datagram at a running bridge is counted and probing goes on", async () => {
    const sizeBefore = await malformed("size");
    const returnedBefore = await metricSum(daemon.metrics.probesReturned, labels);
    await injectAll([Buffer.alloc(0), Buffer.alloc(0)]);
    assert.equal((await malformed("size")) - sizeBefore, 2);
    await waitFor(async () => (await metricSum(daemon.metrics.probesReturned, labels)) >= returnedBefore + 3, {
      timeoutMs: 3000,
      what: "probes returned after empty datagrams",
    });
  });
});
