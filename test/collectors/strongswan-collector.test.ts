// The strongSwan collector through the engine against a scripted charon (captured frames): the
// scrape, events refreshing state at once, a charon restart. The real-daemon version of these is
// strongswan-live.test.ts.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { startCollectors, type CollectorsRuntime } from "../../src/collectors/index.ts";
import { configureLogger } from "../../src/util/log.ts";
import { waitFor } from "../../src/util/wait.ts";
import type { ViciSection } from "../../src/vici/message.ts";
import { decodePacket, PACKET } from "../../src/vici/packet.ts";
import { scrapeFamilies } from "../metrics/support.ts";
import { scrapedValue } from "./live.ts";
import { findTool, run, skipUnless } from "../ops/support.ts";
import { FakeCharon, streamingReply } from "../vici/fake-charon.ts";
import { fixture } from "../vici/support.ts";

const promtool = findTool("promtool");
const promtoolSkip = skipUnless(promtool !== undefined, "promtool not installed (apt-get install prometheus)");
const event = (file: string) => (decodePacket(fixture(file)) as { message: ViciSection }).message;

const families = scrapeFamilies;
const value = scrapedValue;
const net = { conn: "gw-a", child: "net" };

describe("strongSwan collector against a scripted charon", () => {
  let charon: FakeCharon;
  let sas: ViciSection[];
  let registry: Registry;
  let collectors: CollectorsRuntime;

  before(async () => {
    configureLogger({ level: "silent" });
    charon = new FakeCharon();
    sas = [event("list-sa-event-5.9.8.bin")];
    charon.reply = streamingReply({
      "list-conns": { event: "list-conn", messages: () => [event("list-conn-event.bin")] },
      "list-sas": { event: "list-sa", messages: () => sas },
    });
    await charon.listen();
    registry = new Registry();
    // A long interval: anything that changes within the test comes from events. The blog's names too.
    collectors = startCollectors({ collectors: { compatNames: true, strongswan: { socketPath: charon.path, intervalMs: 60_000, timeoutMs: 1000 } } }, registry);
    await waitFor(async () => (await value(registry, "vpnham_collector_success", { collector: "strongswan" })) === 1, { timeoutMs: 3000, what: "first collection" });
  });
  after(async () => {
    await collectors.stop();
    await charon.dispose();
    configureLogger({ level: "info" });
  });

  test("an up tunnel on /metrics, checked by promtool", { skip: promtoolSkip }, async () => {
    assert.equal(await value(registry, "vpnham_ipsec_child_sa_up", net), 1);
    assert.equal(await value(registry, "vpnham_ipsec_child_sa_bytes_total", { ...net, direction: "in" }), 252);
    assert.equal(await value(registry, "node_ipsec_peer_status", { peer: "10.98.0.2", name: "net" }), 1, "compat_names: remote_addrs of list-conns, the child");
    assert.equal(await value(registry, "node_ipsec_peer_bytes_in", { peer: "10.98.0.2", name: "net" }), 252);
    const r = await run([promtool!, "check", "metrics"], { input: await registry.metrics() });
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });

  test("a child-updown event refreshes at once: down reads 0, the series stay", async () => {
    sas = [];
    const started = performance.now();
    charon.clients[0]!.send({ type: PACKET.EVENT, name: "child-updown", message: event("child-updown-down.bin") });
    await waitFor(async () => (await value(registry, "vpnham_ipsec_child_sa_up", net)) === 0, { timeoutMs: 2000, what: "child down" });
    assert.ok(performance.now() - started < 1000, "well before the 60 s interval");
    assert.equal(await value(registry, "vpnham_ipsec_ike_sa_up", { conn: "gw-a" }), 0);
    assert.equal(await value(registry, "node_ipsec_peer_status", { peer: "10.98.0.2", name: "net" }), 0);
    assert.equal(await value(registry, "vpnham_ipsec_child_sa_bytes_total", { ...net, direction: "in" }), 252, "totals survive the SA");
    sas = [event("list-sa-event-after-ping.bin")];
    charon.clients[0]!.send({ type: PACKET.EVENT, name: "child-updown", message: event("child-updown-up.bin") });
    await waitFor(async () => (await value(registry, "vpnham_ipsec_child_sa_up", net)) === 1, { timeoutMs: 2000, what: "child up" });
    assert.equal(await value(registry, "vpnham_ipsec_child_sa_bytes_total", { ...net, direction: "in" }), 252 + 168);
  });

  test("charon gone: success 0 and its series dropped at once; back: success 1 without a restart", async () => {
    await charon.kill();
    await waitFor(async () => (await value(registry, "vpnham_collector_success", { collector: "strongswan" })) === 0, { timeoutMs: 2000, what: "failure" });
    assert.equal((await families(registry)).get("vpnham_ipsec_child_sa_up")?.samples.length ?? 0, 0);
    await charon.listen();
    await waitFor(async () => (await value(registry, "vpnham_collector_success", { collector: "strongswan" })) === 1, { timeoutMs: 8000, what: "recovery" });
    assert.equal(await value(registry, "vpnham_ipsec_child_sa_up", net), 1);
  });
});

describe("strongSwan collector against a wedged charon", () => {
  test("accepts but never answers: success 0 after the timeout, the scrape never waits", async () => {
    configureLogger({ level: "silent" });
    const charon = new FakeCharon();
    charon.reply = () => {};
    await charon.listen();
    const registry = new Registry();
    const collectors = startCollectors({ collectors: { strongswan: { socketPath: charon.path, intervalMs: 60_000, timeoutMs: 300 } } }, registry);
    try {
      const started = performance.now();
      await families(registry);
      assert.ok(performance.now() - started < 100, "scrape during a hanging collection");
      const [status] = await collectors.runNow();
      assert.equal(status?.success, false);
      assert.match(status?.lastError ?? "", /timed out|aborted/);
      assert.equal(await value(registry, "vpnham_collector_success", { collector: "strongswan" }), 0);
      assert.ok(charon.clients.length <= 4, `bounded reconnects (${charon.clients.length})`);
    } finally {
      await collectors.stop();
      await charon.dispose();
      configureLogger({ level: "info" });
    }
  });
});
