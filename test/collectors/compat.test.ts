// collectors.compat_names: the cron script's node_* series derived from the collectors' own,
// and the blog's IPSecDown/BGPDown alerts, unchanged, firing on vpnham's scrape (promtool test
// rules on series taken from two real scrapes: everything up, then a tunnel and a peer down).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";
import { stringify } from "yaml";
import { bgpCompatSamples, compatFamilies, ipsecCompatSamples } from "../../src/collectors/compat.ts";
import { frrSamples, parseBgpSummary } from "../../src/collectors/frr/samples.ts";
import { startCollectors } from "../../src/collectors/index.ts";
import { collectorKinds } from "../../src/collectors/kinds.ts";
import type { Sample } from "../../src/collectors/types.ts";
import { configureLogger } from "../../src/util/log.ts";
import { parsePromText } from "../metrics/support.ts";
import { findTool, run, skipUnless } from "../ops/support.ts";

const here = (path: string) => new URL(path, (import.meta as unknown as { url: string }).url).pathname;
const frrFixture = (name: string) => here(`./fixtures/frr/${name}`);
const promtool = findTool("promtool");

const find = (samples: readonly Sample[], name: string, labels: Record<string, string>) =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).map((s) => s.value);

describe("compat names (pure)", () => {
  test("IPsec: one series per tunnel, peer from the connection, bytes by direction; duplicates read down if either is", () => {
    const ours: Sample[] = [
      { name: "vpnham_ipsec_child_sa_up", labels: { conn: "peer-198.51.100.7", child: "peer-198.51.100.7-tunnel-0" }, value: 1 },
      { name: "vpnham_ipsec_child_sa_up", labels: { conn: "peer-198.51.100.7", child: "peer-198.51.100.7-tunnel-1" }, value: 0 },
      { name: "vpnham_ipsec_child_sa_bytes_total", labels: { conn: "peer-198.51.100.7", child: "peer-198.51.100.7-tunnel-0", direction: "in" }, value: 230600 },
      { name: "vpnham_ipsec_child_sa_bytes_total", labels: { conn: "peer-198.51.100.7", child: "peer-198.51.100.7-tunnel-0", direction: "out" }, value: 7500000 },
      { name: "vpnham_ipsec_child_sa_up", labels: { conn: "a", child: "same" }, value: 1 },
      { name: "vpnham_ipsec_child_sa_up", labels: { conn: "b", child: "same" }, value: 0 },
      { name: "vpnham_ipsec_ike_sas", labels: { state: "ESTABLISHED" }, value: 1 },
    ];
    const peers = new Map([["peer-198.51.100.7", "198.51.100.7"], ["a", "192.0.2.1"], ["b", "192.0.2.1"]]);
    const compat = ipsecCompatSamples(ours, (conn) => peers.get(conn) ?? "");
    const t0 = { peer: "198.51.100.7", name: "peer-198.51.100.7-tunnel-0" };
    assert.deepEqual(find(compat, "node_ipsec_peer_status", t0), [1]);
    assert.deepEqual(find(compat, "node_ipsec_peer_bytes_in", t0), [230600]);
    assert.deepEqual(find(compat, "node_ipsec_peer_bytes_out", t0), [7500000]);
    assert.deepEqual(find(compat, "node_ipsec_peer_status", { name: "peer-198.51.100.7-tunnel-1" }), [0]);
    assert.deepEqual(find(compat, "node_ipsec_peer_bytes_in", { name: "peer-198.51.100.7-tunnel-1" }), [0]);
    assert.deepEqual(find(compat, "node_ipsec_peer_status", { peer: "192.0.2.1", name: "same" }), [0]);
  });

  test("BGP: one series per neighbour over AFI/SAFIs and VRFs; admin down reads 0 (as the script's Idle (Admin) did)", () => {
    const up = bgpCompatSamples(frrSamples(parseBgpSummary(JSON.parse(readFileSync(frrFixture("vrf-all-v4v6.json"), "utf8")))));
    assert.deepEqual(find(up, "node_bgp_neighbor_status", { neighbor: "10.99.0.2" }), [1]);
    assert.deepEqual(find(up, "node_bgp_neighbor_prefixes_in", { neighbor: "10.99.0.2" }), [1]);
    assert.deepEqual(find(up, "node_bgp_neighbor_prefixes_out", { neighbor: "10.99.0.2" }), [2]);
    assert.deepEqual(find(up, "node_bgp_neighbor_status", { neighbor: "fd00:99::2" }), [1]);
    const admin = bgpCompatSamples(frrSamples(parseBgpSummary(JSON.parse(readFileSync(frrFixture("vrf-all-admin-down.json"), "utf8")))));
    assert.deepEqual(find(admin, "node_bgp_neighbor_status", { neighbor: "10.99.0.2" }), [0]);
    const mixed = bgpCompatSamples([
      { name: "vpnham_bgp_peer_up", labels: { vrf: "default", afi_safi: "ipv4_unicast", peer: "p", peer_as: "1" }, value: 1 },
      { name: "vpnham_bgp_peer_up", labels: { vrf: "red", afi_safi: "ipv4_unicast", peer: "p", peer_as: "1" }, value: 0 },
    ]);
    assert.deepEqual(find(mixed, "node_bgp_neighbor_status", { neighbor: "p" }), [0], "one session down: down");
  });

  test("every collector that can lists the compat families (docs/metrics.md)", () => {
    const names = new Set(collectorKinds.flatMap((k) => k.families.map((f) => f.name)));
    for (const f of compatFamilies) assert.ok(names.has(f.name), f.name);
  });
});

describe("the blog's alerts on vpnham's scrape", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "hc2-compat-"));
    configureLogger({ level: "silent" });
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    configureLogger({ level: "info" });
  });

  /** Two scrapes of libreswan + FRR (stand-ins printing fixtures): all up, then dc1-to-dc2 and 10.99.0.2 down. */
  async function twoScrapes(compatNames: boolean): Promise<[string, string]> {
    const current = { ipsec: join(dir, "ipsec.out"), vtysh: join(dir, "vtysh.out") };
    const script = (name: string, file: string) => {
      const path = join(dir, name);
      writeFileSync(path, `#!/bin/sh\ncat '${file}'\n`);
      chmodSync(path, 0o755);
      return path;
    };
    const v3 = readFileSync(here("./fixtures/libreswan/trafficstatus-v3.txt"), "utf8");
    writeFileSync(current.ipsec, v3);
    copyFileSync(frrFixture("vrf-all-v4v6.json"), current.vtysh);
    const registry = new Registry();
    const timing = { intervalMs: 60_000, timeoutMs: 5000 };
    const collectors = startCollectors(
      {
        collectors: {
          compatNames,
          libreswan: { ipsecPath: script("ipsec", current.ipsec), connections: ["dc1-to-dc2", "dc1-to-dc3"], ...timing },
          frr: { vtyshPath: script("vtysh", current.vtysh), ...timing },
        },
      },
      registry,
    );
    try {
      await collectors.runNow();
      const first = await registry.metrics();
      writeFileSync(current.ipsec, v3.split("\n").filter((l) => !l.includes("dc1-to-dc2")).join("\n"));
      copyFileSync(frrFixture("vrf-all-peer-down.json"), current.vtysh);
      const statuses = await collectors.runNow();
      assert.deepEqual(statuses.map((s) => s.success), [true, true]);
      return [first, await registry.metrics()];
    } finally {
      await collectors.stop();
    }
  }

  test("without compat_names no node_* series; with it, the scrape passes promtool check metrics", async () => {
    const [plain] = await twoScrapes(false);
    assert.equal(/^node_/m.test(plain), false);
    const [up, down] = await twoScrapes(true);
    for (const text of [up, down]) assert.deepEqual(parsePromText(text).problems, []);
    if (promtool) {
      const r = await run([promtool, "check", "metrics"], { input: down });
      assert.equal(r.code, 0, r.stdout + r.stderr);
    }
  });

  test("IPSecDown and BGPDown fire for the tunnel and the neighbour that went down, and only for them", { skip: skipUnless(promtool !== undefined, "promtool not installed") }, async () => {
    const [up, down] = await twoScrapes(true);
    const scrapeSeries = (text: string) => {
      const out = new Map<string, number>();
      for (const [name, family] of parsePromText(text).families) {
        if (!name.startsWith("node_")) continue;
        for (const s of family.samples) {
          const labels = { ...s.labels, instance: "vyos1:8000", job: "vpnham" };
          out.set(`${name}{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(", ")}}`, s.value);
        }
      }
      return out;
    };
    const before = scrapeSeries(up);
    const afterDown = scrapeSeries(down);
    // 0–2m as the first scrape, 3m–8m as the second ("_" where a series is missing).
    const input_series = [...new Set([...before.keys(), ...afterDown.keys()])].map((series) => ({
      series,
      values: [0, 1, 2].map(() => before.get(series) ?? "_").concat([3, 4, 5, 6, 7, 8].map(() => afterDown.get(series) ?? "_")).join(" "),
    }));
    const ipsecDown = { severity: "critical", instance: "vyos1:8000", job: "vpnham", peer: "@gw2.example.net", name: "dc1-to-dc2" };
    const bgpDown = (neighbor: string) => ({ severity: "critical", instance: "vyos1:8000", job: "vpnham", neighbor });
    const tests = {
      rule_files: ["blog-alerts.yml"],
      evaluation_interval: "1m",
      tests: [
        {
          interval: "1m",
          input_series,
          alert_rule_test: [
            { eval_time: "2m", alertname: "IPSecDown", exp_alerts: [] },
            { eval_time: "2m", alertname: "BGPDown", exp_alerts: [] },
            { eval_time: "3m", alertname: "IPSecDown", exp_alerts: [] },
            {
              eval_time: "5m",
              alertname: "IPSecDown",
              exp_alerts: [{ exp_labels: ipsecDown, exp_annotations: { summary: "IPsec tunnel dc1-to-dc2 to @gw2.example.net is down" } }],
            },
            {
              eval_time: "5m",
              alertname: "BGPDown",
              exp_alerts: ["10.99.0.2", "fd00:99::2"].map((n) => ({ exp_labels: bgpDown(n), exp_annotations: { summary: `BGP session with ${n} is down` } })),
            },
          ],
        },
      ],
    };
    copyFileSync(here("./fixtures/compat/blog-alerts.yml"), join(dir, "blog-alerts.yml"));
    writeFileSync(join(dir, "blog-alerts.test.yml"), stringify(tests));
    const r = await run([promtool!, "test", "rules", "blog-alerts.test.yml"], { cwd: dir });
    assert.equal(r.code, 0, `promtool test rules:\n${r.stdout}${r.stderr}\n${readFileSync(join(dir, "blog-alerts.test.yml"), "utf8").slice(0, 3000)}`);
  });
});
