/**
 * The kernel backend: pure planning, and live against a network namespace this test creates
 * (hbgp-k): blackhole routes with vpnham's protocol number come and go with health; a route
 * outside the allow-list, even with that number, is never touched.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAnnounceJob } from "../../src/announce/job.ts";
import { kernelReadArgv, parseKernelRoutes, planKernel } from "../../src/announce/kernel.ts";
import type { KernelBackend } from "../../src/announce/model.ts";
import type { CheckStatus } from "../../src/checks/verdict.ts";
import { parseConfigWith } from "../../src/config/index.ts";
import type { Component } from "../../src/daemon/component.ts";
import { createMetrics } from "../../src/metrics/registry.ts";
import { waitFor } from "../../src/util/wait.ts";

const backend: KernelBackend = { kind: "kernel", ip: ["ip"], namespace: "hbgp-k", table: 254, protocol: 233 };

describe("kernel backend: pure", () => {
  test("ip -j route output → prefixes (host routes have no length)", () => {
    assert.deepEqual(parseKernelRoutes('[{"type":"blackhole","dst":"192.0.2.10","flags":[]},{"type":"blackhole","dst":"198.51.100.0/24","flags":[]}]', 4), ["192.0.2.10/32", "198.51.100.0/24"]);
    assert.deepEqual(parseKernelRoutes('[{"type":"blackhole","dst":"2001:db8::10","dev":"lo","metric":1024}]', 6), ["2001:db8::10/128"]);
    assert.deepEqual(parseKernelRoutes("", 4), []);
    assert.throws(() => parseKernelRoutes("RTNETLINK", 4), /not JSON/);
  });

  test("argv: only blackhole routes of vpnham's protocol in its table", () => {
    assert.deepEqual(kernelReadArgv(backend, 6), ["ip", "-n", "hbgp-k", "-6", "-j", "route", "show", "table", "254", "proto", "233", "type", "blackhole"]);
  });

  test("plan: replace what is missing, del what is withdrawn, nothing else", () => {
    const plan = planKernel(
      backend,
      [
        { prefix: "192.0.2.10/32", family: 4, announce: true },
        { prefix: "2001:db8::10/128", family: 6, announce: false },
        { prefix: "192.0.2.11/32", family: 4, announce: true },
      ],
      new Set(["2001:db8::10/128", "192.0.2.11/32", "203.0.113.0/24"]),
    );
    assert.deepEqual(plan, [
      ["ip", "-n", "hbgp-k", "-4", "route", "replace", "blackhole", "192.0.2.10/32", "table", "254", "proto", "233"],
      ["ip", "-n", "hbgp-k", "-6", "route", "del", "blackhole", "2001:db8::10/128", "table", "254", "proto", "233"],
    ]);
  });
});

const skip = process.getuid?.() !== 0 ? "not root (network namespaces need root)" : undefined;

describe("kernel backend: live in a namespace", { skip: skip ?? false }, () => {
  const dir = mkdtempSync(join(tmpdir(), "hbgp-kernel-"));
  const ip = (...args: string[]) => execFileSync("ip", ["-n", "hbgp-k", ...args], { encoding: "utf8" });
  const routes = () => ip("-4", "route", "show", "table", "all") + ip("-6", "route", "show", "table", "all");
  before(() => {
    try {
      execFileSync("ip", ["netns", "del", "hbgp-k"], { stdio: "ignore" });
    } catch {
      /* none left over */
    }
    execFileSync("ip", ["netns", "add", "hbgp-k"]);
    ip("link", "set", "lo", "up");
    ip("route", "add", "blackhole", "203.0.113.0/24", "proto", "233"); // ours by number, but not in the allow-list
  });
  after(() => {
    execFileSync("ip", ["netns", "del", "hbgp-k"]);
    rmSync(dir, { recursive: true, force: true });
  });

  test("health drives the routes; foreign ones stay", async () => {
    const { config } = parseConfigWith(
      `checks:\n  web: { kind: tcp, address: "127.0.0.1:1" }\nannounce:\n  kernel: { namespace: hbgp-k }\n  state_file: ${join(dir, "state.json")}\n  damping: { min_interval: 0s }\n  services:\n    web: { prefixes: [192.0.2.10/32, "2001:db8::10/128"], checks: [web] }\n`,
      { sourceName: "test.yaml" },
    );
    const status = new Map<string, CheckStatus>([["web", { up: true, decided: true }]]);
    const context = {
      metrics: createMetrics({ latencyBucketsCount: 3, maxLatencyUs: 1000, version: "test" }),
      dryRun: false,
      bridgeActive: () => undefined,
      component: (key: string) => ({ status: () => status.get(key.slice(6)) }) as unknown as Component,
    };
    const component = createAnnounceJob({ evaluateIntervalMs: 20 })(context)(config)[0]!.create();
    await component.start();
    try {
      const guard = { timeoutMs: 5_000, intervalMs: 20 };
      await waitFor(() => /blackhole 192\.0\.2\.10 proto 233/.test(routes()) && /blackhole 2001:db8::10 dev lo proto 233/.test(routes()), guard);
      status.set("web", { up: false, decided: true });
      await waitFor(() => !routes().includes("192.0.2.10") && !routes().includes("2001:db8::10"), guard);
      assert.match(routes(), /blackhole 203\.0\.113\.0\/24 proto 233/, "outside the allow-list: left alone");
    } finally {
      await component.stop();
    }
  });
});
