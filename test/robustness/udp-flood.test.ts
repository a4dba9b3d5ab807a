// A flood of ≥ 100 000 bad datagrams at the transponder of a bridge running in
// its own process (the runtime under test), while it probes a real peer (a
// bridge in this process) through a tapped link. The process must stay up,
// answer the peer's real probes, keep its verdicts, and count every datagram it
// drops. The flood is paced by sentinel requests, so it measures our handling,
// not the kernel's buffer; any datagram the kernel still drops shows in
// /proc/net/udp and turns the equalities into bounds.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { startDaemon, type Daemon } from "../../src/daemon/daemon.ts";
import { nowUnixNs } from "../../src/probe/gotime.ts";
import { isRequest, PROBE_SIZE } from "../../src/probe/wire.ts";
import {
  bindUdp,
  bridgeConfig,
  bridgeYaml,
  closeUdp,
  craftProbe,
  hp,
  metricSum,
  mutated,
  oracle,
  peek,
  prng,
  scrape,
  spawnDaemon,
  startRelay,
  sumSamples,
  tempDir,
  testSeed,
  udpDrops,
  waitFor,
  type ChildDaemon,
} from "./support.ts";

const FLOOD = 100_000;
const seed = testSeed();
const left = { bridge: "robust-flood-lft", tunnel: "t0", addr: hp("127.88.2.1", 3003), metrics: "http://127.88.2.1:8000/metrics" };
const right = { bridge: "robust-flood-rgt", tunnel: "t0", addr: hp("127.88.2.2", 3003) };
const near = hp("127.88.2.3", 3003);
const far = hp("127.88.2.4", 3003);

describe(`flood of ${FLOOD} datagrams at a running bridge (seed ${seed})`, () => {
  const dir = tempDir("flood");
  let child: ChildDaemon;
  let peer: Daemon;
  let relay: Awaited<ReturnType<typeof startRelay>>;
  let bridgeId: Buffer | undefined;
  let tunnelId: Buffer | undefined;
  let lastSequence = 0n;
  const realReplies: Buffer[] = [];
  const clients: Awaited<ReturnType<typeof bindUdp>>[] = []; // closed in after(), also when a test fails

  before(async () => {
    relay = await startRelay({
      near,
      far,
      daemon: left.addr,
      peer: right.addr,
      toPeer: (msg) => {
        const p = peek(msg);
        if (p && isRequest(p)) {
          bridgeId = p.srcUuid;
          tunnelId = p.dstUuid;
          if (p.sequence > lastSequence) lastSequence = p.sequence;
        }
      },
      toDaemon: (msg) => {
        if (realReplies.length < 1000) realReplies.push(Buffer.from(msg));
      },
    });
    const path = join(dir.path, "left.yaml");
    writeFileSync(
      path,
      bridgeYaml(
        {
          name: left.bridge,
          role: "active",
          statusAddr: "127.88.2.1:8080",
          partnerUrl: "http://127.88.2.1:1/",
          probeInterval: "100ms",
          tunnels: [{ name: left.tunnel, role: "active", addr: left.addr.text, probeAddr: near.text, thresholdDown: 3, thresholdUp: 2 }],
        },
        "127.88.2.1:8000",
      ),
    );
    child = spawnDaemon(path, ["--log-level", "warn"]);
    peer = await startDaemon(
      bridgeConfig(
        {
          name: right.bridge,
          role: "active",
          statusAddr: "127.88.2.2:8080",
          partnerUrl: "http://127.88.2.2:1/",
          probeInterval: "100ms",
          tunnels: [{ name: right.tunnel, role: "active", addr: right.addr.text, probeAddr: left.addr.text, thresholdDown: 3, thresholdUp: 2 }],
        },
        "127.88.2.2:8000",
      ),
    );
    await waitFor(
      async () => {
        if (child.exited) throw new Error(`daemon exited: ${child.stderr()}`);
        const samples = await scrape(left.metrics).catch(() => []);
        return sumSamples(samples, "vpnham_tunnel_interface_up", { bridge: left.bridge }) === 1 && realReplies.length >= 20;
      },
      { timeoutMs: 15_000, what: "the flooded bridge's tunnel up" },
    );
    await waitFor(async () => (await metricSum(peer.metrics.tunnelUp, { bridge: right.bridge })) === 1, { timeoutMs: 5000, what: "peer up" });
  });

  after(async () => {
    await Promise.all(clients.map(closeUdp));
    await child?.stop();
    await peer?.stop();
    await relay?.close();
    dir.remove();
  });

  test("stays up, answers real probes, keeps its verdicts, counts every datagram", async () => {
    const r = prng(seed);
    const client = await bindUdp("127.88.2.5", 0);
    clients.push(client);
    const marker = randomBytes(16);
    const sentinelsSeen = new Set<bigint>();
    let strangerAnswers = 0;
    client.on("message", (msg) => {
      const p = peek(msg);
      if (p && p.srcUuid.equals(marker)) sentinelsSeen.add(p.sequence);
      else strangerAnswers++;
    });
    const send = (msg: Buffer): void => client.send(msg, left.addr.port, left.addr.host);

    const before = await scrape(left.metrics);
    const leftTransitionsBefore = sumSamples(before, "vpnham_role_transitions_total", { bridge: left.bridge });
    const leftReturnedBefore = sumSamples(before, "vpnham_probes_returned_total", { bridge: left.bridge });
    const peerTransitionsBefore = await metricSum(peer.metrics.roleTransitions, { bridge: right.bridge });
    const peerReturnedBefore = await metricSum(peer.metrics.probesReturned, { bridge: right.bridge });
    const dropsBefore = udpDrops(left.addr.host, left.addr.port);
    const malformedBefore = (reason: string) => sumSamples(before, "vpnham_datagrams_malformed_total", { bridge: left.bridge, reason });

    const expected = new Map<string, number>();
    const count = (reason: string): void => void expected.set(reason, (expected.get(reason) ?? 0) + 1);
    let replays = 0;
    let strangerRequests = 0;
    let sentinel = 0n;
    let peerAlwaysUp = true;
    const started = performance.now();

    for (let sent = 0; sent < FLOOD; ) {
      for (let i = 0; i < 64 && sent < FLOOD; i++, sent++) {
        const kind = r.next();
        let msg: Buffer;
        if (kind < 0.3) {
          // Wrong sizes; one in a thousand as large as UDP allows.
          const n = r.next() < 0.001 ? r.int(1501, 65507) : r.int(0, 1500);
          msg = r.bytes(n === PROBE_SIZE ? 0 : n);
          count("size");
        } else if (kind < 0.5) {
          msg = r.bytes(PROBE_SIZE);
          count(oracle(msg) === "ok" ? (isRequest(peek(msg)!) ? "request" : "foreign_reply") : oracle(msg));
        } else if (kind < 0.65) {
          msg = mutated(r);
          const verdict = oracle(msg);
          count(verdict === "ok" ? (isRequest(peek(msg)!) ? "request" : "foreign_reply") : verdict);
        } else if (kind < 0.8) {
          const own = r.next() < 0.5;
          msg = craftProbe({ sequence: lastSequence, srcUuid: own ? bridgeId! : randomBytes(16), dstUuid: own ? randomBytes(16) : tunnelId!, replyAtNs: nowUnixNs() });
          count("foreign_reply");
        } else if (kind < 0.9) {
          msg = craftProbe({ sequence: lastSequence + 1_000_000n + BigInt(r.int(0, 1e6)), srcUuid: bridgeId!, dstUuid: tunnelId!, replyAtNs: nowUnixNs() });
          count("reply_future");
        } else if (kind < 0.95) {
          msg = r.pick(realReplies);
          replays++;
        } else {
          msg = craftProbe({ sequence: BigInt(sent), srcUuid: randomBytes(16), dstUuid: randomBytes(16) });
          count("request");
        }
        send(msg);
      }
      sentinel++;
      const seq = sentinel;
      for (let attempt = 0; ; attempt++) {
        send(craftProbe({ sequence: seq, srcUuid: marker, dstUuid: marker }));
        try {
          await waitFor(() => sentinelsSeen.has(seq), { timeoutMs: 1000, intervalMs: 1, what: `sentinel ${seq}` });
          break;
        } catch (error) {
          if (child.exited) throw new Error(`the flooded daemon died: ${child.stderr()}`);
          if (attempt >= 4) throw error;
        }
      }
      if (sentinel % 16n === 0n && (await metricSum(peer.metrics.tunnelUp, { bridge: right.bridge })) !== 1) peerAlwaysUp = false;
    }
    const floodMs = performance.now() - started;
    strangerRequests = expected.get("request") ?? 0;
    expected.delete("request");

    // Real probes both ways kept working during the flood, and keep working after it.
    await waitFor(async () => (await metricSum(peer.metrics.probesReturned, { bridge: right.bridge })) > peerReturnedBefore + 5, {
      timeoutMs: 3000,
      what: "peer's probes answered",
    });
    const after = await scrape(left.metrics);
    const drops = udpDrops(left.addr.host, left.addr.port) - dropsBefore;
    const got = (reason: string) => sumSamples(after, "vpnham_datagrams_malformed_total", { bridge: left.bridge, reason }) - malformedBefore(reason);
    const report = JSON.stringify({
      floodMs: Math.round(floodMs),
      drops,
      expected: Object.fromEntries(expected),
      counted: Object.fromEntries([...expected.keys(), "reply_duplicate", "reply_stale"].map((k) => [k, got(k)])),
      replays,
      strangerRequests,
      strangerAnswers,
    });
    process.stderr.write(`flood: ${report}\n`);

    assert.equal(child.exited, false, "the flooded daemon is still running");
    assert.equal(sumSamples(after, "vpnham_tunnel_interface_up", { bridge: left.bridge }), 1, "its tunnel stayed up");
    assert.equal(sumSamples(after, "vpnham_role_transitions_total", { bridge: left.bridge }), leftTransitionsBefore, "no role change");
    assert.ok(sumSamples(after, "vpnham_probes_returned_total", { bridge: left.bridge }) > leftReturnedBefore, "its own probes kept returning");
    assert.equal(peerAlwaysUp, true, "the peer never saw the flooded bridge's tunnel down");
    assert.equal(await metricSum(peer.metrics.roleTransitions, { bridge: right.bridge }), peerTransitionsBefore, "no role change at the peer");

    // Replays count as duplicate, stale or late; all we know is that none is "returned".
    const lateDelta = sumSamples(after, "vpnham_probes_late_total", { bridge: left.bridge }) - sumSamples(before, "vpnham_probes_late_total", { bridge: left.bridge });
    const replayCounted = got("reply_duplicate") + got("reply_stale") + lateDelta;
    if (drops === 0) {
      for (const [reason, n] of expected) assert.equal(got(reason), n, `${reason}: ${report}`);
      assert.ok(replayCounted >= replays && replayCounted <= replays + 3, `replays: ${report}`);
      assert.equal(strangerAnswers, strangerRequests, `every stranger's request answered: ${report}`);
    } else {
      let missing = 0;
      for (const [reason, n] of expected) {
        assert.ok(got(reason) <= n, `${reason} over-counted: ${report}`);
        missing += n - got(reason);
      }
      assert.ok(missing <= drops, `missing ${missing} > kernel drops ${drops}: ${report}`);
    }
  });

  test("an unpaced blast: the kernel may drop some, nothing is over-counted, the bridge recovers", async () => {
    const r = prng(seed + 1);
    const client = await bindUdp("127.88.2.5", 0);
    clients.push(client);
    const BLAST = 50_000;
    const before = await scrape(left.metrics);
    const sizeBefore = sumSamples(before, "vpnham_datagrams_malformed_total", { bridge: left.bridge, reason: "size" });
    const dropsBefore = udpDrops(left.addr.host, left.addr.port);
    for (let sent = 0; sent < BLAST; ) {
      for (let i = 0; i < 5000; i++, sent++) client.send(r.bytes(r.int(0, 141)), left.addr.port, left.addr.host);
      await new Promise((resolve) => setImmediate(resolve)); // let our own send queue drain, nothing more
    }
    // Wait until the daemon has read everything the kernel kept for it.
    let counted = 0;
    await waitFor(
      async () => {
        const now = sumSamples(await scrape(left.metrics), "vpnham_datagrams_malformed_total", { bridge: left.bridge, reason: "size" }) - sizeBefore;
        const settled = now === counted;
        counted = now;
        return settled && now + (udpDrops(left.addr.host, left.addr.port) - dropsBefore) >= BLAST;
      },
      { timeoutMs: 15_000, intervalMs: 200, what: "the blast read or dropped" },
    );
    const drops = udpDrops(left.addr.host, left.addr.port) - dropsBefore;
    process.stderr.write(`blast: ${BLAST} sent, ${counted} counted, ${drops} dropped by the kernel\n`);
    assert.ok(counted <= BLAST, `over-counted: ${counted}`);
    assert.ok(BLAST - counted <= drops, `${BLAST - counted} missing, kernel dropped ${drops}`);
    assert.equal(child.exited, false);
    // Real replies may have been dropped with the blast; the verdict must come back to up.
    await waitFor(async () => sumSamples(await scrape(left.metrics), "vpnham_tunnel_interface_up", { bridge: left.bridge }) === 1, {
      timeoutMs: 5000,
      what: "tunnel up after the blast",
    });
  });
});
