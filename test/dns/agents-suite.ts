/**
 * Three agents on loopback against a real DNS server (BIND: agents.test.ts, Knot:
 * agents-knot.test.ts), checking addresses that are loopback listeners the suite opens and closes
 * (tcp checks), docs/dns-failover.md §Decision and §Peers:
 * one agent alone cannot remove; with a peer's agreement it does; a returning address is put back;
 * the last address stays; a spoofed peer never counts; a reload adding a name keeps the verdicts.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer, type Server } from "node:net";
import { parseConfig } from "../../src/config/index.ts";
import { startDaemon, type Daemon } from "../../src/daemon/daemon.ts";
import { waitFor } from "../../src/util/wait.ts";
import { freePort, KEY_NAME, missing, startBind, startKnot, TSIG_SECRET, ZONE, type DnsServer } from "./servers.ts";

type Agent = "a" | "b" | "c";

/** The suite against `kind`; `net` keeps the two files' addresses apart (127.66.<net>.x, 127.66.<net+1>.x). */
export function agentsSuite(kind: "bind" | "knot", net: number): void {
  const checked = [1, 2, 3].map((i) => `127.66.${net}.${i}`);
  const agentIp: Record<Agent, string> = { a: `127.66.${net + 1}.1`, b: `127.66.${net + 1}.2`, c: `127.66.${net + 1}.3` };
  const spoofIp = `127.66.${net + 1}.4`;
  const name = `vpn.${ZONE}`;
  const SECRET = "three-agents-share-this-secret";
  const guard = { timeoutMs: 15_000, intervalMs: 50 };

  let dnsServer: DnsServer;
  let checkPort: number;
  let peerPort: number;
  let metricsPort: number;
  const listeners = new Map<string, Server>();
  const agents = new Map<Agent, Daemon>();
  let spoof: HttpServer;
  let spoofRequests = 0;

  async function open(address: string): Promise<void> {
    const server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(checkPort, address, () => resolve());
    });
    listeners.set(address, server);
  }

  async function close(address: string): Promise<void> {
    const server = listeners.get(address);
    listeners.delete(address);
    await new Promise((resolve) => server?.close(resolve));
  }

  function yaml(agent: Agent, extraNames: Record<string, string[]> = {}): string {
    const peers = (Object.keys(agentIp) as Agent[]).filter((p) => p !== agent).map((p) => `    ${p}: http://${agentIp[p]}:${peerPort}/`);
    // Agent a also asks "d", an impostor without the secret (spoofed votes must never count).
    if (agent === "a") peers.push(`    d: http://${spoofIp}:${peerPort}/`);
    const served = (address: string) => [name, ...Object.entries(extraNames).filter(([, list]) => list.includes(address)).map(([n]) => n)];
    return `
metrics: { listen_addr: "${agentIp[agent]}:${metricsPort}" }
dns_failover:
  dry_run: false
  agent: ${agent}
  check: { kind: tcp, port: ${checkPort}, interval: 100ms, timeout: 80ms, threshold_down: 2, threshold_up: 2 }
  addresses:
${checked.map((a) => `    ${a}: { names: [${served(a).join(", ")}] }`).join("\n")}
  providers:
    dns: { kind: rfc2136, server: "127.0.0.1:${dnsServer.port}", zone: ${ZONE}, tsig_key: ${KEY_NAME}, tsig_secret: "${TSIG_SECRET}", timeout: 2s }
  peers:
${peers.join("\n")}
  listen: "${agentIp[agent]}:${peerPort}"
  secret: ${SECRET}
  poll_interval: 100ms
  poll_timeout: 500ms
  vote_max_age: 700ms
  max_changes_per_interval: 10
  drift_interval: 1s
  `;
  }

  async function startAgent(agent: Agent): Promise<Daemon> {
    const daemon = await startDaemon(parseConfig(yaml(agent)).config);
    agents.set(agent, daemon);
    return daemon;
  }

  async function stopAgent(agent: Agent): Promise<void> {
    await agents.get(agent)?.stop();
    agents.delete(agent);
  }

  type AddressStatus = { address: string; local: string; votes: Record<string, string>; target: string; why: string };
  const decision = (agent: Agent) => agents.get(agent)!.status()["dns_failover:decision"] as { addresses: AddressStatus[]; names: Record<string, { dns: string[] }> };
  const addressOf = (agent: Agent, address: string) => decision(agent).addresses.find((a) => a.address === address)!;
  const metric = async (agent: Agent, pattern: RegExp) => Number(pattern.exec(await agents.get(agent)!.metrics.registry.metrics())?.[1] ?? 0);
  const dns = () => dnsServer.lookup(name);

  const why = missing(kind);
  describe(`three agents, ${kind === "bind" ? "BIND" : "Knot"}, loopback addresses`, { skip: why ?? false, timeout: 55_000 }, () => {
    before(
      async () => {
        dnsServer = await (kind === "bind" ? startBind : startKnot)(checked.map((a) => `vpn IN A ${a}`));
        checkPort = await freePort(checked[0]!);
        peerPort = await freePort(agentIp.a);
        metricsPort = await freePort(agentIp.a);
        for (const address of checked) await open(address);
        // The impostor answers every request with "everything is down", without a valid MAC.
        spoof = createHttpServer((req, res) => {
          spoofRequests++;
          const body = JSON.stringify({ agent: "d", verdicts: Object.fromEntries(checked.map((a) => [a, "down"])) });
          res.writeHead(200, { "Content-Type": "application/json", ...(spoofRequests % 2 ? { "x-vpnham-auth": `mac=${"ab".repeat(32)}` } : {}) });
          res.end(body);
        });
        await new Promise<void>((resolve) => spoof.listen(peerPort, spoofIp, resolve));
        for (const agent of ["a", "b", "c"] as const) await startAgent(agent);
        await waitFor(() => (["a", "b", "c"] as const).every((agent) => checked.every((address) => addressOf(agent, address).local === "up")), { ...guard, what: "every agent to judge every address up" });
      },
      { timeout: 30_000 },
    );
    after(async () => {
      for (const agent of [...agents.keys()]) await stopAgent(agent);
      for (const address of [...listeners.keys()]) await close(address);
      await new Promise((resolve) => spoof?.close(resolve));
      await dnsServer?.stop();
    });

    test("the agents see each other's verdicts as fresh votes", async () => {
      await waitFor(() => addressOf("a", checked[0]!).votes.b === "up" && addressOf("a", checked[0]!).votes.c === "up", { ...guard, what: "a to hold up votes of b and c" });
      assert.equal(addressOf("a", checked[0]!).votes.d, "none", "the impostor's vote is not there");
      assert.deepEqual(dns(), checked);
      // Without the secret nobody reads an agent's verdicts either.
      const answer = await fetch(`http://${agentIp.a}:${peerPort}/dns/verdicts`);
      assert.equal(answer.status, 401);
      await answer.text();
      assert.ok((await metric("a", /vpnham_dns_verdict_requests_total\{outcome="refused"\} (\d+)/)) >= 1);
    });

    test("one agent alone (the others stopped) cannot remove a dead address; spoofed votes are refused and counted", async () => {
      await stopAgent("b");
      await stopAgent("c");
      await close(checked[2]!);
      await waitFor(() => addressOf("a", checked[2]!).local === "down", { ...guard, what: "a to judge .3 down" });
      const refusedBefore = await metric("a", /vpnham_dns_peer_polls_total\{peer="d",outcome="refused"\} (\d+)/);
      await waitFor(async () => (await metric("a", /vpnham_dns_peer_polls_total\{peer="d",outcome="refused"\} (\d+)/)) >= refusedBefore + 4, { ...guard, what: "more refused polls of d" });
      await waitFor(() => /^down here, but only 0 fresh peer votes agree/.test(addressOf("a", checked[2]!).why), { ...guard, what: "b's and c's votes to age out" });
      assert.equal(addressOf("a", checked[2]!).target, "hold");
      assert.deepEqual(dns(), checked, "nothing removed");
      assert.ok((await metric("a", /vpnham_dns_peer_polls_total\{peer="b",outcome="unreachable"\} (\d+)/)) > 0);
    });

    test("with a peer's agreement the dead address is removed", async () => {
      await startAgent("b");
      await waitFor(() => !dns().includes(checked[2]!), { ...guard, what: ".3 to leave DNS" });
      assert.deepEqual(dns(), checked.slice(0, 2));
      // Whichever of a and b had the other's vote first removed it; both come to want it out.
      await waitFor(() => addressOf("a", checked[2]!).target === "absent", { ...guard, what: "a to want .3 out too" });
      assert.equal(addressOf("a", checked[2]!).votes.b, "down");
    });

    test("the address returns: put back", async () => {
      await open(checked[2]!);
      await waitFor(() => dns().length === 3, { ...guard, what: ".3 back in DNS" });
      assert.deepEqual(dns(), checked);
    });

    test("the last address of the name stays when every address dies (fail open)", async () => {
      await startAgent("c");
      await close(checked[0]!);
      await close(checked[1]!);
      await waitFor(() => dns().length === 1, { ...guard, what: ".1 and .2 to leave DNS" });
      assert.deepEqual(dns(), [checked[2]]);
      await close(checked[2]!);
      await waitFor(async () => (await metric("a", /vpnham_dns_last_address_kept_total\{name="vpn.example.test"\} (\d+)/)) >= 1, { ...guard, what: "a to keep the last address" });
      assert.deepEqual(dns(), [checked[2]]);
      for (const address of checked) await open(address);
      await waitFor(() => dns().length === 3, { ...guard, what: "all back in DNS" });
      // .3 never left DNS (it was the last address), so DNS is whole again before a's check of .3
      // has seen threshold_up replies: wait for the verdicts too, or the next test starts racing it.
      await waitFor(() => checked.every((address) => addressOf("a", address).local === "up"), { ...guard, what: "a to judge all three up again" });
    });

    test("reload adding a name: the name is applied, the checks keep their verdicts", async () => {
      const a = agents.get("a")!;
      assert.deepEqual(checked.map((address) => addressOf("a", address).local), ["up", "up", "up"], "all up before the reload");
      const result = await a.reload(parseConfig(yaml("a", { [`www.${ZONE}`]: [checked[0]!] })).config);
      assert.ok(result.started.includes(`dns_failover:name:www.${ZONE}`), JSON.stringify(result));
      for (const address of checked) assert.ok(result.kept.includes(`dns_failover:check:${address}`), `check ${address} kept: ${JSON.stringify(result)}`);
      assert.deepEqual(checked.map((address) => addressOf("a", address).local), ["up", "up", "up"], "no verdict was lost");
      await waitFor(() => dnsServer.lookup(`www.${ZONE}`).length === 1, { ...guard, what: "www to be added" });
      assert.deepEqual(dnsServer.lookup(`www.${ZONE}`), [checked[0]]);
      assert.ok(spoofRequests > 0);
    });
  });
}
