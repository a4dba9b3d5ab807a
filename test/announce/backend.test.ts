import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { frrReconciler } from "../../src/announce/backend.ts";
import type { DesiredPrefix } from "../../src/announce/decide.ts";
import { isRetryable } from "../../src/reconcile/action.ts";
import { startReconcileLoop } from "../../src/reconcile/engine.ts";
import { createReconcileMetrics } from "../../src/reconcile/metrics.ts";
import { fakeFrr } from "./fake-frr.ts";

const signal = new AbortController().signal;
const web: DesiredPrefix[] = [
  { prefix: "192.0.2.10/32", family: 4, routeMap: "BGP1", announce: true },
  { prefix: "2001:db8::10/128", family: 6, announce: true },
];

describe("FRR backend", () => {
  test("reads FRR's networks and its AS number", async () => {
    const frr = fakeFrr(65001, [["192.0.2.10/32", "BGP1"], ["203.0.113.0/24", ""]]);
    const backend = frrReconciler({ kind: "frr", vtysh: ["vtysh"], namespace: "dc1" }, 1000, { run: frr.run });
    const actual = await backend.read(signal);
    assert.equal(actual.asn, 65001);
    assert.deepEqual([...actual.networks.keys()], ["192.0.2.10/32", "203.0.113.0/24"]);
    assert.deepEqual(frr.calls, [["vtysh", "-N", "dc1", "-c", "show running-config"]]);
  });

  test("no BGP instance (bgpd not running) and an unreachable vtysh are worth a retry", async () => {
    const frr = fakeFrr(null);
    const backend = frrReconciler({ kind: "frr", vtysh: ["vtysh"] }, 1000, { run: frr.run });
    await assert.rejects(backend.read(signal), (error) => isRetryable(error) && /no `router bgp`/.test((error as Error).message));
    frr.down = true;
    await assert.rejects(backend.read(signal), (error) => isRetryable(error) && /failed to connect to any daemons/.test((error as Error).message));
  });

  test("another AS than configured is refused at once (no retry)", async () => {
    const backend = frrReconciler({ kind: "frr", vtysh: ["vtysh"], asn: 65002 }, 1000, { run: fakeFrr(65001).run });
    await assert.rejects(backend.read(signal), (error) => !isRetryable(error) && /FRR runs router bgp 65001, but announce.frr.asn is 65002/.test((error as Error).message));
  });

  test("dry run: the exact vtysh commands, nothing applied", async () => {
    const frr = fakeFrr(65001);
    const loop = startReconcileLoop(frrReconciler({ kind: "frr", vtysh: ["/usr/bin/vtysh"], namespace: "dc1" }, 1000, { run: frr.run }), {
      dryRun: true,
      callTimeoutMs: 1000,
      metrics: createReconcileMetrics(new Registry()),
    });
    loop.setDesired(web);
    await loop.settled();
    const c = (line: string) => ["-c", line];
    const prefix = ["/usr/bin/vtysh", "-N", "dc1", ...c("configure terminal"), ...c("router bgp 65001")];
    assert.deepEqual(loop.status().lastPlan, [
      JSON.stringify([...prefix, ...c("address-family ipv4 unicast"), ...c("network 192.0.2.10/32 route-map BGP1"), ...c("end")]),
      JSON.stringify([...prefix, ...c("address-family ipv6 unicast"), ...c("network 2001:db8::10/128"), ...c("end")]),
    ]);
    assert.equal(loop.status().lastOutcome, "dry_run");
    assert.equal(frr.networks.size, 0);
    assert.equal(frr.calls.length, 1, "only the read ran");
    await loop.stop();
  });

  test("applies, reads back, and leaves every other network line alone", async () => {
    const frr = fakeFrr(65001, [["203.0.113.0/24", ""], ["2001:db8::10/128", ""]]);
    const loop = startReconcileLoop(frrReconciler({ kind: "frr", vtysh: ["vtysh"] }, 1000, { run: frr.run }), {
      dryRun: false,
      callTimeoutMs: 1000,
      metrics: createReconcileMetrics(new Registry()),
    });
    loop.setDesired([web[0]!, { ...web[1]!, announce: false }]);
    await loop.settled();
    assert.equal(loop.status().lastOutcome, "applied");
    assert.deepEqual([...frr.networks], [["203.0.113.0/24", ""], ["192.0.2.10/32", "BGP1"]]);
    await loop.stop();
  });

  test("`no network` of a prefix FRR no longer has counts as done", async () => {
    const frr = fakeFrr(65001, [["192.0.2.10/32", ""]]);
    const backend = frrReconciler({ kind: "frr", vtysh: ["vtysh"] }, 1000, { run: frr.run });
    const [step] = backend.plan([{ ...web[0]!, announce: false }], await backend.read(signal));
    frr.networks.clear(); // someone else withdrew it in between
    await step!.apply(signal);
  });

  test("a vtysh error is retryable and says what FRR said", async () => {
    const frr = fakeFrr(65001);
    const backend = frrReconciler({ kind: "frr", vtysh: ["vtysh"] }, 1000, { run: frr.run });
    const [step] = backend.plan(web, await backend.read(signal));
    frr.down = true;
    await assert.rejects(step!.apply(signal), (error) => isRetryable(error) && /exit 1: Exiting: failed to connect/.test((error as Error).message));
  });
});
