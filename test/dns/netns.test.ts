/**
 * Addresses inside a network namespace this test creates (`hdns-<pid>`), checked with icmp (the
 * system ping, as goavail) by two agents that must agree, against a real BIND
 * (docs/dns-failover.md §Checks, §Decision): an address taken off its interface in the namespace
 * leaves DNS; put back, it returns. Needs root, iproute2, ping and named.
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
const agents = ["127.66.22.1", "127.66.22.2"];
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
        const other = agents[1 - i]!;
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
  peers: { n${1 - i}: "http://${other}:${peerPort}/" }
  listen: "${me}:${peerPort}"
  secret: namespace-agents-shared-secret
  poll_interval: 200ms
`;
        daemons.push(await startDaemon(parseConfig(yaml).config));
      }
    },
    { timeout: 30_000 },
  );
  after(async () => {
    for (const daemon of daemons) await daemon.stop();
    await bind?.stop();
    teardown();
  });

  const local = (daemon: Daemon, address: string) =>
    (daemon.status()["dns_failover:decision"] as { addresses: { address: string; local: string }[] }).addresses.find((a) => a.address === address)?.local;

  test("both agents ping both addresses up", async () => {
    await waitFor(() => daemons.every((d) => sites.every((s) => local(d, s) === "up")), { timeoutMs: 15_000, what: "every address up on both agents" });
    assert.deepEqual(bind.lookup(name), sites);
  });

  test("an address taken off its interface in the namespace leaves DNS once both agree; put back, it returns", async () => {
    inNs("addr", "del", `${sites[1]}/32`, "dev", nsDev);
    await waitFor(() => !bind.lookup(name).includes(sites[1]!), { timeoutMs: 15_000, intervalMs: 100, what: "the dead address to leave DNS" });
    assert.deepEqual(bind.lookup(name), [sites[0]]);
    assert.ok(daemons.every((d) => local(d, sites[1]!) === "down"));
    inNs("addr", "add", `${sites[1]}/32`, "dev", nsDev);
    await waitFor(() => bind.lookup(name).length === 2, { timeoutMs: 15_000, intervalMs: 100, what: "the address back in DNS" });
    assert.deepEqual(bind.lookup(name), sites);
  });
});
