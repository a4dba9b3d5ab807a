import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runDemoStory, startDemoWorld, type DemoWorld } from "../../src/demo/run-demo.ts";
import type { HostName } from "../../src/demo/topology.ts";
import { waitFor } from "../../src/util/wait.ts";

/**
 * The 2×2 picture on loopback with real UDP, HTTP and hook processes: the
 * demo's story (converge, cut the active tunnel, reclaim, kill the active
 * host, reclaim) with assertions on hook files, /status and /metrics.
 */
const dir = mkdtempSync(join(tmpdir(), "vpnham-story-"));
const hookFile = (host: HostName) => join(dir, `${host}.log`);
const hookLines = (host: HostName) => (existsSync(hookFile(host)) ? readFileSync(hookFile(host), "utf8").trim().split("\n") : []);
const timing = { probeInterval: "100ms", thresholdDown: 3, thresholdUp: 2 };

async function getText(url: string): Promise<{ status: number; type: string | null; body: string }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
  return { status: response.status, type: response.headers.get("content-type"), body: await response.text() };
}

function sample(scrape: string, series: string): number | undefined {
  const line = scrape.split("\n").find((l) => l.startsWith(series + " "));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("2×2 loopback pair: failover and reclaim", () => {
  let world: DemoWorld;
  before(async () => {
    world = await startDemoWorld({
      timing,
      print: () => {},
      // Each hook appends "<event> <args>" to its host's file.
      hookLine: (host, event) => `echo "${event}" >> ${hookFile(host)}`,
    });
  });
  after(async () => {
    await world?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("the whole story completes within its deadlines", async () => {
    const lines: string[] = [];
    await runDemoStory(world, { once: true, timing, print: (l) => lines.push(l), stepTimeoutMs: 15_000 });
    assert.equal(lines.filter((l) => l.includes("✓")).length, 5, lines.join("\n"));
  });

  test("hooks ran in transition order with the right placeholders", async () => {
    await waitFor(() => hookLines("left-standby").includes("bridge_deactivate vpc0 10.1.0.0/16"), {
      timeoutMs: 5000,
      what: "left-standby stepping down after the reclaim",
    });
    const la = hookLines("left-active");
    // First life of left-active: bridge_activate once, then wg00; the cut moved it to wg01 and back.
    assert.deepEqual(la.slice(0, 6), [
      "bridge_activate vpc0 127.10.0.2 10.1.0.0/16",
      "interface_activate wg00 127.168.255.2",
      "interface_deactivate wg00 127.168.255.2",
      "interface_activate wg01 127.168.255.18",
      "interface_deactivate wg01 127.168.255.18",
      "interface_activate wg00 127.168.255.2",
    ]);
    // Second life after the restart: activates again.
    assert.deepEqual(la.slice(6, 8), ["bridge_activate vpc0 127.10.0.2 10.1.0.0/16", "interface_activate wg00 127.168.255.2"]);
    const ls = hookLines("left-standby");
    const takeOver = ls.lastIndexOf("bridge_activate vpc0 127.10.0.3 10.1.0.0/16");
    assert.ok(takeOver >= 0, `left-standby took over: ${ls.join(" | ")}`);
    assert.ok(ls.lastIndexOf("bridge_deactivate vpc0 10.1.0.0/16") > takeOver, "and stepped down after the reclaim");
    const ra = hookLines("right-active");
    assert.ok(!ra.some((l) => l.startsWith("bridge_deactivate")), "right-active never lost its bridge");
    assert.ok(ra.includes("interface_activate wg10 127.168.255.35"), "right-active moved to its tunnel towards left-standby");
  });

  test("/status answers with the Go body and application/json", async () => {
    // The story checks in-process roles; the partner's view follows within a poll or two.
    await waitFor(async () => JSON.parse((await getText("http://127.10.0.2:8080/status")).body).split_brain === false, {
      timeoutMs: 5000,
      what: "split brain to heal after the reclaim",
    });
    const r = await getText("http://127.10.0.2:8080/status");
    assert.equal(r.status, 200);
    assert.match(r.type ?? "", /^application\/json/);
    const body = JSON.parse(r.body);
    assert.equal(body.name, "vpnham-demo-lft");
    assert.equal(body.role, "active");
    assert.equal(body.active, true);
    assert.equal(body.up, true);
    assert.notEqual(body.up_since, "0001-01-01T00:00:00Z", "regression (Go): bridge up_since is set");
    assert.equal(body.interfaces.wg00.active, true);
    assert.equal(body.interfaces.wg01.active, false);
    assert.equal(body.split_brain, false);
    assert.equal((await getText("http://127.10.0.2:8080/nope")).status, 404);
  });

  test("/metrics shows one active bridge per pair, tunnel roles and probe counters", async () => {
    for (const ip of ["127.10.0.2", "127.10.0.3"]) {
      await waitFor(
        async () => sample((await getText(`http://${ip}:8000/metrics`)).body, 'vpnham_bridge_active{bridge="vpnham-demo-lft"}') === 1,
        { timeoutMs: 5000, what: `${ip} to see exactly one active bridge` },
      );
    }
    const scrape = (await getText("http://127.10.0.2:8000/metrics")).body;
    assert.equal(sample(scrape, 'vpnham_bridge_active{bridge="vpnham-demo-lft"}'), 1);
    assert.equal(sample(scrape, 'vpnham_bridge_up{bridge="vpnham-demo-lft"}'), 2);
    assert.equal(sample(scrape, 'vpnham_tunnel_interface_active{bridge="vpnham-demo-lft",tunnel="wg00"}'), 1);
    assert.equal(sample(scrape, 'vpnham_tunnel_interface_active{bridge="vpnham-demo-lft",tunnel="wg01"}'), 0);
    assert.equal(sample(scrape, 'vpnham_tunnel_interface_up{bridge="vpnham-demo-lft",tunnel="wg01"}'), 1);
    assert.ok(sample(scrape, 'vpnham_probes_sent_total{bridge="vpnham-demo-lft",tunnel="wg00"}')! > 0);
    assert.ok(sample(scrape, 'vpnham_probes_returned_total{bridge="vpnham-demo-lft",tunnel="wg00"}')! > 0);
    // The standby saw its failover and its step-down.
    const standby = (await getText("http://127.10.0.3:8000/metrics")).body;
    assert.equal(
      sample(standby, 'vpnham_role_transitions_total{bridge="vpnham-demo-lft",tunnel="",to="active",reason="partner_down"}'),
      1,
    );
    assert.ok(sample(standby, 'vpnham_hook_runs_total{bridge="vpnham-demo-lft",hook="bridge_activate",outcome="ok"}')! >= 1);
    // Right-active lost probes while wg00 was cut.
    const right = (await getText("http://127.10.1.2:8000/metrics")).body;
    assert.ok(sample(right, 'vpnham_probes_failed_total{bridge="vpnham-demo-rgt",tunnel="wg00"}')! >= 3);
  });

  test("a one-way cut is detected by the side whose probes are lost", async () => {
    const wg00 = world.links.get("wg00")!;
    const roles = (host: HostName) => world.daemons.get(host)!.bridges().values().next().value!.state;
    // Drop what left-active sends: its probes die, so does every reply it reflects to right-active.
    wg00.cut("a");
    try {
      await waitFor(() => roles("left-active").activeTunnel === "wg01" && roles("right-active").activeTunnel === "wg10", {
        timeoutMs: 5000,
        what: "both ends to leave wg00",
      });
    } finally {
      wg00.restore();
    }
    await waitFor(() => roles("left-active").activeTunnel === "wg00" && roles("right-active").activeTunnel === "wg00", {
      timeoutMs: 5000,
      what: "wg00 to reclaim",
    });
  });
});
