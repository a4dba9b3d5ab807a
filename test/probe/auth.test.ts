import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { deriveKeys, mac } from "../../src/auth/keys.ts";
import { AUTHENTICATED_PROBE_SIZE, ReplayGuard, signProbe, verifyProbe, type ProbeDirection } from "../../src/probe/auth.ts";
import { parseConfig } from "../../src/config/index.ts";
import { startDaemon, type Daemon } from "../../src/daemon/daemon.ts";
import { GO_ZERO_TIME, nowUnixNs } from "../../src/probe/gotime.ts";
import { decodeProbe, encodeProbe, isRequest, makeReply, PROBE_SIZE } from "../../src/probe/wire.ts";
import { waitFor } from "../../src/util/wait.ts";
import { bridgeYaml } from "../support/bridge-yaml.ts";

const SECRET = "correct horse battery staple";
const keys = deriveKeys(SECRET);

function request(sequence: bigint): Buffer {
  return encodeProbe({
    sequence,
    srcUuid: Buffer.alloc(16, 1),
    srcTime: { unixNs: nowUnixNs(), offsetMin: -1 },
    srcLocation: "spoofer",
    dstUuid: Buffer.alloc(16, 2),
    dstTime: GO_ZERO_TIME,
    dstLocation: "",
  });
}

describe("probe MAC and replay guard", () => {
  test("sign then verify round-trips; any flipped bit or other key fails", () => {
    const plain = request(1n);
    const signed = signProbe(plain, keys.probe, "request");
    assert.equal(signed.length, AUTHENTICATED_PROBE_SIZE);
    const ok = verifyProbe(signed, keys.probe, "request");
    assert.ok(ok.ok && ok.payload.equals(plain), "the payload is the 142-byte Go datagram");
    for (const i of [0, 30, PROBE_SIZE - 1, PROBE_SIZE, AUTHENTICATED_PROBE_SIZE - 1]) {
      const tampered = Buffer.from(signed);
      tampered[i]! ^= 1;
      assert.deepEqual(verifyProbe(tampered, keys.probe, "request"), { ok: false, reason: "bad_mac" }, `bit flipped at ${i}`);
    }
    assert.equal(verifyProbe(signed, deriveKeys("other").probe, "request").ok, false);
    assert.deepEqual(verifyProbe(request(1n), keys.probe, "request"), { ok: false, reason: "unauthenticated" });
    // Keys for probes and status differ: a MAC of one is useless for the other.
    assert.ok(!keys.probe.equals(keys.status));
  });

  // docs/hardening.md "Reflected probes": a MAC made for one direction is worthless in the other.
  test("the MAC is bound to the direction: a request's MAC never verifies as a reply's, nor the reverse", () => {
    const req = request(2n);
    const reply = makeReply(req, nowUnixNs(), "responder");
    const table: { payload: Buffer; signedAs: ProbeDirection; verifiedAs: ProbeDirection; ok: boolean }[] = [
      { payload: req, signedAs: "request", verifiedAs: "request", ok: true },
      { payload: req, signedAs: "request", verifiedAs: "reply", ok: false },
      { payload: reply, signedAs: "reply", verifiedAs: "reply", ok: true },
      { payload: reply, signedAs: "reply", verifiedAs: "request", ok: false },
    ];
    for (const { payload, signedAs, verifiedAs, ok } of table) {
      const result = verifyProbe(signProbe(payload, keys.probe, signedAs), keys.probe, verifiedAs);
      assert.deepEqual(result, ok ? { ok: true, payload } : { ok: false, reason: "bad_mac" }, `signed as ${signedAs}, verified as ${verifiedAs}`);
    }
    // The same bytes get different MACs in the two directions, and neither is the undirected
    // HMAC of earlier versions (which any responder's reply could have stood in for).
    const asRequest = signProbe(req, keys.probe, "request").subarray(PROBE_SIZE);
    const asReply = signProbe(req, keys.probe, "reply").subarray(PROBE_SIZE);
    assert.ok(!asRequest.equals(asReply));
    assert.ok(!asRequest.equals(mac(keys.probe, req)) && !asReply.equals(mac(keys.probe, req)));
  });

  test("sequence numbers must increase per sender; the table is bounded", () => {
    const g = new ReplayGuard(2);
    const a = Buffer.alloc(32, 1);
    assert.ok(g.accept(a, 5n));
    assert.ok(!g.accept(a, 5n));
    assert.ok(!g.accept(a, 4n));
    assert.ok(g.accept(a, 6n));
    g.accept(Buffer.alloc(32, 2), 1n);
    g.accept(Buffer.alloc(32, 3), 1n); // evicts the least recently seen sender (1)... which was `a`
    assert.ok(g.accept(a, 1n), "forgotten senders start again");
  });
});

/** One bridge whose only tunnel probes `127.66.2.2:13003`, where the test puts a spoofer. */
function config(secret: boolean, n: number): string {
  return bridgeYaml(
    {
      name: "auth-test",
      role: "active",
      bridgeInterface: "lo",
      statusAddr: `127.66.2.${n}:18080`,
      partnerUrl: "http://127.66.2.250:18080/",
      probeInterval: "50ms",
      partnerTimeout: "20ms",
      ...(secret ? { secret: SECRET } : {}),
      tunnels: [{ name: "lo", role: "active", addr: `127.66.2.${n}:13003`, probeAddr: "127.66.2.2:13003" }],
    },
    `127.66.2.${n}:18000`,
  );
}

/** A responder without the secret that reflects whatever it gets, the way a Go transponder would. */
async function startSpoofer(): Promise<{ socket: dgram.Socket; received: Buffer[]; close(): Promise<void> }> {
  const socket = dgram.createSocket("udp4");
  const received: Buffer[] = [];
  socket.on("message", (msg, rinfo) => {
    received.push(msg);
    const payload = msg.subarray(0, PROBE_SIZE);
    const d = decodeProbe(payload);
    if (!d.ok || !isRequest(d.probe)) return;
    const reply = makeReply(payload, nowUnixNs(), "spoofer");
    // Keep the original MAC, or forge one: neither may be accepted.
    const forged = msg.length > PROBE_SIZE ? Buffer.concat([reply, msg.subarray(PROBE_SIZE)]) : reply;
    socket.send(forged, rinfo.port, rinfo.address);
  });
  await new Promise<void>((res) => socket.bind(13003, "127.66.2.2", () => res()));
  return { socket, received, close: () => new Promise<void>((res) => socket.close(() => res())) };
}

describe("a spoofer without the secret", () => {
  const daemons: Daemon[] = [];
  after(async () => Promise.all(daemons.map((d) => d.stop())));

  test("control: without a secret the Go wire format is unchanged and a reflector brings the tunnel up", async () => {
    const spoofer = await startSpoofer();
    try {
      const d = await startDaemon(parseConfig(config(false, 3)).config);
      daemons.push(d);
      const bridge = d.bridges().get("auth-test")!;
      await waitFor(() => bridge.state.bridgeActive, { timeoutMs: 3000, what: "the tunnel up through a plain reflector" });
      assert.ok(spoofer.received.every((m) => m.length === PROBE_SIZE), "142-byte datagrams as in Go");
      await d.stop();
    } finally {
      await spoofer.close();
    }
  });

  test("cannot keep a tunnel up: forged replies are counted as bad_mac and never returned", async () => {
    const spoofer = await startSpoofer();
    try {
      const d = await startDaemon(parseConfig(config(true, 4)).config);
      daemons.push(d);
      const bridge = d.bridges().get("auth-test")!;
      await waitFor(() => spoofer.received.length >= 20, { timeoutMs: 5000, what: "20 probes at the spoofer" });
      assert.ok(spoofer.received.every((m) => m.length === AUTHENTICATED_PROBE_SIZE), "probes carry a MAC");
      assert.equal(bridge.state.bridgeActive, false);
      assert.equal(bridge.tunnelHealth("lo")!.verdict, "down");
      const scrape = await d.metrics.registry.metrics();
      assert.match(scrape, /vpnham_datagrams_malformed_total\{bridge="auth-test",tunnel="lo",reason="bad_mac"\} [1-9]/);
      assert.match(scrape, /vpnham_probes_returned_total\{bridge="auth-test",tunnel="lo"\} 0/);
      await d.stop();
    } finally {
      await spoofer.close();
    }
  });

  test("gets nothing reflected: unauthenticated, forged and replayed requests are dropped", async () => {
    const d = await startDaemon(parseConfig(config(true, 5)).config);
    daemons.push(d);
    const client = dgram.createSocket("udp4");
    const answers: Buffer[] = [];
    client.on("message", (m) => answers.push(m));
    await new Promise<void>((res) => client.bind(0, "127.0.0.1", () => res()));
    const send = (b: Buffer) => new Promise<void>((res) => client.send(b, 13003, "127.66.2.5", () => res()));
    try {
      // A genuine, signed request (the test knows the secret) is answered once...
      const genuine = signProbe(request(7n), keys.probe, "request");
      await send(genuine);
      await waitFor(() => answers.length === 1, { timeoutMs: 2000, what: "the genuine request's answer" });
      assert.equal(verifyProbe(answers[0]!, keys.probe, "reply").ok, true, "the answer carries a valid reply MAC");
      // ...and never again; nor is anything without the secret.
      await send(genuine);
      await send(request(8n));
      await send(signProbe(request(9n), deriveKeys("guess").probe, "request"));
      await send(Buffer.concat([request(10n), Buffer.alloc(32)]));
      const scrape = async () => d.metrics.registry.metrics();
      await waitFor(async () => /reason="replay"\} 1/.test(await scrape()) && /reason="bad_mac"\} 2/.test(await scrape()), {
        timeoutMs: 2000,
        what: "the replay and the forgeries to be counted",
      });
      assert.match(await scrape(), /reason="unauthenticated"\} 1/);
      // Everything above was processed (counted) before this probe; only it gets an answer.
      await send(signProbe(request(11n), keys.probe, "request"));
      await waitFor(() => answers.length >= 2, { timeoutMs: 2000, what: "the next genuine answer" });
      assert.equal(answers.length, 2);
      assert.equal(decodeProbe(answers[1]!.subarray(0, PROBE_SIZE)).ok && (decodeProbe(answers[1]!.subarray(0, PROBE_SIZE)) as { probe: { sequence: bigint } }).probe.sequence, 11n);
    } finally {
      client.close();
    }
  });
});
