/**
 * ExaBGP's answers carry no tag, only their order says whose they are (docs/announce.md §ExaBGP):
 * the pipe client against answers it did not ask for — kept by the cli relay from a killed
 * vpnham or an interrupted exabgpcli, late from a slow ExaBGP, lost with a restart — on real
 * named pipes, the relay played by fake-exabgp.ts with its real ordering (a kept answer goes out
 * first, when the next command wakes the relay).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";
import { exabgpReconciler } from "../../src/announce/backend.ts";
import { exabgpPipeClient, type ExabgpPipeOptions } from "../../src/announce/exabgp-pipe.ts";
import { isRetryable } from "../../src/reconcile/action.ts";
import { startReconcileLoop } from "../../src/reconcile/engine.ts";
import { createReconcileMetrics } from "../../src/reconcile/metrics.ts";
import { waitFor } from "../../src/util/wait.ts";
import { startFakeExabgp, writeUnread, type FakeExabgp } from "./fake-exabgp.ts";

const never = new AbortController().signal;
const ANNOUNCE = "announce route 192.0.2.10/32 next-hop self";
const READ = "show adj-rib out";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** An answer's number of lines, or the error's name: what a run of calls came to. */
const outcome = async (answer: Promise<{ lines: readonly string[] }>) => answer.then((a) => a.lines.length, (e: Error) => e.name);

describe("ExaBGP pipes: answers in step", () => {
  let dir: string;
  const fakes: FakeExabgp[] = [];
  let count = 0;
  const start = (prefixes = ["203.0.113.0/24"]) => {
    const fake = startFakeExabgp(dir, { "10.0.0.2": { family: 4, prefixes }, "fd00::2": { family: 6, prefixes: ["2001:db8::10/128"] } }, `step${++count}`);
    fakes.push(fake);
    return fake;
  };
  const client = (fake: FakeExabgp, options?: ExabgpPipeOptions) => exabgpPipeClient({ kind: "exabgp", pipeIn: fake.pipeIn, pipeOut: fake.pipeOut }, options);
  /** Another client's command, its answer kept by the relay. */
  const leave = async (fake: FakeExabgp, command: string) => {
    const n = fake.commands.length;
    writeUnread(fake.pipeIn, command);
    await waitFor(() => fake.commands.length > n, { timeoutMs: 10_000, what: "the fake to take the unread command" });
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "vpnham-exabgp-step-"));
  });
  after(() => {
    for (const fake of fakes) fake.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("an answer kept from before the start (a killed vpnham, an interrupted exabgpcli) is not taken for the first command's", async () => {
    const fake = start();
    await leave(fake, READ);
    const call = client(fake);
    assert.deepEqual(await call(ANNOUNCE, never), { outcome: "done", lines: [] });
    assert.equal((await call(READ, never)).lines.length, 3);
  });

  test("the same with a timeout shorter than the settle time: the first calls may fail, the next ones are right", async () => {
    const fake = start();
    await leave(fake, READ);
    const call = client(fake);
    await outcome(call(ANNOUNCE, AbortSignal.timeout(300)));
    assert.deepEqual(await call(ANNOUNCE, AbortSignal.timeout(5000)), { outcome: "done", lines: [] });
    assert.equal((await call(READ, AbortSignal.timeout(5000))).lines.length, 3);
  });

  test("an answer left by someone else while vpnham runs: the wrong shape is noticed and retried, the next calls are in step", async () => {
    const fake = start();
    const call = client(fake);
    assert.equal((await call(READ, never)).lines.length, 2);
    await leave(fake, READ);
    await assert.rejects(call(ANNOUNCE, never), (e) => isRetryable(e) && /out of step/.test((e as Error).message));
    assert.deepEqual(await call("withdraw route 192.0.2.10/32", never), { outcome: "done", lines: [] });
    assert.equal((await call(READ, never)).lines.length, 2);
  });

  test("a stray done ahead of a read: the reconcile loop still withdraws what ExaBGP holds", async () => {
    const fake = start(["203.0.113.0/24", "192.0.2.11/32"]);
    const loop = startReconcileLoop(exabgpReconciler({ kind: "exabgp", pipeIn: fake.pipeIn, pipeOut: fake.pipeOut }), {
      dryRun: false,
      callTimeoutMs: 5000,
      metrics: createReconcileMetrics(new Registry()),
      retry: { retries: 6, initialMs: 100, maxMs: 1000 },
    });
    loop.setDesired([{ prefix: "192.0.2.11/32", family: 4, announce: true }]);
    await loop.settled();
    assert.equal(loop.status().lastOutcome, "in_sync", loop.status().lastError);
    await leave(fake, "withdraw route 198.51.100.99/32");
    loop.setDesired([{ prefix: "192.0.2.11/32", family: 4, announce: false }]);
    await loop.settled();
    assert.equal(loop.status().lastOutcome, "applied", loop.status().lastError);
    assert.deepEqual([...fake.rib.get("10.0.0.2")!.prefixes], ["203.0.113.0/24"]);
    await loop.stop();
  });

  test("late answers with a timeout shorter than the settle time do not stop the backend", async () => {
    const fake = start();
    const call = client(fake);
    assert.equal((await call(READ, never)).lines.length, 2);
    fake.hold = true;
    await assert.rejects(call(READ, AbortSignal.timeout(300)));
    fake.release();
    const outcomes = [];
    for (let i = 0; i < 4; i++) outcomes.push(await outcome(call(READ, AbortSignal.timeout(1000))));
    assert.equal(outcomes.at(-1), 2, JSON.stringify(outcomes));
  });

  test("answers that never come (ExaBGP restarted between two commands) are not waited for forever", async () => {
    const fake = start();
    const call = client(fake);
    assert.equal((await call(READ, never)).lines.length, 2);
    fake.hold = true;
    await assert.rejects(call(READ, AbortSignal.timeout(300)));
    fake.forget();
    fake.release();
    const outcomes = [];
    for (let i = 0; i < 4; i++) outcomes.push(await outcome(call(READ, AbortSignal.timeout(2000))));
    assert.equal(outcomes.at(-1), 2, JSON.stringify(outcomes));
  });

  test("a call whose time ran out while it waited its turn is not sent", async () => {
    const fake = start();
    const call = client(fake);
    await call(READ, never);
    fake.hold = true;
    const first = call(READ, never);
    const second = call(ANNOUNCE, AbortSignal.timeout(100));
    await sleep(300);
    fake.release();
    assert.equal((await first).lines.length, 2);
    await assert.rejects(second, (e) => (e as Error).name === "TimeoutError");
    const aborted = new AbortController();
    aborted.abort();
    await assert.rejects(call(ANNOUNCE, aborted.signal));
    // ExaBGP takes commands in order: once this one is answered, any sent before it were taken.
    assert.equal((await call(READ, never)).lines.length, 2);
    assert.equal(fake.commands.includes(ANNOUNCE), false, JSON.stringify(fake.commands));
  });

  test("an answer over the limit: a clear error, read to its end, and the next command is in step", async () => {
    const fake = start(Array.from({ length: 3000 }, (_, i) => `10.${i >> 8}.${i & 255}.0/24`));
    const call = client(fake, { maxAnswerBytes: 64 * 1024 });
    await assert.rejects(call(READ, never), (e) => !isRetryable(e) && /ExaBGP's answer to show adj-rib out is over 65536 bytes/.test((e as Error).message));
    assert.deepEqual(await call(ANNOUNCE, never), { outcome: "done", lines: [] });
  });
});
