/**
 * DNS failover figures (docs/performance.md §DNS failover), against a real BIND on loopback:
 * - address death → its record gone from BIND, checks at 1 s × 3 (tcp), one agent acting alone;
 * - the same with three agents and min_peers_agree 1 (what agreement adds), polls every 1 s;
 * - CPU and memory of one agent checking 100 addresses (tcp, every 1 s).
 *
 *   bun bench/dns-failover.ts [--runs 3] [--cpu-seconds 20]
 */
import { createServer, type Server } from "node:net";
import { parseArgs } from "node:util";
import { parseConfig } from "../src/config/index.ts";
import { startDaemon, type Daemon } from "../src/daemon/daemon.ts";
import { configureLogger } from "../src/util/log.ts";
import { freePort, KEY_NAME, startBind, TSIG_SECRET, ZONE } from "../test/dns/servers.ts";

const { values } = parseArgs({ options: { runs: { type: "string", default: "3" }, "cpu-seconds": { type: "string", default: "20" } } });
const runs = Number(values.runs);
const cpuSeconds = Number(values["cpu-seconds"]);
configureLogger({ level: "error" });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function listen(address: string, port: number): Promise<Server> {
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, address, () => resolve());
  });
  return server;
}

const agentIp = ["127.66.50.1", "127.66.50.2", "127.66.50.3"];
const targets = ["127.66.51.1", "127.66.51.2"];

function yaml(agent: number, agents: number, bindPort: number, checkPort: number, peerPort: number, metricsPort: number, addresses = targets): string {
  const peers = agentIp.slice(0, agents).flatMap((ip, i) => (i === agent ? [] : [`    p${i}: http://${ip}:${peerPort}/`]));
  return `
metrics: { listen_addr: "${agentIp[agent]}:${metricsPort}" }
dns_failover:
  dry_run: false
  agent: p${agent}
  check: { kind: tcp, port: ${checkPort}, interval: 1s, timeout: 500ms, threshold_down: 3, threshold_up: 2 }
  addresses:
${addresses.map((a) => `    ${a}: { names: [vpn.${ZONE}] }`).join("\n")}
  providers:
    bind: { kind: rfc2136, server: "127.0.0.1:${bindPort}", zone: ${ZONE}, tsig_key: ${KEY_NAME}, tsig_secret: "${TSIG_SECRET}" }
${agents > 1 ? `  peers:\n${peers.join("\n")}\n  listen: "${agentIp[agent]}:${peerPort}"\n  secret: bench-shared-secret-0123456789\n  min_peers_agree: 1\n  poll_interval: 1s` : ""}
  max_changes_per_interval: 0
`;
}

/** Seconds from closing the listener of targets[1] to its record gone from BIND, per run. */
async function deathToGone(agents: number): Promise<number[]> {
  const results: number[] = [];
  for (let run = 0; run < runs; run++) {
    const bind = await startBind(targets.map((a) => `vpn IN A ${a}`));
    const checkPort = await freePort(targets[0]!);
    const peerPort = await freePort(agentIp[0]!);
    const metricsPort = await freePort(agentIp[0]!);
    const listeners = await Promise.all(targets.map((a) => listen(a, checkPort)));
    const daemons: Daemon[] = [];
    for (let i = 0; i < agents; i++) daemons.push(await startDaemon(parseConfig(yaml(i, agents, bind.port, checkPort, peerPort, metricsPort)).config));
    await sleep(3500); // every address judged up
    // Die at a random phase of the probe interval, as a real failure does.
    await sleep(Math.random() * 1000);
    const started = performance.now();
    await new Promise((resolve) => listeners[1]!.close(resolve));
    while (bind.lookup(`vpn.${ZONE}`).includes(targets[1]!)) await sleep(20);
    results.push((performance.now() - started) / 1000);
    for (const daemon of daemons) await daemon.stop();
    await new Promise((resolve) => listeners[0]!.close(resolve));
    await bind.stop();
  }
  return results;
}

async function cpuOf100(): Promise<{ cpuPercent: number; rssMiB: number }> {
  const addresses = Array.from({ length: 100 }, (_, i) => `127.66.52.${i + 1}`);
  const bind = await startBind([]);
  const checkPort = await freePort(addresses[0]!);
  const metricsPort = await freePort(agentIp[0]!);
  const listeners = await Promise.all(addresses.map((a) => listen(a, checkPort)));
  const daemon = await startDaemon(parseConfig(yaml(0, 1, bind.port, checkPort, 0, metricsPort, addresses)).config);
  await sleep(3000);
  const cpu = process.cpuUsage();
  const started = performance.now();
  await sleep(cpuSeconds * 1000);
  const used = process.cpuUsage(cpu);
  const wallMs = performance.now() - started;
  const rssMiB = process.memoryUsage().rss / 2 ** 20;
  await daemon.stop();
  await Promise.all(listeners.map((l) => new Promise((resolve) => l.close(resolve))));
  await bind.stop();
  return { cpuPercent: ((used.user + used.system) / 1000 / wallMs) * 100, rssMiB };
}

const fmt = (list: number[]) => `${list.map((s) => s.toFixed(2)).join(", ")} s (mean ${(list.reduce((a, b) => a + b, 0) / list.length).toFixed(2)} s)`;
const runtime = "Deno" in globalThis ? "deno" : "bun";
console.log(`runtime ${runtime}, ${runs} runs each`);
console.log(`death → gone from BIND, one agent, 1 s × 3: ${fmt(await deathToGone(1))}`);
console.log(`death → gone from BIND, three agents, min_peers_agree 1, polls 1 s: ${fmt(await deathToGone(3))}`);
const cpu = await cpuOf100();
console.log(`100 addresses, tcp every 1 s, one agent: ${cpu.cpuPercent.toFixed(1)} % of one core over ${cpuSeconds} s, RSS ${cpu.rssMiB.toFixed(0)} MiB (process, BIND excluded)`);
process.exit(0);
