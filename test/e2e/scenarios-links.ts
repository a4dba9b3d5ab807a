/**
 * Link-level scenarios of the four-host suite: a tunnel cut, one-way loss,
 * address churn, garbage at every socket. Each takes the running world in its
 * steady state and puts the links back before it returns.
 */
import assert from "node:assert/strict";
import type { World } from "./harness.ts";
import { hookMark, short, STEADY, summaries, views, waitHook, waitHosts } from "./expect.ts";
import { metricSum } from "./metrics-text.ts";
import { hasCommand, HOST_IDS } from "./netns.ts";
import { startJunk } from "./junk.ts";
import { BRIDGES, CI, TUNNEL_FAILOVER_MS } from "./timing.ts";

// process.stdout/stderr rather than console: `deno check` with this tsconfig's libs has no console.
const note = (line: string): void => void process.stderr.write(`${line}\n`);

/** 3. wg00 cut at the left end: both ends move to their standby tunnel with the right hooks, then reclaim. */
export async function tunnelCut(w: World): Promise<void> {
  const mark = hookMark(w);
  await w.topo.ip("la", "link", "set", "eth1", "down");
  await waitHosts(w, "failover to eth2 on both ends", { la: { active: true, tunnel: "eth2" }, ra: { active: true, tunnel: "eth2" } }, TUNNEL_FAILOVER_MS);
  await waitHook(w, mark, "la", "interface_activate eth2 192.168.255.18", 5_000);
  await waitHook(w, mark, "ra", "interface_activate eth2 192.168.255.35", 5_000);
  assert.deepEqual(summaries(w, mark, "la"), ["interface_deactivate eth1 192.168.255.2", "interface_activate eth2 192.168.255.18"]);
  assert.deepEqual(summaries(w, mark, "ra"), ["interface_deactivate eth1 192.168.255.3", "interface_activate eth2 192.168.255.35"]);
  // The standbys are not involved.
  assert.deepEqual(summaries(w, mark, "ls"), []);
  assert.deepEqual(summaries(w, mark, "rs"), []);

  const back = hookMark(w);
  await w.topo.ip("la", "link", "set", "eth1", "up");
  await waitHosts(w, "eth1 reclaims", STEADY, TUNNEL_FAILOVER_MS);
  await waitHook(w, back, "la", "interface_activate eth1 192.168.255.2", 5_000);
  await waitHook(w, back, "ra", "interface_activate eth1 192.168.255.3", 5_000);
  assert.deepEqual(summaries(w, back, "la"), ["interface_deactivate eth2 192.168.255.18", "interface_activate eth1 192.168.255.2"]);
  assert.deepEqual(summaries(w, back, "ra"), ["interface_deactivate eth2 192.168.255.35", "interface_activate eth1 192.168.255.3"]);
}

/** 8. nftables drops what the left active sends on wg00: down at the sender (and the far end), no flapping. */
export async function asymmetricLoss(w: World): Promise<void> {
  if (!hasCommand("nft")) {
    if (CI) assert.fail("nft (nftables) is not installed; .ci/run installs it");
    note("scenario 8 skipped: nft (nftables) is not installed");
    return;
  }
  const mark = hookMark(w);
  // Drop everything left-active sends on wg00: its probes and its answers never reach right-active.
  await w.topo.exec("la", "nft", "add", "table", "inet", "vpnham_e2e");
  await w.topo.exec("la", "nft", "add chain inet vpnham_e2e out { type filter hook output priority 0 ; }");
  await w.topo.exec("la", "nft", "add", "rule", "inet", "vpnham_e2e", "out", "oifname", "eth1", "udp", "dport", "3003", "drop");
  await waitHosts(
    w,
    "wg00 down at the sender (and at the far end, whose answers are lost)",
    { la: { active: true, tunnel: "eth2", upTunnels: ["eth2"] }, ra: { active: true, tunnel: "eth2", upTunnels: ["eth2"] } },
    TUNNEL_FAILOVER_MS,
  );
  // Hold: 6 probe intervals without any change of verdict or role.
  const transitions = async (): Promise<number> => {
    let sum = 0;
    for (const h of ["la", "ra"] as const) sum += metricSum((await w.metrics(h)) ?? [], "vpnham_role_transitions_total");
    return sum;
  };
  const before = await transitions();
  const holdUntil = performance.now() + 6_000;
  while (performance.now() < holdUntil) {
    const v = await views(w, ["la", "ra"]);
    for (const h of ["la", "ra"] as const) {
      assert.equal(v[h]?.tunnel, "eth2", `${h} flapped: ${short(v[h] ?? null)}`);
      assert.deepEqual(v[h]?.upTunnels, ["eth2"], `${h} flapped: ${short(v[h] ?? null)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(await transitions(), before, "no role transitions while the loss lasted");
  assert.deepEqual(summaries(w, mark, "la"), ["interface_deactivate eth1 192.168.255.2", "interface_activate eth2 192.168.255.18"]);
  await w.topo.exec("la", "nft", "delete", "table", "inet", "vpnham_e2e");
  await waitHosts(w, "wg00 back", STEADY, TUNNEL_FAILOVER_MS);
}

/** 9. The tunnel address removed and re-added: the socket re-opens, the tunnel recovers without a restart. */
export async function interfaceChurn(w: World): Promise<void> {
  const pid = w.pid("la");
  const logMark = w.logs("la").length;
  await w.topo.ip("la", "addr", "del", "192.168.255.2/28", "dev", "eth1");
  await waitHosts(w, "failover while the address is gone", { la: { tunnel: "eth2" }, ra: { tunnel: "eth2" } }, TUNNEL_FAILOVER_MS);
  await w.topo.ip("la", "addr", "add", "192.168.255.2/28", "dev", "eth1");
  // The socket re-opens with back-off (≤ 5 s), then threshold_up probes.
  await waitHosts(w, "eth1 back after the address returned", STEADY, 15_000);
  assert.equal(w.pid("la"), pid, "no restart");
  assert.ok(w.running("la"));
  // Whether the socket had to be re-opened depends on the error the kernel gave while the
  // address was gone (a path error keeps the socket, which works again once the address is
  // back); either way the daemon said what happened and kept running.
  const churnLogs = w.logs("la").slice(logMark);
  assert.ok(
    churnLogs.some((r) => r.msg === "transponder socket re-opened" || /tunnel (up|down)/.test(String(r.msg))),
    "the churn shows in the log",
  );
}

/** 10. Junk datagrams and HTTP at every socket during a failover: no crash, right verdicts, junk counted. */
export async function garbage(w: World): Promise<void> {
  const pids = HOST_IDS.map((h) => w.pid(h));
  const before = await Promise.all(HOST_IDS.map((h) => w.metrics(h)));
  const junk = startJunk(w);
  let counts;
  try {
    const mark = hookMark(w);
    await w.topo.ip("la", "link", "set", "eth1", "down");
    await waitHosts(w, "failover under junk", { la: { active: true, tunnel: "eth2" }, ra: { active: true, tunnel: "eth2" } }, TUNNEL_FAILOVER_MS);
    await waitHook(w, mark, "la", "interface_activate eth2 192.168.255.18", 5_000);
    await w.topo.ip("la", "link", "set", "eth1", "up");
    await waitHosts(w, "reclaim under junk", STEADY, TUNNEL_FAILOVER_MS);
    await waitHook(w, mark, "ra", "interface_activate eth1 192.168.255.3", 5_000);
    // la's hooks run on la's own queue: ra's being done says nothing about them.
    await waitHook(w, mark, "la", "interface_activate eth1 192.168.255.2", 5_000);
    assert.deepEqual(summaries(w, mark, "la"), [
      "interface_deactivate eth1 192.168.255.2",
      "interface_activate eth2 192.168.255.18",
      "interface_deactivate eth2 192.168.255.18",
      "interface_activate eth1 192.168.255.2",
    ]);
  } finally {
    counts = await junk.stop();
  }
  assert.ok(counts.datagrams > 0 && counts.httpRequests > 0, "junk was sent");
  for (const [i, h] of HOST_IDS.entries()) {
    assert.equal(w.pid(h), pids[i], `${h} was not restarted`);
    assert.ok(w.running(h), `${h} still runs`);
    const after = await w.metrics(h);
    assert.ok(after && before[i], `${h} /metrics answers`);
    const b = { bridge: BRIDGES[h] };
    const malformed = metricSum(after, "vpnham_datagrams_malformed_total", b) - metricSum(before[i]!, "vpnham_datagrams_malformed_total", b);
    assert.ok(malformed >= 16, `${h}: junk datagrams counted (${malformed})`);
    for (const server of ["status", "metrics"]) {
      const bad = (s: typeof after) => ["400", "404", "405", "431"].reduce((n, code) => n + metricSum(s, "vpnham_http_requests_total", { server, code }), 0);
      assert.ok(bad(after) > bad(before[i]!), `${h}: junk HTTP answered and counted on the ${server} server`);
    }
  }
}
