/**
 * Addresses inside a network namespace this test creates (`hdns-<pid>`), checked with icmp (the
 * system ping, as goavail) by three agents that must all agree (min_peers_agree: 2), against a
 * real BIND (docs/dns-failover.md §Checks, §Decision): an address taken off its interface in the
 * namespace leaves DNS; put back, it returns; an agent cut off from the other two cannot remove
 * anything alone. Needs root, iproute2, ping and named.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { parseConfig } from "../../src/config/index.ts";
import { startDaemon, type Daemon } from "../../src/daemon/daemon.ts";
import { waitFor } from "../../src/util/wait.ts";
import { netnsUnavailable } from "../e2e/netns.ts";
import { freePort, KEY_NAME, missing, startBind, TSIG_SECRET, ZONE, type DnsServer } from "./servers.ts";

const tag = String(process.pid % 100_000);
const ns = `hdns-${tag}`;
const hostDev = `hdns${tag}h`;
const nsDev = `hdns${tag}n`;
const sites = ["10.66.77.11", "10.66.77.12"];
const agents = ["127.66.22.1", "127.66.22.2", "127.66.22.3"];
const name = `site.${ZONE}`;

const why = netnsUnavailable() ?? (spawnSync("sh", ["-c", "command -v ping"]).status === 0 ? undefined : "ping not installed (iputils-ping)") ?? missing("bind");
const ip = (...args: string[]) => execFileSync("ip", args, { stdio: ["ignore", "pipe", "pipe"], timeout: 10_000 });
const inNs = (...args: string[]) => ip("netns", "exec", ns, "ip", ...args);

function teardown(): void {
  spawnSync("ip", ["link", "del", hostDev], { stdio: "ignore" });
  spawnSync("ip", ["netns", "del", ns], { stdio: "ignore" });
}

describe("agents checking addresses inside a namespace with icmp", { skip: why ?? false, timeout: 55_000 }, () => {
  let bind: DnsServer;
  const daemons: Daemon[] = [];
  const yamlOf: string[] = [];
  before(
    async () => {
      teardown();
      ip("netns", "add", ns);
      ip("link", "add", hostDev, "type", "veth", "peer", "name", nsDev);
      ip("link", "set", nsDev, "netns", ns);
      ip("addr", "add", "10.66.77.1/24", "dev", hostDev);
      ip("link", "set", hostDev, "up");
      inNs("link", "set", "lo", "up");
      inNs("addr", "add", "10.66.77.2/24", "dev", nsDev);
      for (const site of sites) inNs("addr", "add", `${site}/32`, "dev", nsDev);
      inNs("link", "set", nsDev, "up");
      bind = await startBind(sites.map((s) => `site IN A ${s}`));
      const peerPort = await freePort(agents[0]!);
      const metricsPort = await freePort(agents[0]!);
      for (const [i, me] of agents.entries()) {
        const peers = agents.flatMap((other, j) => (j === i ? [] : [`n${j}: "http://${other}:${peerPort}/"`]));
        const yaml = `
metrics: { listen_addr: "${me}:${metricsPort}" }
dns_failover:
  dry_run: false
  agent: n${i}
  check: { kind: icmp, interval: 300ms, timeout: 250ms, threshold_down: 2, threshold_up: 2 }
  addresses:
${sites.map((s) => `    ${s}: { names: [${name}] }`).join("\n")}
  providers:
    bind: { kind: rfc2136, server: "127.0.0.1:${bind.port}", zone: ${ZONE}, tsig_key: ${KEY_NAME}, tsig_secret: "${TSIG_SECRET}" }
  peers: { ${peers.join(", ")} }
  min_peers_agree: 2
  listen: "${me}:${peerPort}"
  secret: namespace-agents-shared-secret
  poll_interval: 200ms
`;
        yamlOf.push(yaml);
        daemons.push(await startDaemon(parseConfig(yaml).config));
      }
    },
    { timeout: 30_000 },
  );
  after(async () => {
    for (const daemon of daemons) await daemon?.stop();
    await bind?.stop();
    teardown();
  });

  type AddressStatus = { address: string; local: string; target: string; why: string };
  const decided = (daemon: Daemon, address: string) =>
    (daemon.status()["dns_failover:decision"] as { addresses: AddressStatus[] }).addresses.find((a) => a.address === address);
  const local = (daemon: Daemon, address: string) => decided(daemon, address)?.local;

  test("the three agents ping both addresses up", async () => {
    await waitFor(() => daemons.every((d) => sites.every((s) => local(d, s) === "up")), { timeoutMs: 15_000, what: "every address up on every agent" });
    assert.deepEqual(bind.lookup(name), sites);
  });

  test("an address taken off its interface in the namespace leaves DNS once all three agree; put back, it returns", async () => {
    inNs("addr", "del", `${sites[1]}/32`, "dev", nsDev);
    await waitFor(() => !bind.lookup(name).includes(sites[1]!), { timeoutMs: 15_000, intervalMs: 100, what: "the dead address to leave DNS" });
    assert.deepEqual(bind.lookup(name), [sites[0]]);
    assert.ok(daemons.every((d) => local(d, sites[1]!) === "down"));
    inNs("addr", "add", `${sites[1]}/32`, "dev", nsDev);
    await waitFor(() => bind.lookup(name).length === 2, { timeoutMs: 15_000, intervalMs: 100, what: "the address back in DNS" });
    assert.deepEqual(bind.lookup(name), sites);
  });

  test("an agent cut off from the other two cannot remove a dead address alone; they come back and agree", async () => {
    // The partition: n1 and n2 stop answering (and asking); n0 hears nobody.
    await daemons[1]!.stop();
    await daemons[2]!.stop();
    inNs("addr", "del", `${sites[0]}/32`, "dev", nsDev);
    await waitFor(() => local(daemons[0]!, sites[0]!) === "down", { timeoutMs: 15_000, intervalMs: 100, what: "n0 to judge the address down" });
    await waitFor(() => /only 0 fresh peer votes agree/.test(decided(daemons[0]!, sites[0]!)?.why ?? ""), { timeoutMs: 15_000, intervalMs: 100, what: "the peers' votes to age out" });
    assert.equal(decided(daemons[0]!, sites[0]!)?.target, "hold");
    assert.deepEqual(bind.lookup(name), sites, "nothing removed by one agent alone");
    // The partition heals: with both peers' votes the address goes; put back, it returns.
    for (const i of [1, 2]) daemons[i] = await startDaemon(parseConfig(yamlOf[i]!).config);
    await waitFor(() => !bind.lookup(name).includes(sites[0]!), { timeoutMs: 20_000, intervalMs: 100, what: "the dead address to leave DNS after the partition heals" });
    inNs("addr", "add", `${sites[0]}/32`, "dev", nsDev);
    await waitFor(() => bind.lookup(name).length === 2, { timeoutMs: 15_000, intervalMs: 100, what: "the address back in DNS" });
    assert.deepEqual(bind.lookup(name), sites);
  });
});
