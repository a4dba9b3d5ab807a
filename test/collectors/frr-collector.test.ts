// The FRR collector with stand-in vtysh scripts: the argv, a good answer, bgpd not running,
// garbage, and a vtysh that hangs (killed at the timeout, nothing left running).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFrrCollector, vtyshArgv } from "../../src/collectors/frr/collector.ts";
import { runBounded } from "../../src/collectors/runner.ts";

const fixturePath = new URL("./fixtures/frr/vrf-all-v4v6.json", (import.meta as unknown as { url: string }).url).pathname;

describe("FRR collector (stand-in vtysh)", () => {
  let dir: string;
  const script = (name: string, body: string): string => {
    const path = join(dir, name);
    writeFileSync(path, `#!/bin/sh\n${body}\n`);
    chmodSync(path, 0o755);
    return path;
  };
  const collector = (vtyshPath: string, timeoutMs = 2000, vtySocket?: string) =>
    createFrrCollector({ vtyshPath, intervalMs: 15_000, timeoutMs, ...(vtySocket ? { vtySocket } : {}) });

  before(() => (dir = mkdtempSync(join(tmpdir(), "hcol-frr-"))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("runs vtysh [--vty_socket DIR] -c 'show bgp vrf all summary json' and reads its JSON", async () => {
    assert.deepEqual(vtyshArgv({ vtyshPath: "/usr/bin/vtysh", vtySocket: "/run/frr/ns1" }), [
      "/usr/bin/vtysh",
      "--vty_socket",
      "/run/frr/ns1",
      "-c",
      "show bgp vrf all summary json",
    ]);
    const args = join(dir, "args");
    const path = script("vtysh-ok", `printf '%s\\n' "$@" > '${args}'; cat '${fixturePath}'`);
    const samples = await collector(path, 2000, "/run/frr/x").collect(AbortSignal.timeout(5000));
    assert.deepEqual(readFileSync(args, "utf8").trim().split("\n"), ["--vty_socket", "/run/frr/x", "-c", "show bgp vrf all summary json"]);
    assert.ok(samples.some((s) => s.name === "vpnham_bgp_peer_up" && s.labels["peer"] === "10.99.0.2" && s.value === 1));
  });

  const failures: [string, string, RegExp][] = [
    ["bgpd not running", "echo 'bgpd is not running'; exit 1", /exited with 1: bgpd is not running/],
    ["no JSON", "echo '% Unknown command'", /no JSON/],
    ["JSON of the wrong kind", "echo '[1,2]'", /JSON object/],
  ];
  for (const [what, body, expected] of failures) {
    test(`${what} → a failed collection with the reason`, async () => {
      await assert.rejects(collector(script(`vtysh-${what.replaceAll(" ", "-")}`, body)).collect(AbortSignal.timeout(5000)), expected);
    });
  }

  test("a missing vtysh → a failed collection naming it", async () => {
    await assert.rejects(collector(join(dir, "no-such-vtysh")).collect(AbortSignal.timeout(5000)), /no-such-vtysh/);
  });

  test("a hanging vtysh is killed at the timeout with its children", async () => {
    const pidFile = join(dir, "child.pid");
    const path = script("vtysh-hang", `sleep 30 & echo $! > '${pidFile}'; wait`);
    const started = performance.now();
    const outcome = await runBounded((signal) => collector(path, 300).collect(signal), 300);
    assert.equal(outcome.ok, false);
    assert.ok(performance.now() - started < 2000);
    const pid = Number(readFileSync(pidFile, "utf8"));
    await new Promise((r) => setTimeout(r, 600));
    const alive = (() => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        return !/^\d+ \([^)]*\) Z/.test(stat); // a zombie is gone for our purpose
      } catch {
        return false;
      }
    })();
    assert.equal(alive, false, "the grandchild was killed too");
  });
});
