/**
 * Network namespaces for the tests that run real programs (docs/announce.md,
 * docs/collectors.md §Testing with real daemons, docs/operations.md §The reference topology). One place creates
 * namespaces, veth links and their addresses and removes them again (`createNetns`,
 * `destroyNetnsSync`, `removeNetnsLeftovers`); one runs a daemon in a namespace and stops it
 * (`execInNetns` / `spawnInNetns`, `stopPidFile` / `stopChild`).
 */
import { execFile, execFileSync, spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";

function exec(argv: readonly string[], env: Record<string, string>, timeoutMs: number): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const options = { timeout: timeoutMs, env: { ...process.env, ...env }, encoding: "utf8" as const, maxBuffer: 16 * 1024 * 1024 };
    execFile(argv[0]!, argv.slice(1), options, (error, stdout, stderr) => {
      if (error) reject(new Error(`${argv.join(" ")}: ${(stderr || stdout || error.message).trim().slice(-800)}`));
      else resolve({ stdout, stderr });
    });
  });
}

/** Runs a command; resolves with its stdout, rejects with its stderr on a non-zero exit or after timeoutMs. */
export async function run(cmd: string, args: readonly string[], timeoutMs = 10_000): Promise<string> {
  return (await exec([cmd, ...args], {}, timeoutMs)).stdout;
}

/** Runs a command; resolves with stdout+stderr, rejects on a non-zero exit or after timeoutMs. */
export async function sh(argv: readonly string[], env: Record<string, string> = {}, timeoutMs = 15_000): Promise<string> {
  const { stdout, stderr } = await exec(argv, env, timeoutMs);
  return stdout + stderr;
}

export function hasCommand(cmd: string, args: readonly string[] = ["--version"]): boolean {
  try {
    execFileSync(cmd, [...args], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Why namespaces cannot be used here, or undefined when they can. */
export function netnsUnavailable(): string | undefined {
  if (typeof process.getuid === "function" && process.getuid() !== 0) return "not root (network namespaces need root)";
  if (!hasCommand("ip", ["-V"])) return "`ip` (iproute2) is not installed";
  return undefined;
}

/** Why namespaces with these programs cannot be used here, or undefined: root and iproute2 first, then each need in order. */
export function netnsMissing(...needs: readonly (readonly [present: boolean, why: string])[]): string | undefined {
  return netnsUnavailable() ?? needs.find(([present]) => !present)?.[1];
}

/** True while `pid` runs; a zombie counts as gone (PID 1 here reaps slowly). */
export function processAlive(pid: number): boolean {
  if (!existsSync(`/proc/${pid}`)) return false;
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/** Kill whatever still runs inside a namespace (by pid) and delete it. Synchronous: usable in 'exit'. */
export function destroyNetnsSync(ns: string): void {
  try {
    const pids = execFileSync("ip", ["netns", "pids", ns], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    for (const pid of pids.split(/\s+/).filter(Boolean).map(Number)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* gone */
      }
    }
  } catch {
    /* namespace already gone */
  }
  try {
    execFileSync("ip", ["netns", "del", ns], { stdio: "ignore" });
  } catch {
    /* already gone */
  }
}

/**
 * Removes the namespaces matching `pattern` (its first group: the pid of the run that made them)
 * whose run is gone, or is us: then they can only be leftovers. Returns their names.
 */
export function removeNetnsLeftovers(pattern: RegExp): string[] {
  let list = "";
  try {
    list = execFileSync("ip", ["netns", "list"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const ns of list.split("\n").map((l) => l.split(" ")[0]!.trim())) {
    const m = pattern.exec(ns);
    if (!m) continue;
    const owner = Number(m[1]);
    if (owner !== process.pid && processAlive(owner)) continue;
    destroyNetnsSync(ns);
    removed.push(ns);
  }
  return removed;
}

/** One end of a veth link: its namespace, device name and addresses (CIDR; IPv6 ones without DAD). */
export interface VethEnd {
  ns: string;
  dev: string;
  addrs: readonly string[];
}

/**
 * Creates the namespaces (lo up) and a veth pair per link, both ends made inside their namespaces
 * (no name ever exists in the root namespace), addressed and up. With `carrierTimeoutMs`, also
 * waits until every end has carrier (about a second: daemons started before it would see no
 * running interface; those that retry, like BGP, need not wait). On failure removes what it made
 * and rethrows. Returns the teardown: every daemon left in them killed, the namespaces deleted.
 * Synchronous, so usable in 'exit'.
 */
export async function createNetns(
  namespaces: readonly string[],
  links: readonly { a: VethEnd; b: VethEnd }[],
  { carrierTimeoutMs }: { carrierTimeoutMs?: number } = {},
): Promise<() => void> {
  const created: string[] = [];
  const teardown = (): void => {
    for (const name of created.splice(0)) destroyNetnsSync(name);
  };
  try {
    for (const ns of namespaces) {
      await run("ip", ["netns", "add", ns]);
      created.push(ns);
      await run("ip", ["-n", ns, "link", "set", "lo", "up"]);
    }
    for (const { a, b } of links) {
      await run("ip", ["link", "add", a.dev, "netns", a.ns, "type", "veth", "peer", "name", b.dev, "netns", b.ns]);
      for (const end of [a, b]) {
        for (const cidr of end.addrs) await run("ip", ["-n", end.ns, "addr", "add", cidr, "dev", end.dev, ...(cidr.includes(":") ? ["nodad"] : [])]);
        await run("ip", ["-n", end.ns, "link", "set", end.dev, "up"]);
      }
    }
    const deadline = Date.now() + (carrierTimeoutMs ?? 0);
    for (const ns of carrierTimeoutMs === undefined ? [] : namespaces) {
      const devs = links.flatMap(({ a, b }) => [a, b]).filter((end) => end.ns === ns).map((end) => end.dev);
      while (!allUp(await run("ip", ["-n", ns, "-br", "link", "show"]), devs)) {
        if (Date.now() > deadline) throw new Error(`links of ${ns} did not come up`);
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  } catch (error) {
    teardown();
    throw error;
  }
  return teardown;
}

/** `ip -br link` output: every one of `devs` has carrier (state UP). */
function allUp(brief: string, devs: readonly string[]): boolean {
  const states = new Map(brief.split("\n").map((l) => l.trim().split(/\s+/)).map(([name, state]) => [(name ?? "").split("@")[0], state]));
  return devs.every((dev) => states.get(dev) === "UP");
}

/** Runs a program inside a namespace until it returns: for daemons that fork themselves (BIRD, FRR's `-d`). */
export function execInNetns(ns: string, argv: readonly string[], env: Record<string, string> = {}, timeoutMs = 15_000): Promise<string> {
  return sh(["ip", "netns", "exec", ns, ...argv], env, timeoutMs);
}

/** Starts a program inside a namespace without waiting: `ip netns exec` execs it, so the child's pid is the program's own. */
export function spawnInNetns(ns: string, argv: readonly string[], options: SpawnOptions = {}): ChildProcess {
  const child = spawn("ip", ["netns", "exec", ns, ...argv], options);
  child.on("error", () => {}); // seen as its exit
  return child;
}

/** Signals the process a pid file names and waits (up to timeoutMs) until it is gone; no file, no process: done. */
export async function stopPidFile(pidFile: string, signal: NodeJS.Signals = "SIGKILL", timeoutMs = 2000): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, "utf8").trim());
  if (!pid) return;
  try {
    process.kill(pid, signal);
  } catch {
    return;
  }
  const until = Date.now() + timeoutMs;
  while (processAlive(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
}

/** Signals a spawned child (SIGKILL after graceMs) and waits for its exit. */
export async function stopChild(child: ChildProcess | undefined, signal: NodeJS.Signals = "SIGTERM", graceMs = 3000): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}
