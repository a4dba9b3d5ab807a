// The strongSwan collector against two real charons in network namespaces (root; strongSwan's
// charon and swanctl installed): up with exact byte counters after a ping through the tunnel,
// down within a second of `swanctl --terminate` (events, not the interval), up again after
// `--initiate`, and a killed charon → success 0, then recovery without restarting the collector.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { startCollectors, type CollectorsRuntime } from "../../src/collectors/index.ts";
import { configureLogger } from "../../src/util/log.ts";
import { waitFor } from "../../src/util/wait.ts";
import { scrapeFamilies } from "../metrics/support.ts";
import { findTool, run, skipUnless } from "../ops/support.ts";
import { netnsMissing } from "../support/netns.ts";
import { scrapedValue } from "./live.ts";
import { charonPath, removeLeftovers, StrongswanPair } from "./strongswan-pair.ts";

const missing = netnsMissing(
  [charonPath !== undefined, "strongSwan's charon not installed (apt-get install strongswan-charon strongswan-swanctl libcharon-extra-plugins)"],
  [findTool("swanctl") !== undefined, "swanctl not installed (apt-get install strongswan-swanctl)"],
);
const skip = skipUnless(missing === undefined, missing ?? "");
const promtool = findTool("promtool");

const net = { conn: "gw-a", child: "net" };
const PING_BYTES = 84; // 56 data + 8 ICMP + 20 IPv4: what charon counts per packet

describe("strongSwan collector with real charons", { skip, timeout: 60_000 }, () => {
  let pair: StrongswanPair;
  let registry: Registry;
  let collectors: CollectorsRuntime;

  const families = () => scrapeFamilies(registry);
  const value = (name: string, labels: Record<string, string> = {}) => scrapedValue(registry, name, labels);
  /** ms until `name{labels}` reads `expected` (polling the scrape every 10 ms). */
  const msUntil = async (name: string, labels: Record<string, string>, expected: number, timeoutMs: number, since = performance.now()): Promise<number> => {
    await waitFor(async () => (await value(name, labels)) === expected, { timeoutMs, intervalMs: 10, what: `${name}${JSON.stringify(labels)} == ${expected}` });
    return performance.now() - since;
  };
  const success = () => value("vpnham_collector_success", { collector: "strongswan" });

  before(async () => {
    configureLogger({ level: "silent" });
    await removeLeftovers();
    pair = new StrongswanPair();
    await pair.setUp();
    await Promise.all([pair.startCharon("a"), pair.startCharon("b")]);
    registry = new Registry();
    // A 30 s interval: every change this test sees within it comes from charon's events.
    collectors = startCollectors({ collectors: { strongswan: { socketPath: pair.viciPath("a"), intervalMs: 30_000, timeoutMs: 2000 } } }, registry);
    await waitFor(async () => (await success()) === 1, { timeoutMs: 5000, what: "first collection" });
  });
  after(async () => {
    await collectors?.stop();
    await pair?.tearDown();
    configureLogger({ level: "info" });
  });

  test("a loaded but not initiated connection reads 0, it is not missing", { timeout: 60_000 }, async () => {
    assert.equal(await value("vpnham_ipsec_ike_sa_up", { conn: "gw-a" }), 0);
    assert.equal(await value("vpnham_ipsec_child_sa_up", net), 0);
    assert.equal(await value("vpnham_ipsec_child_sa_bytes_total", { ...net, direction: "out" }), 0);
  });

  test("initiate → up at once; a ping → exact byte and packet counters", { timeout: 60_000 }, async () => {
    const started = performance.now();
    await pair.swanctl("a", "--initiate", "--ike", "gw-a", "--child", "net");
    const upMs = await msUntil("vpnham_ipsec_child_sa_up", net, 1, 10_000, started);
    assert.equal(await value("vpnham_ipsec_ike_sa_up", { conn: "gw-a" }), 1);
    await pair.ping(5);
    await collectors.runNow(); // traffic raises no event: the next interval would read it
    for (const direction of ["in", "out"]) {
      assert.equal(await value("vpnham_ipsec_child_sa_bytes_total", { ...net, direction }), 5 * PING_BYTES, `bytes ${direction}`);
      assert.equal(await value("vpnham_ipsec_child_sa_packets_total", { ...net, direction }), 5, `packets ${direction}`);
      assert.ok(((await value("vpnham_ipsec_child_sa_idle_seconds", { ...net, direction })) ?? 99) <= 2, `idle ${direction}`);
    }
    const listed = await pair.swanctl("a", "--list-sas");
    assert.match(listed, new RegExp(`in\\s+\\w+,\\s+${5 * PING_BYTES} bytes,\\s+5 packets`), "swanctl shows the same numbers");
    assert.equal(await value("vpnham_ipsec_child_sas", { state: "INSTALLED" }), 1);
    if (process.env.HCOL_FIGURES) console.log("up ms", upMs);
  });

  test("the scrape passes promtool check metrics", { skip: skipUnless(promtool !== undefined, "promtool not installed"), timeout: 20_000 }, async () => {
    const r = await run([promtool!, "check", "metrics"], { input: await registry.metrics() });
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });

  test("terminate → down by event, long before the 30 s interval; initiate → up again, counters kept", { timeout: 60_000 }, async () => {
    const started = performance.now();
    await pair.swanctl("a", "--terminate", "--ike", "gw-a");
    const downMs = await msUntil("vpnham_ipsec_child_sa_up", net, 0, 10_000, started);
    if (process.env.HCOL_FIGURES) console.log("down ms", downMs);
    assert.equal(await value("vpnham_ipsec_ike_sa_up", { conn: "gw-a" }), 0);
    assert.equal(await value("vpnham_ipsec_child_sa_bytes_total", { ...net, direction: "out" }), 5 * PING_BYTES, "totals survive");

    const again = performance.now();
    await pair.swanctl("a", "--initiate", "--ike", "gw-a", "--child", "net");
    const upAgainMs = await msUntil("vpnham_ipsec_child_sa_up", net, 1, 10_000, again);
    if (process.env.HCOL_FIGURES) console.log("up again ms", upAgainMs);
    await pair.ping(2);
    await collectors.runNow();
    assert.equal(await value("vpnham_ipsec_child_sa_bytes_total", { ...net, direction: "out" }), 7 * PING_BYTES, "the new SA's traffic adds up");
  });

  test("charon killed → success 0 and its series gone; restarted → success 1 without restarting the collector", { timeout: 60_000 }, async () => {
    const killed = performance.now();
    await pair.stopCharon("a", "SIGKILL");
    await waitFor(async () => (await success()) === 0, { timeoutMs: 10_000, intervalMs: 10, what: "success 0" });
    const failMs = performance.now() - killed;
    assert.equal((await families()).get("vpnham_ipsec_child_sa_up")?.samples.length ?? 0, 0);

    const restarted = performance.now();
    await pair.startCharon("a");
    await waitFor(async () => (await success()) === 1, { timeoutMs: 10_000, intervalMs: 20, what: "success 1 again" });
    const recoverMs = performance.now() - restarted;
    // The collector may have reconnected between charon's socket opening and `--load-all`
    // (startCharon): one collection now sees the loaded connection.
    await collectors.runNow();
    assert.equal(await value("vpnham_ipsec_child_sa_up", net), 0, "loaded again, not initiated");
    assert.equal(await value("vpnham_ipsec_child_sa_bytes_total", { ...net, direction: "out" }), 7 * PING_BYTES, "totals survive charon");
    await pair.swanctl("a", "--initiate", "--ike", "gw-a", "--child", "net");
    await msUntil("vpnham_ipsec_child_sa_up", net, 1, 10_000);
    if (process.env.HCOL_FIGURES) console.log("fail ms", failMs, "recover ms", recoverMs);
  });
});
