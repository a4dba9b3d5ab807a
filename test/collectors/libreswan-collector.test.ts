// The libreswan collector with stand-in `ipsec` scripts (libreswan cannot run here: no kernel
// ESP, no userspace ESP): the argv, each version's output, pluto not running, a hang.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLibreswanCollector, whackArgv } from "../../src/collectors/libreswan/collector.ts";
import { runBounded } from "../../src/collectors/runner.ts";

const fixturePath = (name: string) => new URL(`./fixtures/libreswan/${name}`, (import.meta as unknown as { url: string }).url).pathname;

describe("libreswan collector (stand-in ipsec)", () => {
  let dir: string;
  const script = (name: string, body: string): string => {
    const path = join(dir, name);
    writeFileSync(path, `#!/bin/sh\n${body}\n`);
    chmodSync(path, 0o755);
    return path;
  };
  const collector = (ipsecPath: string, options: { timeoutMs?: number; ctlSocket?: string; connections?: string[] } = {}) =>
    createLibreswanCollector(
      { ipsecPath, intervalMs: 15_000, timeoutMs: options.timeoutMs ?? 2000, connections: options.connections ?? [], ...(options.ctlSocket ? { ctlSocket: options.ctlSocket } : {}) },
      { clock: () => 1762003800_000 },
    );

  before(() => (dir = mkdtempSync(join(tmpdir(), "hc2-lsw-"))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("runs ipsec whack [--ctlsocket PATH] --trafficstatus and reads every version's lines", async () => {
    assert.deepEqual(whackArgv({ ipsecPath: "/usr/sbin/ipsec" }), ["/usr/sbin/ipsec", "whack", "--trafficstatus"]);
    const args = join(dir, "args");
    for (const version of ["v3", "v4", "v5"]) {
      const path = script(`ipsec-${version}`, `printf '%s\\n' "$@" > '${args}'; cat '${fixturePath(`trafficstatus-${version}.txt`)}'`);
      const samples = await collector(path, { ctlSocket: "/run/pluto/x.ctl", connections: ["dc1-to-dc2", "absent"] }).collect(AbortSignal.timeout(5000));
      assert.deepEqual(readFileSync(args, "utf8").trim().split("\n"), ["whack", "--ctlsocket", "/run/pluto/x.ctl", "--trafficstatus"]);
      const up = samples.filter((s) => s.name === "vpnham_ipsec_child_sa_up" && s.labels["conn"] === "dc1-to-dc2");
      assert.ok(up.length >= 1 && up.every((s) => s.value === 1), `${version}: dc1-to-dc2 up`);
      assert.ok(samples.some((s) => s.name === "vpnham_ipsec_child_sa_up" && s.labels["conn"] === "absent" && s.value === 0), `${version}: absent reads 0`);
    }
  });

  test("pluto not running → a failed collection with the reason; no ipsec → naming it", async () => {
    const notRunning = script("ipsec-down", `echo 'whack: Pluto is not running (no "/run/pluto/pluto.ctl"): No such file or directory (errno 2)' >&2; exit 1`);
    await assert.rejects(collector(notRunning).collect(AbortSignal.timeout(5000)), /exited with 1: whack: Pluto is not running/);
    await assert.rejects(collector(join(dir, "no-such-ipsec")).collect(AbortSignal.timeout(5000)), /no-such-ipsec/);
  });

  test("a hanging whack is killed at the timeout", async () => {
    const started = performance.now();
    const outcome = await runBounded((signal) => collector(script("ipsec-hang", "exec sleep 30"), { timeoutMs: 300 }).collect(signal), 300);
    assert.equal(outcome.ok, false);
    assert.ok(performance.now() - started < 5000, "hang guard");
  });
});
