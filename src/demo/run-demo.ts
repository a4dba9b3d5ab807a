import { parseConfig } from "../config/index.ts";
import { startDaemon, type Daemon } from "../daemon/daemon.ts";
import type { HookRunReport } from "../hooks/types.ts";
import { waitFor } from "../util/wait.ts";
import { hostConfigYaml, hostNames, hosts, linkEnd, links, type DemoTiming, type HostName } from "./topology.ts";
import { startUdpLink, type UdpLink } from "./udp-link.ts";

/**
 * The loopback demo: the user's 2×2 picture in one process, a scripted
 * story (converge, cut the active tunnel, restore, kill the active host,
 * restart it) and then, unless `once`, it keeps monitoring until signalled.
 */
export interface DemoOptions {
  once: boolean;
  timing: DemoTiming;
  print: (line: string) => void;
  /** Each step's deadline. */
  stepTimeoutMs: number;
}

export interface DemoWorld {
  readonly options: WorldOptions;
  daemons: Map<HostName, Daemon>;
  links: Map<string, UdpLink>;
  hookLog: string[];
  stop(): Promise<void>;
}

export interface WorldOptions {
  timing: DemoTiming;
  print: (line: string) => void;
  /** The shell line each hook runs; `event` already holds the hook's placeholders. Default: echo. */
  hookLine?: (host: HostName, event: string) => string;
}

export async function startDemoWorld(options: WorldOptions): Promise<DemoWorld> {
  const world: DemoWorld = {
    options,
    daemons: new Map(),
    links: new Map(),
    hookLog: [],
    async stop() {
      await Promise.all([...world.daemons.values()].map((d) => d.stop()));
      world.daemons.clear();
      await Promise.all([...world.links.values()].map((l) => l.close()));
      world.links.clear();
    },
  };
  try {
    for (const [name, [a, b]] of Object.entries(links)) {
      world.links.set(name, await startUdpLink(linkEnd(a, b), linkEnd(b, a)));
    }
    for (const host of hostNames) await startHost(world, host);
  } catch (error) {
    await world.stop();
    throw error;
  }
  return world;
}

export async function startHost(world: DemoWorld, host: HostName): Promise<void> {
  const { options } = world;
  const hookLine = options.hookLine ?? ((h: HostName, event: string) => `echo "${h}: ${event}"`);
  const yaml = hostConfigYaml(host, options.timing, (event) => hookLine(host, event));
  const { config } = parseConfig(yaml, `demo:${host}`);
  const daemon = await startDaemon(config, {
    onHookReport: (_bridge: string, report: HookRunReport) => {
      for (const r of report.results) {
        const line = `  hook ${r.stdout.trim() || report.event.hook} (exit ${r.exitCode ?? r.signal ?? r.error})`;
        world.hookLog.push(line);
        options.print(line);
      }
    },
  });
  world.daemons.set(host, daemon);
}

/** The roles one host holds right now, e.g. `active eth1`. */
export function describeHost(world: DemoWorld, host: HostName): string {
  const bridge = world.daemons.get(host)?.bridges().get(hosts[host].bridge);
  if (!bridge) return "stopped";
  const s = bridge.state;
  const up = s.tunnels.filter((t) => t.up).map((t) => t.name);
  return `${s.bridgeActive ? "ACTIVE " : "standby"} tunnel ${s.activeTunnel ?? "-"} (up: ${up.join(",") || "none"})`;
}

function roles(world: DemoWorld, host: HostName) {
  return world.daemons.get(host)?.bridges().get(hosts[host].bridge)?.state;
}

export async function runDemoStory(world: DemoWorld, options: DemoOptions): Promise<void> {
  const { print } = options;
  const table = () => {
    for (const host of hostNames) print(`    ${host.padEnd(14)} ${describeHost(world, host)}`);
  };
  // A step is done when the roles are right *and* every host's hooks have run: the routes
  // moved. Roles alone run ahead of slow hooks on a busy host, and the next step (killing a
  // host) would then cut off the hooks still queued for this one.
  const hooksIdle = () =>
    Promise.all([...world.daemons.values()].flatMap((d) => [...d.bridges().values()].map((b) => b.hooksIdle())));
  const step = async (title: string, expect: () => boolean, what: string) => {
    const started = performance.now();
    await waitFor(async () => expect() && (await hooksIdle(), expect()), { timeoutMs: options.stepTimeoutMs, what });
    print(`  ✓ ${title} (${Math.round(performance.now() - started)} ms)`);
    table();
  };
  const is = (host: HostName, active: boolean, tunnel: string | null) => () => {
    const s = roles(world, host);
    return s !== undefined && s.bridgeActive === active && s.activeTunnel === tunnel;
  };
  const all = (...checks: (() => boolean)[]) => () => checks.every((c) => c());

  print(`vpnham demo: four hosts on loopback, probe_interval ${options.timing.probeInterval}, threshold_down ${options.timing.thresholdDown}`);
  await step(
    "1. converged: the configured actives hold the bridges, wg00 carries the traffic",
    all(is("left-active", true, "wg00"), is("right-active", true, "wg00"), is("left-standby", false, "wg11"), is("right-standby", false, "wg01")),
    "convergence",
  );
  print("  → cutting wg00, the active↔active tunnel");
  world.links.get("wg00")!.cut();
  await step(
    "2. both actives failed over to their backup tunnels",
    all(is("left-active", true, "wg01"), is("right-active", true, "wg10")),
    "tunnel failover",
  );
  print("  → restoring wg00");
  world.links.get("wg00")!.restore();
  await step("3. wg00 reclaimed its role", all(is("left-active", true, "wg00"), is("right-active", true, "wg00")), "tunnel reclaim");
  print("  → killing left-active (its daemon stops answering)");
  await world.daemons.get("left-active")!.stop();
  world.daemons.delete("left-active");
  await step(
    "4. left-standby took over; right-active moved to its tunnel towards left-standby",
    all(is("left-standby", true, "wg11"), is("right-active", true, "wg10"), is("right-standby", false, "wg11")),
    "host failover",
  );
  print("  → restarting left-active");
  await startHost(world, "left-active");
  await step(
    "5. left-active reclaimed the bridge, left-standby stepped down",
    all(is("left-active", true, "wg00"), is("left-standby", false, "wg11"), is("right-active", true, "wg00"), is("right-standby", false, "wg01")),
    "host reclaim",
  );
  print("");
  print("endpoints:");
  for (const host of hostNames) {
    const h = hosts[host];
    print(`    ${host.padEnd(14)} status http://${h.vpcIp}:8080/status   metrics http://${h.vpcIp}:8000/metrics`);
  }
}
