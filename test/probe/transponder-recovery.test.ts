import { describe, test } from "node:test";
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { startTransponder } from "../../src/probe/transponder.ts";
import { hostPort, peer, recorder, request, roundTrip, started, staysFalse, waitFor } from "./helpers.ts";

describe("transponder recovery", () => {
  test("bind failure retries with back-off and comes up when the address is free", async () => {
    const blocker = await peer();
    const rec = recorder();
    const t = startTransponder({
      addr: hostPort(blocker.port),
      probeAddr: hostPort(9),
      probeLocation: "left/active",
      events: rec.events,
      reopenBackoffMs: { initial: 5, max: 40 },
    });
    const client = await peer();
    try {
      await waitFor(() => rec.errors.length >= 3, 3_000, "bind retries");
      assert.ok(rec.errors.every((e) => e.phase === "bind"));
      assert.equal(t.bound, false);
      assert.equal(t.send(request()), false, "send while down returns false");
      await blocker.close();
      await waitFor(() => t.bound, 3_000, "bound after the port was freed");
      await roundTrip(client, blocker.port);
    } finally {
      await client.close();
      await t.close();
    }
  });
  test("close() while retrying stops the timers; nothing happens afterwards", async () => {
    const blocker = await peer();
    const rec = recorder();
    const t = startTransponder({
      addr: hostPort(blocker.port),
      probeAddr: hostPort(9),
      probeLocation: "x",
      events: rec.events,
      reopenBackoffMs: { initial: 5, max: 10 },
    });
    await waitFor(() => rec.errors.length >= 1, 3_000, "first bind error");
    await t.close();
    await t.close(); // idempotent
    const errorsAtClose = rec.errors.length;
    await blocker.close();
    assert.equal(await staysFalse(() => t.bound || rec.errors.length !== errorsAtClose, 60), true);
    assert.equal(t.send(request()), false);
    // The port really is free again: nobody re-bound it.
    const again = dgram.createSocket("udp4");
    await new Promise<void>((resolve, reject) => {
      again.once("error", reject);
      again.bind(blocker.port, "127.0.0.1", () => resolve());
    });
    await new Promise<void>((r) => again.close(() => r()));
  });
  test("a failing send reports the error and re-opens the socket", async () => {
    const rec = recorder();
    // Port 0 is not a valid destination: every runtime refuses the send.
    const { t, port } = await started(rec, 0, { reopenBackoffMs: { initial: 5, max: 20 } });
    const client = await peer();
    try {
      t.send(request());
      await waitFor(() => rec.errors.some((e) => e.phase === "send"), 3_000, "send error");
      await waitFor(() => t.bound, 3_000, "re-opened");
      await roundTrip(client, port);
    } finally {
      await client.close();
      await t.close();
    }
  });
});

describe("send errors", () => {
  test("path errors (link down, no route) keep the socket; others re-open it", async () => {
    const { isPathError } = await import("../../src/probe/transponder.ts");
    for (const code of ["ENETUNREACH", "EHOSTUNREACH", "ENETDOWN", "EPERM", "ENOBUFS", "ECONNREFUSED"]) {
      assert.ok(isPathError(Object.assign(new Error(code), { code })), code);
    }
    for (const code of ["EBADF", "EADDRNOTAVAIL", "EINVAL", undefined]) {
      assert.ok(!isPathError(Object.assign(new Error(String(code)), { code })), String(code));
    }
    assert.ok(!isPathError(null));
  });
});
