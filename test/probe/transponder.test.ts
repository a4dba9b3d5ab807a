import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { nowUnixNs } from "../../src/probe/gotime.ts";
import { OwnProbeIds } from "../../src/probe/own-ids.ts";
import { startTransponder, type Transponder } from "../../src/probe/transponder.ts";
import { decodeProbe, isRequest, makeReply, PROBE_SIZE } from "../../src/probe/wire.ts";
import { freePort, hostPort, lastSequence, peer, recorder, request, roundTrip, started, waitFor } from "./helpers.ts";

describe("transponder", () => {
  test("answers a request byte-exactly except the dst fields, to the source port", async () => {
    const rec = recorder();
    const { t, port } = await started(rec);
    const client = await peer();
    try {
      const beforeNs = nowUnixNs();
      const reply = await roundTrip(client, port);
      const afterNs = nowUnixNs();
      assert.equal(reply.length, PROBE_SIZE);
      const r = decodeProbe(reply);
      assert.ok(r.ok);
      assert.equal(isRequest(r.probe), false);
      assert.equal(r.probe.dstLocation, "left/active");
      assert.ok(r.probe.dstTime.unixNs >= beforeNs - 2_000_000n && r.probe.dstTime.unixNs <= afterNs + 2_000_000n);
      await waitFor(() => rec.answered === 1, 3_000, "onRequestAnswered");
      assert.equal(rec.replies.length, 0);
      assert.equal(rec.malformed.length, 0);
    } finally {
      await client.close();
      await t.close();
    }
  });
  test("delivers replies with receive times; does not answer them", async () => {
    const rec = recorder();
    const { t, port } = await started(rec);
    const client = await peer();
    try {
      const reply = makeReply(request(), 42n, "right/standby");
      const monoBefore = process.hrtime.bigint();
      const unixBefore = nowUnixNs();
      client.sendTo(reply, port);
      await waitFor(() => rec.replies.length === 1, 3_000, "onReply");
      const got = rec.replies[0]!;
      assert.equal(got.probe.dstLocation, "right/standby");
      assert.equal(got.probe.dstTime.unixNs, 42n);
      assert.ok(got.monoNs >= monoBefore && got.monoNs <= process.hrtime.bigint());
      assert.ok(got.unixNs >= unixBefore - 2_000_000n && got.unixNs <= nowUnixNs() + 2_000_000n);
      assert.equal(rec.answered, 0);
      // Prove the reply was not reflected: a later request's answer is the first thing the client gets.
      await roundTrip(client, port);
      assert.equal(client.received.length, 1);
    } finally {
      await client.close();
      await t.close();
    }
  });
  test("two transponders: send() → reflected → onReply", async () => {
    const recA = recorder();
    const recB = recorder();
    const portB = await freePort();
    const { t: a, port: portA } = await started(recA, portB);
    const b = startTransponder({ addr: hostPort(portB), probeAddr: hostPort(portA), probeLocation: "right", events: recB.events });
    try {
      await waitFor(() => b.bound, 3_000, "b bound");
      const req = request("left");
      assert.equal(a.send(req), true);
      await waitFor(() => recA.replies.length === 1, 3_000, "reply at A");
      assert.equal(recB.answered, 1);
      assert.equal(recA.replies[0]!.probe.sequence, lastSequence());
      assert.equal(recA.replies[0]!.probe.srcLocation, "left");
      assert.equal(recA.replies[0]!.probe.dstLocation, "right");
    } finally {
      await a.close();
      await b.close();
    }
  });
  test("regression (Go v0.0.18): an empty datagram does not stop the receive loop", async () => {
    const rec = recorder();
    const { t, port } = await started(rec);
    const client = await peer();
    try {
      client.sendTo(Buffer.alloc(0), port);
      await waitFor(() => rec.malformed.length === 1, 3_000, "empty datagram counted");
      assert.deepEqual(rec.malformed[0], { reason: "size", bytes: 0 });
      await roundTrip(client, port);
    } finally {
      await client.close();
      await t.close();
    }
  });
  // docs/hardening.md "Reflected probes": our own request bounced back at us is never answered.
  test("refuses (counts, never answers) a request carrying one of our own ids", async () => {
    const rec = recorder();
    const ownIds = new OwnProbeIds();
    const ours = Buffer.alloc(16, 0xab); // the src_uuid of helpers' request()
    ownIds.add(ours);
    const { t, port } = await started(rec, 9, { ownIds });
    const client = await peer();
    try {
      client.sendTo(request(), port);
      await waitFor(() => rec.malformed.length === 1, 3_000, "the refusal");
      assert.deepEqual(rec.malformed[0], { reason: "own_request", bytes: PROBE_SIZE });
      assert.equal(rec.answered, 0);
      assert.equal(client.received.length, 0);
      // The set is read per datagram: once the id is no longer ours, the same kind of request is answered.
      ownIds.delete(ours);
      await roundTrip(client, port);
      assert.equal(client.received.length, 1);
    } finally {
      await client.close();
      await t.close();
    }
  });
  test("malformed datagrams are counted and the socket keeps answering", async () => {
    const rec = recorder();
    const { t, port } = await started(rec);
    const client = await peer();
    const badVersion = request();
    badVersion[24] = 2;
    const cases: [Buffer, string][] = [
      [Buffer.alloc(0), "size"],
      [Buffer.alloc(1, 7), "size"],
      [Buffer.alloc(141, 1), "size"],
      [Buffer.concat([request(), Buffer.alloc(1)]), "size"],
      [Buffer.alloc(2000, 1), "size"],
      [badVersion, "time_version"],
    ];
    try {
      for (const [i, [datagram, reason]] of cases.entries()) {
        client.sendTo(datagram, port);
        await waitFor(() => rec.malformed.length === i + 1, 3_000, `malformed #${i}`);
        assert.deepEqual(rec.malformed[i], { reason, bytes: datagram.length });
        await roundTrip(client, port);
      }
      assert.equal(rec.answered >= cases.length - 1, true);
      assert.equal(rec.errors.length, 0);
    } finally {
      await client.close();
      await t.close();
    }
  });
  test("callbacks that throw are caught; receiving goes on", async () => {
    const rec = recorder();
    const boom = () => {
      throw new Error("boom");
    };
    const { t, port } = await started(rec, 9, {
      events: { onReply: boom, onRequestAnswered: boom, onMalformed: boom, onSocketError: boom },
    });
    const client = await peer();
    try {
      client.sendTo(Buffer.alloc(3), port);
      client.sendTo(makeReply(request(), 1n, "x"), port);
      await roundTrip(client, port);
      await roundTrip(client, port);
    } finally {
      await client.close();
      await t.close();
    }
  });
  test("IPv6 loopback works when the host has it", async (ctx) => {
    let client: Awaited<ReturnType<typeof peer>>;
    try {
      client = await peer("udp6", "::1");
    } catch {
      ctx.skip("no ::1 on this host");
      return;
    }
    const rec = recorder();
    const probe = await peer("udp6", "::1");
    await probe.close();
    const t: Transponder = startTransponder({
      addr: hostPort(probe.port, "::1", 6),
      probeAddr: hostPort(client.port, "::1", 6),
      probeLocation: "v6",
      events: rec.events,
    });
    try {
      await waitFor(() => t.bound, 3_000, "bound on ::1");
      await roundTrip(client, probe.port);
      assert.equal(t.send(request()), true);
      await waitFor(() => client.received.length === 2, 3_000, "probe at client");
    } finally {
      await client.close();
      await t.close();
    }
  });
});
