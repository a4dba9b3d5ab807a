/**
 * The running e2e world: the topology, one agent per namespace, and the vpnham
 * daemons (compiled binary, or Deno for one host) with their logs and hook
 * files. Everything it starts is stopped and removed by `close()`, which is
 * also run on process exit and on SIGINT/SIGTERM.
 */
import type { ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startAgent, type Agent } from "./agent-client.ts";
import { createTopology, HOST_FILES, HOST_IDS, run, VPC_IP, type HostId, type Topology } from "./netns.ts";
import { parseMetrics, type Sample } from "./metrics-text.ts";
import { spawnInNetns } from "../support/netns.ts";

export const REPO = resolve(fileURLToPath(new URL("../..", (import.meta as unknown as { url: string }).url)));
export const BINARY = join(REPO, "dist/vpnham");
const BIN = join(REPO, "node_modules/.bin");

export type Runtime = "binary" | "deno";

export interface StatusBody {
  name: string;
  role: string;
  active: boolean;
  up: boolean;
  interfaces: Record<string, { active: boolean; up: boolean }>;
  partner_up?: boolean;
  split_brain?: boolean;
}

export interface HookLine {
  /** Wall clock seconds when the hook's shell started writing. */
  t: number;
  event: string;
  args: string[];
}

interface Daemon {
  child: ChildProcess;
  exit: { code: number | null; signal: string | null } | null;
  startedAt: number;
}

/** Bun's own binary when we run under Bun, else the pinned one from node_modules. */
export function bunBinary(): string {
  return "Bun" in globalThis ? process.execPath : join(BIN, "bun");
}

export async function ensureBinary(): Promise<void> {
  if (existsSync(BINARY)) return;
  await run(join(BIN, "bun"), [join(REPO, "build.ts")], 300_000);
}

export class World {
  readonly runDir = mkdtempSync(join(tmpdir(), "vpnham-e2e-"));
  readonly configs: Record<HostId, string>;
  readonly runtimes: Record<HostId, Runtime>;
  /** Environment of the daemons started from now on, over the test's own; undefined removes a variable. */
  readonly env: Record<string, string | undefined> = {};
  private readonly daemons = new Map<HostId, Daemon>();
  private agents = {} as Record<HostId, Agent>;
  private closed = false;
  private readonly onExit = (): void => this.closeSync();
  private readonly onSignal = (): void => {
    this.closeSync();
    process.exit(130);
  };

  private constructor(
    readonly topo: Topology,
    runtimes: Partial<Record<HostId, Runtime>>,
  ) {
    this.runtimes = Object.fromEntries(HOST_IDS.map((h) => [h, runtimes[h] ?? "binary"])) as Record<HostId, Runtime>;
    this.configs = Object.fromEntries(HOST_IDS.map((h) => [h, join(REPO, "examples/topology", `${HOST_FILES[h]}.yaml`)])) as Record<HostId, string>;
    process.on("exit", this.onExit);
    process.on("SIGINT", this.onSignal);
    process.on("SIGTERM", this.onSignal);
  }

  static async create(options: { runtimes?: Partial<Record<HostId, Runtime>> } = {}): Promise<World> {
    const topo = await createTopology();
    const world = new World(topo, options.runtimes ?? {});
    try {
      const started = await Promise.all(
        HOST_IDS.map((h) => startAgent(["ip", "netns", "exec", topo.ns[h], bunBinary(), join(REPO, "test/e2e/agent.ts")], REPO)),
      );
      HOST_IDS.forEach((h, i) => (world.agents[h] = started[i]!));
    } catch (error) {
      world.closeSync();
      throw error;
    }
    return world;
  }

  agent(h: HostId): Agent {
    return this.agents[h];
  }

  hookFile(h: HostId): string {
    return join(this.runDir, `${h}.hooks.log`);
  }

  logFile(h: HostId): string {
    return join(this.runDir, `${h}.log`);
  }

  pid(h: HostId): number | undefined {
    return this.daemons.get(h)?.child.pid;
  }

  /** True while the daemon process runs (also when stopped by SIGSTOP). */
  running(h: HostId): boolean {
    const d = this.daemons.get(h);
    return d !== undefined && d.exit === null;
  }

  exitOf(h: HostId): Daemon["exit"] {
    return this.daemons.get(h)?.exit ?? null;
  }

  /** Starts the host's daemon in its namespace; returns at once (use waitReady). */
  start(h: HostId): void {
    if (this.running(h)) throw new Error(`${h} is already running`);
    const config = this.configs[h];
    const argv =
      this.runtimes[h] === "deno"
        ? [join(BIN, "deno"), "run", "-A", join(REPO, "src/main.ts"), "serve", "--config", config, "--log-format", "json"]
        : [BINARY, "serve", "--config", config, "--log-format", "json"];
    const fd = openSync(this.logFile(h), "a");
    // The child's pid is vpnham's own, so signals reach it directly.
    const env: Record<string, string | undefined> = { ...process.env, ...this.env, VPNHAM_HOOK_LOG: this.hookFile(h), NO_COLOR: "1" };
    for (const [name, value] of Object.entries(env)) if (value === undefined) delete env[name];
    const child = spawnInNetns(this.topo.ns[h], argv, { cwd: REPO, stdio: ["ignore", fd, fd], env });
    closeSync(fd);
    const daemon: Daemon = { child, exit: null, startedAt: Date.now() };
    child.on("exit", (code, signal) => (daemon.exit = { code, signal }));
    child.on("error", (error) => (daemon.exit = { code: -1, signal: error.message }));
    this.daemons.set(h, daemon);
  }

  signal(h: HostId, signal: NodeJS.Signals): void {
    const d = this.daemons.get(h);
    if (!d || d.exit || d.child.pid === undefined) throw new Error(`${h} is not running`);
    process.kill(d.child.pid, signal);
  }

  /** Resolves when the daemon has exited (or at the deadline, rejecting). */
  async waitExit(h: HostId, timeoutMs: number): Promise<Daemon["exit"]> {
    const d = this.daemons.get(h);
    if (!d) return null;
    if (d.exit) return d.exit;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${h} did not exit within ${timeoutMs} ms`)), timeoutMs);
      d.child.once("exit", () => {
        clearTimeout(timer);
        resolve();
      });
    });
    return d.exit;
  }

  /** SIGTERM, then SIGKILL if it does not stop in time. */
  async stop(h: HostId, timeoutMs = 10_000): Promise<Daemon["exit"]> {
    if (!this.running(h)) return this.exitOf(h);
    this.signal(h, "SIGCONT");
    this.signal(h, "SIGTERM");
    try {
      return await this.waitExit(h, timeoutMs);
    } catch {
      if (this.running(h)) this.signal(h, "SIGKILL");
      await this.waitExit(h, 5_000);
      throw new Error(`${h} ignored SIGTERM for ${timeoutMs} ms`);
    }
  }

  async status(h: HostId, timeoutMs = 1_500): Promise<StatusBody | null> {
    const answer = await this.agents[h].http(VPC_IP[h], 8080, "/status", { timeoutMs });
    if (!answer.ok || answer.status !== 200 || answer.body === undefined) return null;
    try {
      return JSON.parse(answer.body) as StatusBody;
    } catch {
      return null;
    }
  }

  async metrics(h: HostId, timeoutMs = 2_000): Promise<Sample[] | null> {
    const answer = await this.agents[h].http(VPC_IP[h], 8000, "/metrics", { timeoutMs });
    if (!answer.ok || answer.status !== 200 || answer.body === undefined) return null;
    return parseMetrics(answer.body);
  }

  hooks(h: HostId): HookLine[] {
    if (!existsSync(this.hookFile(h))) return [];
    return readFileSync(this.hookFile(h), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => {
        const [t, event, ...args] = line.trim().split(/\s+/);
        return { t: Number(t), event: event ?? "", args };
      });
  }

  /** JSON log records of a host (non-JSON lines are kept as {msg: line}). */
  logs(h: HostId): Record<string, unknown>[] {
    if (!existsSync(this.logFile(h))) return [];
    return readFileSync(this.logFile(h), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => {
        try {
          return JSON.parse(line) as Record<string, unknown>;
        } catch {
          return { msg: line };
        }
      });
  }

  logTail(h: HostId, lines = 30): string {
    if (!existsSync(this.logFile(h))) return "(no log)";
    return readFileSync(this.logFile(h), "utf8").split("\n").slice(-lines - 1).join("\n");
  }

  /** Stop everything and remove the namespaces. Keeps runDir when `keepFiles`. */
  async close(keepFiles = false): Promise<void> {
    await Promise.all(
      HOST_IDS.filter((h) => this.running(h)).map(async (h) => {
        this.signal(h, "SIGKILL");
        await this.waitExit(h, 5_000).catch(() => {});
      }),
    );
    this.closeSync(keepFiles);
  }

  closeSync(keepFiles = true): void {
    if (this.closed) return;
    this.closed = true;
    for (const d of this.daemons.values()) {
      if (d.exit === null && d.child.pid !== undefined) {
        try {
          process.kill(d.child.pid, "SIGKILL");
        } catch {
          /* gone */
        }
      }
    }
    for (const a of Object.values(this.agents)) a.close();
    this.topo.teardown();
    if (!keepFiles) rmSync(this.runDir, { recursive: true, force: true });
    process.off("exit", this.onExit);
    process.off("SIGINT", this.onSignal);
    process.off("SIGTERM", this.onSignal);
  }
}
