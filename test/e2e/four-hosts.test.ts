/**
 * Issue 3: four hosts in network namespaces (docs/operations.md §The reference topology), each
 * running the compiled binary with its config from examples/topology/ (one
 * host on Deno, to prove mixed runtimes), real links, real faults. Scenarios
 * share one topology; before each, the links are repaired and the steady state
 * is asserted. Needs root and iproute2 (nftables for scenario 8); skipped with
 * a message otherwise, and under CI=true a skip is a failure. Bun only.
 *
 * VPNHAM_E2E_DENO=la|ls|ra|rs|none picks the Deno host (default rs).
 * Scenario bodies: scenarios-hosts.ts, scenarios-links.ts.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ensureBinary, World, type Runtime } from "./harness.ts";
import { expectSteady, repair } from "./expect.ts";
import { HOST_IDS, netnsUnavailable, type HostId } from "./netns.ts";
import { allTunnelsDown, coldStart, hostFrozen, hostKilled, partnerLinkCut, staggeredStart } from "./scenarios-hosts.ts";
import { asymmetricLoss, garbage, interfaceChurn, tunnelCut } from "./scenarios-links.ts";
import { CI, START_MS } from "./timing.ts";

// process.stdout/stderr rather than console: `deno check` with this tsconfig's libs has no console.
const note = (line: string): void => void process.stderr.write(`${line}\n`);

const SUITE = "e2e: four hosts in network namespaces";
const unavailable = netnsUnavailable();
const denoHost = (process.env.VPNHAM_E2E_DENO ?? "rs") as HostId | "none";

let world: World | undefined;
let failed = false;

/** One scenario on the shared world; `fresh` ones start their own daemons, the others start from the steady state. */
function scenario(name: string, body: (w: World) => Promise<void>, options: { fresh?: boolean; timeoutMs?: number } = {}): void {
  test(name, { timeout: options.timeoutMs ?? 110_000 }, async () => {
    const w = world;
    if (!w) throw new Error("the topology was not set up (see the first failure)");
    try {
      if (!options.fresh) {
        await repair(w);
        await expectSteady(w, START_MS);
      }
      await body(w);
      // No crash along the way: every daemon still runs (the scenarios restart what they kill).
      for (const h of HOST_IDS) assert.ok(w.running(h), `${h} is not running: ${JSON.stringify(w.exitOf(h))}\n${w.logTail(h, 15)}`);
    } catch (error) {
      failed = true;
      throw error;
    }
  });
}

if ("Deno" in globalThis) {
  // The hosts run the compiled binary and one Deno host either way; a second pass buys nothing.
  test(SUITE, { skip: "the e2e suite runs under `bun test` only" }, () => {});
} else if (unavailable && CI) {
  test(SUITE, () => assert.fail(`cannot run the e2e suite: ${unavailable}; with CI=true a skip is a failure`));
} else if (unavailable) {
  note(`e2e suite skipped: ${unavailable} (run as root with iproute2 installed)`);
  test(SUITE, { skip: `skipped: ${unavailable}` }, () => {});
} else {
  describe(SUITE, () => {
    test("set up: topology, agents, compiled binary", { timeout: 300_000 }, async () => {
      await ensureBinary();
      const runtimes: Partial<Record<HostId, Runtime>> = denoHost === "none" ? {} : { [denoHost]: "deno" };
      world = await World.create({ runtimes });
    });

    scenario("1. cold start: one active bridge per side, active↔active tunnel active", coldStart, { fresh: true, timeoutMs: 60_000 });
    scenario("3. active tunnel cut at one end: both ends promote the standby tunnel, then reclaim", tunnelCut);
    scenario("4. active host killed (SIGKILL): partner takes over, far side follows; restart reclaims", hostKilled);
    scenario("5. active host frozen (SIGSTOP) and thawed: partner takes over, no crash or stuck state", hostFrozen);
    scenario("6. all tunnels of the active host down: up:false, it steps down, its partner takes over", allTunnelsDown);
    scenario("7. partner network cut: split brain while apart, visible, healed when the link returns", partnerLinkCut);
    scenario("8. asymmetric loss (nftables drops one direction): down at the sender, no flapping", asymmetricLoss);
    scenario("9. interface churn: tunnel address removed and re-added, recovers without restart", interfaceChurn);
    scenario("10. garbage at every socket during a failover: no crash, right verdicts, junk counted", garbage);
    // Last: it restarts every daemon with a faster variant of the configs.
    scenario("2. staggered start: standbys 20 s early step down when the actives come up", staggeredStart, { timeoutMs: 120_000 });

    test("tear down: stop everything, remove the namespaces", { timeout: 30_000 }, async () => {
      const w = world;
      world = undefined;
      if (!w) return;
      if (failed) note(`e2e: a scenario failed; logs and hook files kept in ${w.runDir}`);
      await w.close(failed);
    });
  });
}
