/**
 * Host-level scenarios of the four-host suite: starts, kills, freezes, a host
 * losing every tunnel, the partner link cut. Each takes the running world in
 * its steady state and leaves it restorable (four-hosts.test.ts repairs and
 * re-checks the steady state before the next).
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { waitFor } from "../../src/util/wait.ts";
import type { World } from "./harness.ts";
import { hookMark, short, STEADY, summaries, views, waitHook, waitHosts, waitMetrics } from "./expect.ts";
import { metricSum } from "./metrics-text.ts";
import { HOST_IDS, type HostId } from "./netns.ts";
import { BRIDGES, PARTNER_FAILOVER_MS, START_MS } from "./timing.ts";

/** 1. Cold start: one active bridge per side, the active↔active tunnel active on both actives. */
export async function coldStart(w: World): Promise<void> {
  for (const h of HOST_IDS) w.start(h);
  await waitHosts(w, "cold start converges", STEADY, START_MS);
  const mark = Object.fromEntries(HOST_IDS.map((h) => [h, 0])) as Record<HostId, number>;
  for (const h of ["la", "ra"] as const) {
    const ip = h === "la" ? "192.168.255.2" : "192.168.255.3";
    await waitHook(w, mark, h, `interface_activate eth1 ${ip}`, 5_000);
    const bridgeHooks: string[] = summaries(w, mark, h).filter((s) => s.startsWith("bridge_"));
    assert.deepEqual(bridgeHooks, [`bridge_activate ${h === "la" ? "10.0.0.2" : "10.1.0.2"}`], `${h} bridge hooks`);
    const last = summaries(w, mark, h).filter((s) => s.startsWith("interface_")).at(-1);
    assert.equal(last, `interface_activate eth1 ${ip}`);
  }
  // The standbys never took the bridge role: they waited for the partner's verdict.
  for (const h of ["ls", "rs"] as const) {
    assert.deepEqual(summaries(w, mark, h).filter((s) => s.startsWith("bridge_")), [], `${h} bridge hooks`);
  }
  for (const h of HOST_IDS) {
    const b = { bridge: BRIDGES[h] };
    const m = await waitMetrics(
      w,
      h,
      [
        { name: "vpnham_bridge_active", labels: b, value: 1 }, // one active bridge in the pair
        { name: "vpnham_bridge_up", labels: b, value: 2 }, // both up
        { name: "vpnham_tunnel_interface_active", labels: { ...b, tunnel: "eth1" }, value: 1 },
        { name: "vpnham_tunnel_interface_active", labels: { ...b, tunnel: "eth2" }, value: 0 },
        { name: "vpnham_partner_up", labels: b, value: 1 },
        { name: "vpnham_split_brain", labels: b, value: 0 },
      ],
      5_000,
    );
    assert.ok(metricSum(m, "vpnham_probes_returned_total", { ...b, tunnel: "eth1" }) > 0);
    const runtime = m.find((s) => s.name === "vpnham_build_info")?.labels.runtime ?? "";
    assert.match(runtime, w.runtimes[h] === "deno" ? /^deno\// : /^bun\//, `${h} runs on ${w.runtimes[h]}`);
  }
}

/** 4. SIGKILL of the left active: its partner takes over, the far side follows; restart reclaims. */
export async function hostKilled(w: World): Promise<void> {
  const mark = hookMark(w);
  w.signal("la", "SIGKILL");
  await w.waitExit("la", 5_000);
  await waitHosts(
    w,
    "left-standby takes over, the right side moves to tunnels towards it",
    {
      ls: { active: true, partnerUp: false },
      ra: { active: true, tunnel: "eth2" },
      rs: { active: false, tunnel: "eth2" },
    },
    PARTNER_FAILOVER_MS,
  );
  await waitHook(w, mark, "ls", "bridge_activate 10.0.0.3", 5_000);
  await waitHook(w, mark, "ra", "interface_activate eth2 192.168.255.35", 5_000);
  await waitHook(w, mark, "rs", "interface_activate eth2 192.168.255.51", 5_000);

  const back = hookMark(w);
  w.start("la");
  await waitHosts(w, "left-active restarted and reclaimed", STEADY, START_MS);
  await waitHook(w, back, "ls", "bridge_deactivate 10.0.0.3", 10_000);
  await waitHook(w, back, "la", "bridge_activate 10.0.0.2", 5_000);
  assert.equal(summaries(w, back, "la").filter((s) => s.startsWith("bridge_activate")).length, 1);
  await waitHook(w, back, "ra", "interface_activate eth1 192.168.255.3", 5_000);
  await waitHook(w, back, "rs", "interface_activate eth1 192.168.255.19", 5_000);
}

/** 5. SIGSTOP of the right active (its partner is the Deno host by default), then SIGCONT. */
export async function hostFrozen(w: World): Promise<void> {
  const mark = hookMark(w);
  const pid = w.pid("ra");
  w.signal("ra", "SIGSTOP");
  await waitHosts(
    w,
    "right-standby takes over, the left side moves to tunnels towards it",
    { rs: { active: true, partnerUp: false }, la: { active: true, tunnel: "eth2" } },
    PARTNER_FAILOVER_MS,
  );
  await waitHook(w, mark, "rs", "bridge_activate 10.1.0.3", 5_000);
  await waitHook(w, mark, "la", "interface_activate eth2 192.168.255.18", 5_000);

  const back = hookMark(w);
  w.signal("ra", "SIGCONT");
  await waitHosts(w, "right-active thawed and reclaimed", STEADY, START_MS);
  await waitHook(w, back, "rs", "bridge_deactivate 10.1.0.3", 10_000);
  assert.equal(w.pid("ra"), pid, "the same process carried on");
  assert.ok(w.running("ra"), "right-active still runs after the thaw");
  const m = await w.metrics("ra");
  assert.ok(m, "right-active serves /metrics after the thaw");
}

/** 6. Every tunnel of the left active down: up:false, it steps down, its partner takes over. */
export async function allTunnelsDown(w: World): Promise<void> {
  const mark = hookMark(w);
  await w.topo.ip("la", "link", "set", "eth1", "down");
  await w.topo.ip("la", "link", "set", "eth2", "down");
  await waitHosts(
    w,
    "left-active down and passive, left-standby active",
    { la: { active: false, up: false, tunnel: null, upTunnels: [] }, ls: { active: true, partnerUp: false }, ra: { tunnel: "eth2" }, rs: { tunnel: "eth2" } },
    PARTNER_FAILOVER_MS,
  );
  await waitHook(w, mark, "la", "bridge_deactivate 10.0.0.2", 5_000);
  await waitHook(w, mark, "ls", "bridge_activate 10.0.0.3", 5_000);

  const back = hookMark(w);
  await w.topo.ip("la", "link", "set", "eth1", "up");
  await w.topo.ip("la", "link", "set", "eth2", "up");
  await waitHosts(w, "left-active back", STEADY, PARTNER_FAILOVER_MS);
  await waitHook(w, back, "la", "bridge_activate 10.0.0.2", 5_000);
  await waitHook(w, back, "ls", "bridge_deactivate 10.0.0.3", 5_000);
}

/** 7. The left VPC link cut: both left hosts active (split brain), visible, healed on return. */
export async function partnerLinkCut(w: World): Promise<void> {
  const mark = hookMark(w);
  const logMark = { la: w.logs("la").length, ls: w.logs("ls").length };
  await w.topo.ip("ls", "link", "set", "eth0", "down");
  await waitHosts(
    w,
    "both left hosts active",
    { la: { active: true, partnerUp: false }, ls: { active: true, partnerUp: false } },
    PARTNER_FAILOVER_MS,
  );
  await waitHook(w, mark, "ls", "bridge_activate 10.0.0.3", 5_000);
  // Neither host can see the other, so no single host can call it split brain; the pair's
  // metrics can (examples/prometheus/vpnham-alerts.yml, VpnhamSplitBrain's second clause):
  // sum by (bridge) (vpnham_bridge_active and on (instance, bridge) (vpnham_partner_up == 0)) > 1.
  let activeWithoutPartner = 0;
  for (const h of ["la", "ls"] as const) {
    const m = await w.metrics(h);
    assert.ok(m, `${h} /metrics answers`);
    const b = { bridge: BRIDGES[h] };
    assert.equal(metricSum(m, "vpnham_partner_up", b), 0, `${h} sees its partner down`);
    if (metricSum(m, "vpnham_partner_up", b) === 0) activeWithoutPartner += metricSum(m, "vpnham_bridge_active", b);
    // And each says so in its log: the failed polls at warn, the verdict.
    const records = w.logs(h).slice(logMark[h]);
    assert.ok(records.some((r) => r.level === "warn" && String(r.msg).startsWith("partner poll failed")), `${h} logs the failed polls`);
    assert.ok(records.some((r) => r.msg === "partner down"), `${h} logs the partner down`);
  }
  assert.ok(activeWithoutPartner > 1, `split brain visible in the pair's metrics (${activeWithoutPartner} active without partner)`);

  // When the link returns the standby steps down within the normal handover overlap.
  await w.topo.ip("ls", "link", "set", "eth0", "up");
  await waitHosts(w, "split brain heals", STEADY, PARTNER_FAILOVER_MS);
  await waitHook(w, mark, "ls", "bridge_deactivate 10.0.0.3", 5_000);
  assert.deepEqual(summaries(w, mark, "la").filter((s) => s.startsWith("bridge_")), [], "the active kept its role throughout");
  for (const h of ["la", "ls"] as const) {
    const bridge = { bridge: BRIDGES[h] };
    // One active in the pair again, as each host sees it.
    await waitMetrics(
      w,
      h,
      [
        { name: "vpnham_split_brain", labels: bridge, value: 0 },
        { name: "vpnham_bridge_active", labels: bridge, value: 1 },
        { name: "vpnham_partner_up", labels: bridge, value: 1 },
      ],
      5_000,
    );
  }
}

/** 2. Standbys start 20 s before the actives (faster probe variant); they step down when the actives come up. */
export async function staggeredStart(w: World): Promise<void> {
  for (const h of HOST_IDS) {
    const exit = await w.stop(h);
    assert.deepEqual(exit, { code: 0, signal: null }, `${h} stops cleanly on SIGTERM`);
  }
  // A faster variant of the example configs (the stagger itself stays 20 s).
  for (const h of HOST_IDS) {
    const config = parse(readFileSync(w.configs[h], "utf8")) as { bridges: Record<string, Record<string, unknown>> };
    for (const bridge of Object.values(config.bridges)) {
      bridge.probe_interval = "250ms";
      bridge.partner_status_timeout = "200ms";
    }
    const path = join(w.runDir, `${h}.stagger.yaml`);
    writeFileSync(path, stringify(config));
    w.configs[h] = path;
  }
  const mark = hookMark(w);
  const t0 = performance.now();
  w.start("ls");
  w.start("rs");
  await waitHosts(w, "standbys alone take over", { ls: { active: true, partnerUp: false }, rs: { active: true, partnerUp: false } }, START_MS);
  // They hold the role for the rest of the 20 s.
  while (performance.now() - t0 < 20_000) {
    const v = await views(w, ["ls", "rs"]);
    for (const h of ["ls", "rs"] as const) assert.equal(v[h]?.active, true, `${h} lost the role while alone: ${short(v[h] ?? null)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  w.start("la");
  w.start("ra");
  await waitHosts(w, "actives up, standbys step down", STEADY, START_MS);
  for (const [h, ip] of [["ls", "10.0.0.3"], ["rs", "10.1.0.3"]] as const) {
    await waitHook(w, mark, h, `bridge_deactivate ${ip}`, 5_000);
    const bridgeHooks: string[] = summaries(w, mark, h).filter((s) => s.startsWith("bridge_"));
    assert.deepEqual(bridgeHooks, [`bridge_activate ${ip}`, `bridge_deactivate ${ip}`], `${h} bridge hooks`);
  }
  for (const [h, ip] of [["la", "10.0.0.2"], ["ra", "10.1.0.2"]] as const) {
    await waitHook(w, mark, h, `bridge_activate ${ip}`, 5_000);
  }
  // And it stays that way (no split brain left behind).
  await waitFor(async () => Object.values(await views(w)).every((v) => v?.splitBrain === false), { timeoutMs: 5_000, what: "no split brain" });
}
