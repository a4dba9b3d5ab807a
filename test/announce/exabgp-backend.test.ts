/**
 * The ExaBGP backend's edge (docs/announce.md §ExaBGP): the pipe client on real named pipes in a
 * temporary directory, answered by ExaBGP's cli relay as fake-exabgp.ts plays it, and the
 * reconciler on top (dry run, apply, read back, the allow-list).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";
import { exabgpReconciler } from "../../src/announce/backend.ts";
import type { DesiredPrefix } from "../../src/announce/decide.ts";
import { exabgpPipeClient } from "../../src/announce/exabgp-pipe.ts";
import { isRetryable } from "../../src/reconcile/action.ts";
import { startReconcileLoop } from "../../src/reconcile/engine.ts";
import { createReconcileMetrics } from "../../src/reconcile/metrics.ts";
import { startFakeExabgp, type FakeExabgp } from "./fake-exabgp.ts";

const never = new AbortController().signal;
const web: DesiredPrefix[] = [
  { prefix: "192.0.2.10/32", family: 4, announce: true },
  { prefix: "2001:db8::10/128", family: 6, announce: false },
];

describe("ExaBGP backend on named pipes", () => {
  let dir: string;
  const fakes: FakeExabgp[] = [];
  let count = 0;
  const start = (neighbors: Parameters<typeof startFakeExabgp>[1]) => {
    const fake = startFakeExabgp(dir, neighbors, `exabgp${++count}`);
    fakes.push(fake);
    return fake;
  };
  const backend = (fake: FakeExabgp) => ({ kind: "exabgp" as const, pipeIn: fake.pipeIn, pipeOut: fake.pipeOut });
  const twoNeighbors = () => ({ "10.0.0.2": { family: 4 as const, prefixes: ["203.0.113.0/24"] }, "fd00::2": { family: 6 as const, prefixes: ["2001:db8::10/128"] } });

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "vpnham-exabgp-"));
  });
  after(() => {
    for (const fake of fakes) fake.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("a command and its answer: lines up to done, error for what ExaBGP does not know", async () => {
    const fake = start(twoNeighbors());
    const call = exabgpPipeClient(backend(fake));
    assert.deepEqual(await call("show adj-rib out", never), {
      outcome: "done",
      lines: ["neighbor 10.0.0.2 ipv4 unicast 203.0.113.0/24 next-hop self", "neighbor fd00::2 ipv6 unicast 2001:db8::10/128 next-hop self"],
    });
    assert.deepEqual(await call("bogus", never), { outcome: "error", lines: [] });
    // One at a time, each its own answer, though asked together.
    const [rib, announce] = await Promise.all([call("show adj-rib out", never), call("announce route 192.0.2.10/32 next-hop self", never)]);
    assert.equal(rib.lines.length, 2);
    assert.deepEqual(announce, { outcome: "done", lines: [] });
    assert.deepEqual(fake.commands, ["show adj-rib out", "bogus", "show adj-rib out", "announce route 192.0.2.10/32 next-hop self"]);
  });

  test("ExaBGP stopped, pipes missing or not pipes: a clear error at once, nothing written", async () => {
    const fake = start(twoNeighbors());
    fake.stop();
    await assert.rejects(exabgpPipeClient(backend(fake))("show adj-rib out", never), (e) => isRetryable(e) && /ExaBGP is not running \(nothing reads .*exabgp\d+\.in\)/.test((e as Error).message));
    const missing = { kind: "exabgp" as const, pipeIn: join(dir, "none.in"), pipeOut: join(dir, "none.out") };
    await assert.rejects(exabgpPipeClient(missing)("show adj-rib out", never), (e) => isRetryable(e) && /none\.out does not exist \(ExaBGP's answer pipe/.test((e as Error).message));
    const file = join(dir, "plain.in");
    writeFileSync(file, "");
    execFileSync("mkfifo", [join(dir, "plain.out")]);
    await assert.rejects(exabgpPipeClient({ kind: "exabgp", pipeIn: file, pipeOut: join(dir, "plain.out") })("show adj-rib out", never), (e) => !isRetryable(e) && /plain\.in is not a named pipe/.test((e as Error).message));
    assert.equal(readFileSync(file, "utf8"), "");
  });

  test("an answer that comes after the timeout is not taken for the next command's", async () => {
    const fake = start(twoNeighbors());
    const call = exabgpPipeClient(backend(fake), { settleMs: 300 });
    fake.hold = true;
    await assert.rejects(call("show adj-rib out", AbortSignal.timeout(200)), (e) => isRetryable(e));
    fake.release();
    assert.deepEqual(await call("withdraw route 192.0.2.99/32", never), { outcome: "done", lines: [] });
    assert.equal((await call("show adj-rib out", never)).lines.length, 2);
  });

  test("dry run: the exact commands, nothing sent but the read", async () => {
    const fake = start(twoNeighbors());
    const loop = startReconcileLoop(exabgpReconciler(backend(fake)), { dryRun: true, callTimeoutMs: 2000, metrics: createReconcileMetrics(new Registry()) });
    loop.setDesired(web);
    await loop.settled();
    assert.equal(loop.status().lastOutcome, "dry_run");
    assert.deepEqual(loop.status().lastPlan, [
      `write "announce route 192.0.2.10/32 next-hop self" to ${fake.pipeIn}`,
      `write "withdraw route 2001:db8::10/128" to ${fake.pipeIn}`,
    ]);
    assert.deepEqual(fake.commands, ["show adj-rib out"]);
    await loop.stop();
  });

  test("applies, reads back, leaves the routes outside the allow-list alone, and fills a neighbor that lacks one", async () => {
    const fake = start({ ...twoNeighbors(), "10.0.0.6": { family: 4, prefixes: ["203.0.113.0/24"] } });
    const loop = startReconcileLoop(exabgpReconciler(backend(fake)), { dryRun: false, callTimeoutMs: 2000, metrics: createReconcileMetrics(new Registry()) });
    loop.setDesired(web);
    await loop.settled();
    assert.equal(loop.status().lastOutcome, "applied", loop.status().lastError);
    assert.deepEqual([...fake.rib].map(([n, r]) => [n, [...r.prefixes]]), [
      ["10.0.0.2", ["203.0.113.0/24", "192.0.2.10/32"]],
      ["fd00::2", []],
      ["10.0.0.6", ["203.0.113.0/24", "192.0.2.10/32"]],
    ]);
    // As if a reload had made it anew: its static route only.
    fake.rib.get("10.0.0.6")!.prefixes.delete("192.0.2.10/32");
    loop.setDesired([...web]);
    await loop.settled();
    assert.deepEqual([...fake.rib.get("10.0.0.6")!.prefixes], ["203.0.113.0/24", "192.0.2.10/32"]);
    assert.deepEqual(fake.commands.filter((c) => c.startsWith("announce")), ["announce route 192.0.2.10/32 next-hop self", "announce route 192.0.2.10/32 next-hop self"]);
    await loop.stop();
  });

  test("an error answer is worth a retry and says what happened", async () => {
    const fake = start({});
    const reconciler = exabgpReconciler(backend(fake));
    const actual = await reconciler.read(never);
    const [step] = reconciler.plan(web, actual);
    await assert.rejects(step!.apply(never), (e) => isRetryable(e) && /ExaBGP announce route 192\.0\.2\.10\/32 next-hop self: error \(see ExaBGP's log\)/.test((e as Error).message));
  });
});
