/**
 * A service by DNS name against a real BIND on loopback (docs/announce.md §DNS names): the name's
 * A/AAAA become the service's prefixes in an in-memory FRR; a zone change (nsupdate, RFC 2136)
 * adds and withdraws them; BIND gone keeps the last good set and counts the failures.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AnnounceComponent } from "../../src/announce/component.ts";
import { createAnnounceJob } from "../../src/announce/job.ts";
import type { CheckStatus } from "../../src/checks/verdict.ts";
import { parseConfigWith } from "../../src/config/index.ts";
import type { Component, JobContext } from "../../src/daemon/component.ts";
import { createMetrics } from "../../src/metrics/registry.ts";
import { waitFor } from "../../src/util/wait.ts";
import { KEY_NAME, missing, startBind, TSIG_SECRET, ZONE } from "../dns/servers.ts";
import { fakeFrr } from "./fake-frr.ts";

const dir = mkdtempSync(join(tmpdir(), "h16dns-announce-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const guard = { timeoutMs: 8_000, intervalMs: 20 };

function nsupdate(host: string, port: number, lines: string[]): void {
  const script = [`server ${host} ${port}`, `zone ${ZONE}`, ...lines, "send", ""].join("\n");
  execFileSync("nsupdate", ["-y", `hmac-sha256:${KEY_NAME}:${TSIG_SECRET}`], { input: script, timeout: 10_000 });
}

const skip = missing("bind") ?? (execFileSync("sh", ["-c", "command -v nsupdate || true"], { encoding: "utf8" }).trim() === "" ? "nsupdate not installed" : undefined);

describe("announce: dns_name with BIND", { skip }, () => {
  test("the service's prefixes follow the zone; BIND gone keeps the last good set", async () => {
    const bind = await startBind(["web IN A 192.0.2.10", "web IN AAAA 2001:db8::10"]);
    const { config } = parseConfigWith(
      `checks:
  web: { kind: tcp, address: "127.0.0.1:1" }
announce:
  frr: {}
  state_file: ${join(dir, "state.json")}
  interval: 200ms
  timeout: 150ms
  damping: { min_interval: 0s, hold_down: 0s, max_hold_down: 0s }
  services:
    web:
      prefixes: [198.51.100.1/32]
      dns_name: web.${ZONE}
      resolver: ${bind.host}:${bind.port}
      checks: [web]
`,
      { sourceName: "test.yaml" },
    );
    const frr = fakeFrr();
    const checks = new Map<string, CheckStatus>([["web", { up: true, decided: true }]]);
    const metrics = createMetrics({ latencyBucketsCount: 3, maxLatencyUs: 1000, version: "test" });
    const context: JobContext = {
      metrics,
      dryRun: false,
      bridgeActive: () => undefined,
      component: (key) => (key.startsWith("check:") ? ({ status: () => checks.get(key.slice(6)) } as unknown as Component) : undefined),
    };
    const [spec] = createAnnounceJob({ run: frr.run, evaluateIntervalMs: 20 })(context)(config);
    const component = spec!.create() as AnnounceComponent;
    const networks = () => [...frr.networks.keys()].sort();
    let bindUp = true;
    try {
      await component.start();
      await waitFor(() => networks().join() === "192.0.2.10/32,198.51.100.1/32,2001:db8::10/128", guard);

      nsupdate(bind.host, bind.port, [`update delete web.${ZONE} AAAA`, `update add web.${ZONE} 60 A 192.0.2.11`]);
      await waitFor(() => networks().join() === "192.0.2.10/32,192.0.2.11/32,198.51.100.1/32", guard);
      // The withdrawn /128 leaves the allow-list once a later read shows it gone.
      await waitFor(() => Object.keys(component.nameStates().get("web")!.leaving).length === 0, guard);
      assert.deepEqual(component.config.services.web!.prefixes.map((p) => p.prefix).sort(), ["192.0.2.10/32", "192.0.2.11/32", "198.51.100.1/32"]);

      await bind.stop();
      bindUp = false;
      await waitFor(() => component.nameStates().get("web")!.failures >= 2, guard);
      assert.deepEqual(networks(), ["192.0.2.10/32", "192.0.2.11/32", "198.51.100.1/32"], "a DNS failure withdraws nothing");
      const text = await metrics.registry.metrics();
      assert.match(text, /vpnham_announce_dns_failures_total\{service="web"\} [1-9]/);
      const status = component.status() as { services: { web: { dnsName: { addresses: string[]; failures: number } } } };
      assert.deepEqual(status.services.web.dnsName.addresses, ["192.0.2.10/32", "192.0.2.11/32"]);
    } finally {
      await component.stop();
      if (bindUp) await bind.stop();
    }
  });
});
