/**
 * The announce job in-process against an in-memory FRR (fake-frr.ts): check verdicts it is
 * handed, IPVS counts from /proc/net/ip_vs fixtures, drains by service, prefix and DNS name,
 * kept in the state file across a restart of the component, and dry-run.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAnnounceJob } from "../../src/announce/job.ts";
import type { CheckStatus } from "../../src/checks/verdict.ts";
import { createControlRegistry, type ControlArgs } from "../../src/control/registry.ts";
import type { Component, JobContext } from "../../src/daemon/component.ts";
import { parseConfigWith } from "../../src/config/index.ts";
import { createMetrics } from "../../src/metrics/registry.ts";
import { waitFor } from "../../src/util/wait.ts";
import { fakeFrr, type FakeFrr } from "./fake-frr.ts";

const dir = mkdtempSync(join(tmpdir(), "hbgp-announce-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const guard = { timeoutMs: 5_000, intervalMs: 10 };

/** /proc/net/ip_vs with `servers` real servers of weight 1 behind TCP 192.0.2.10:80. */
function ipvsFile(path: string, servers: number): void {
  const real = Array.from({ length: servers }, (_, i) => `  -> C0A8010${i}:1F90      Masq    1      0          0\n`).join("");
  writeFileSync(
    path,
    `IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\nTCP  C000020A:0050 rr\n${real}`,
  );
}

function yaml(name: string, extra = ""): string {
  return `checks:
  web: { kind: tcp, address: "127.0.0.1:1" }
announce:
  frr: {}
  state_file: ${join(dir, name, "state.json")}
  interval: 1s
  timeout: 500ms
  damping: { min_interval: 0s, hold_down: 0s, max_hold_down: 0s }
  services:
    web:
      prefixes: [192.0.2.10/32, "2001:db8::10/128"]
      checks: [web]
    lvs:
      prefixes: [198.51.100.10/32]
      ipvs: { service: "TCP 192.0.2.10:80", withdraw_at_or_below: 1, announce_at_or_above: 3, interval: 100ms, timeout: 50ms, threshold_down: 2, threshold_up: 2, path: ${join(dir, name, "ip_vs")} }
${extra}`;
}

interface Harness {
  frr: FakeFrr;
  checks: Map<string, CheckStatus>;
  control: ReturnType<typeof createControlRegistry>;
  component: Component;
  call(command: "drain" | "undrain", args: ControlArgs): Promise<unknown>;
  has(prefix: string): boolean;
}

async function start(name: string, options: { dryRun?: boolean; frr?: FakeFrr; resolve?: (n: string) => Promise<string[]> } = {}): Promise<Harness> {
  const { config } = parseConfigWith(yaml(name), { sourceName: "test.yaml" });
  const frr = options.frr ?? fakeFrr();
  const checks = new Map<string, CheckStatus>();
  const control = createControlRegistry();
  const context: JobContext = {
    metrics: createMetrics({ latencyBucketsCount: 3, maxLatencyUs: 1000, version: "test" }),
    dryRun: options.dryRun ?? false,
    bridgeActive: () => undefined,
    control,
    component: (key) => (key.startsWith("check:") ? ({ status: () => checks.get(key.slice(6)) } as unknown as Component) : undefined),
  };
  const job = createAnnounceJob({ run: frr.run, evaluateIntervalMs: 20, resolve: options.resolve ?? (async () => []) });
  const [spec] = job(context)(config);
  const component = spec!.create();
  await component.start();
  return {
    frr,
    checks,
    control,
    component,
    call: (command, args) => control.handlers().get(command)!(args),
    has: (prefix) => frr.networks.has(prefix),
  };
}

const up: CheckStatus = { up: true, decided: true };
const down: CheckStatus = { up: false, decided: true, lastError: "refused: x" };

describe("announce component", () => {
  test("check verdicts drive the web prefixes; undecided leaves FRR's lines alone", async () => {
    mkdirp("checks");
    ipvsFile(join(dir, "checks", "ip_vs"), 0);
    const frr = fakeFrr(65001, [["192.0.2.10/32", ""]]);
    const h = await start("checks", { frr });
    try {
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(h.has("192.0.2.10/32"), true, "kept while the check is undecided");
      assert.equal(h.has("2001:db8::10/128"), false, "and nothing added");
      h.checks.set("web", up);
      await waitFor(() => h.has("2001:db8::10/128"), guard);
      h.checks.set("web", down);
      await waitFor(() => !h.has("192.0.2.10/32") && !h.has("2001:db8::10/128"), guard);
    } finally {
      await h.component.stop();
    }
  });

  test("IPVS: withdrawn at or below 1 real server, back only at 3 (hysteresis)", async () => {
    mkdirp("ipvs");
    const file = join(dir, "ipvs", "ip_vs");
    ipvsFile(file, 3);
    const h = await start("ipvs");
    try {
      await waitFor(() => h.has("198.51.100.10/32"), guard);
      ipvsFile(file, 2);
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(h.has("198.51.100.10/32"), true, "2 servers: still announced");
      ipvsFile(file, 1);
      await waitFor(() => !h.has("198.51.100.10/32"), guard);
      ipvsFile(file, 2);
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(h.has("198.51.100.10/32"), false, "2 servers: still withdrawn");
      ipvsFile(file, 3);
      await waitFor(() => h.has("198.51.100.10/32"), guard);
    } finally {
      await h.component.stop();
    }
  });

  test("drains: by service, by DNS name, refused when unknown; kept across a restart; undrain", async () => {
    mkdirp("drains");
    ipvsFile(join(dir, "drains", "ip_vs"), 3);
    const resolve = async (name: string) => (name === "vip-1.example.com" ? ["192.0.2.10", "2001:db8::10", "203.0.113.7"] : Promise.reject(new Error("ENOTFOUND")));
    let h = await start("drains", { resolve });
    h.checks.set("web", up);
    try {
      await waitFor(() => h.has("192.0.2.10/32") && h.has("198.51.100.10/32"), guard);
      await assert.rejects(h.call("drain", { target: "nope" }), /"nope" is neither a service \(web, lvs\)/);
      await assert.rejects(h.call("drain", { target: "other.example.com" }), /cannot be resolved: ENOTFOUND/);
      await assert.rejects(h.call("drain", {}), /target must be/);
      const result = (await h.call("drain", { target: "vip-1.example.com", reason: "DC1\u001b[2J maintenance" })) as Record<string, unknown>;
      assert.deepEqual(result.ignored, ["203.0.113.7"]);
      assert.deepEqual(Object.keys(result.prefixes as object), ["192.0.2.10/32", "2001:db8::10/128"]);
      assert.equal(h.has("192.0.2.10/32") || h.has("2001:db8::10/128"), false);
      await h.call("drain", { target: "lvs" });
      assert.equal(h.has("198.51.100.10/32"), false);
      const saved = JSON.parse(readFileSync(join(dir, "drains", "state.json"), "utf8"));
      assert.equal(saved.prefixes["192.0.2.10/32"].reason, "DC1 [2J maintenance");
      assert.equal(saved.prefixes["192.0.2.10/32"].via, "vip-1.example.com");
      assert.ok(saved.services.lvs.sinceMs > 0);

      await h.component.stop();
      h = await start("drains", { resolve, frr: h.frr });
      h.checks.set("web", up);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(h.has("192.0.2.10/32") || h.has("198.51.100.10/32"), false, "drains hold across the restart");
      const status = h.component.status() as { services: Record<string, { drained?: unknown; prefixes: Record<string, { intent: string }> }> };
      assert.equal(status.services.web!.prefixes["192.0.2.10/32"]!.intent, "withdraw");
      assert.ok(status.services.lvs!.drained);

      assert.deepEqual(((await h.call("undrain", { target: "192.0.2.10" })) as { lifted: string[] }).lifted, ["prefix 192.0.2.10/32"]);
      await waitFor(() => h.has("192.0.2.10/32"), guard);
      assert.equal(h.has("2001:db8::10/128"), false, "the other prefix of the name stays drained");
      await h.call("undrain", { target: "vip-1.example.com" });
      await h.call("undrain", { target: "lvs" });
      await waitFor(() => h.has("2001:db8::10/128") && h.has("198.51.100.10/32"), guard);
      assert.match(((await h.call("undrain", { target: "lvs" })) as { note: string }).note, /was not drained/);
    } finally {
      await h.component.stop();
    }
  });

  test("a corrupt state file stops the component from starting (drained VIPs must not come back)", async () => {
    mkdirp("corrupt");
    writeFileSync(join(dir, "corrupt", "state.json"), "{ not json");
    await assert.rejects(start("corrupt"), /announce.state_file: .* is not JSON/);
  });

  test("dry run: FRR is read, never changed", async () => {
    mkdirp("dry");
    ipvsFile(join(dir, "dry", "ip_vs"), 3);
    const h = await start("dry", { dryRun: true });
    h.checks.set("web", up);
    try {
      await waitFor(() => ((h.component.status() as { reconcile?: { lastPlan: string[] } }).reconcile?.lastPlan.length ?? 0) > 0, guard);
      assert.equal(h.frr.networks.size, 0);
      assert.ok(h.frr.calls.every((argv) => argv.includes("show running-config")));
    } finally {
      await h.component.stop();
    }
  });
});

function mkdirp(name: string): void {
  rmSync(join(dir, name), { recursive: true, force: true });
  mkdirSync(join(dir, name), { recursive: true });
}
