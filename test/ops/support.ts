// Shared by the operator-kit tests: external tools, the built binary, and a
// loopback pair of real daemons (addresses 127.77.x.y only).
import { spawn, type ChildProcess } from "node:child_process";
import { createSocket } from "node:dgram";
import { accessSync, closeSync, constants, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { waitFor } from "../../src/util/wait.ts";

export { waitFor };

export const repoRoot = fileURLToPath(new URL("../..", (import.meta as unknown as { url: string }).url));
export const binaryPath = join(repoRoot, "dist", "vpnham");
export const examplesDir = join(repoRoot, "examples");
export const inCi = process.env.CI === "true" || process.env.CI === "1";

/** Absolute path of an executable on PATH (and the sbin directories), or undefined. */
export function findTool(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/local/sbin", "/usr/sbin", "/sbin"];
  for (const dir of dirs) {
    if (!dir) continue;
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * `skip` option for a test that needs something: false when present. Locally a missing
 * tool is a skip with a message; with CI=true it is not skipped, so the test fails.
 */
export function skipUnless(present: boolean, what: string): string | false {
  if (present || inCi) return false;
  return `${what}; skipped locally (with CI=true this fails)`;
}

export const binarySkip = skipUnless(existsSync(binaryPath), "dist/vpnham not built (./node_modules/.bin/bun build.ts)");

export interface RunResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (SIGKILL after timeoutMs); never rejects on a non-zero exit. */
export function run(
  argv: readonly string[],
  options: { env?: Record<string, string | undefined>; input?: string; cwd?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: options.cwd ?? repoRoot,
      env: options.env ?? process.env,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin!.on("error", () => {}); // a tool that exits without reading its input
    child.stdin!.end(options.input ?? "");
  });
}

/** GET a URL as text; throws on a network error or timeout. */
export async function fetchText(url: string, timeoutMs = 2_000): Promise<{ status: number; text: string }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  return { status: response.status, text: await response.text() };
}

/**
 * True while the process exists and has not exited. A zombie counts as exited: a detached
 * daemon is reaped by PID 1, which in some containers takes a while.
 */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(") ") + 2, stat.lastIndexOf(") ") + 3) !== "Z";
  } catch {
    return false; // gone meanwhile
  }
}

/** argv[0] of a running process, from /proc. */
export function argv0Of(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0];
  } catch {
    return undefined;
  }
}

export interface HostAddrs {
  /** e.g. "127.77.2.1": status, metrics and tunnel sockets bind here. */
  ip: string;
  peerIp: string;
  role: "active" | "standby";
}

/**
 * A config for one host of a loopback pair: both hosts share bridge `ops-pair`, poll
 * each other, and probe each other's two tunnels. Hooks append to `hookLog`.
 */
export function pairConfig(host: HostAddrs, hookLog: string): string {
  const { ip, peerIp, role } = host;
  const hook = (event: string, extra = "") =>
    `[["sh", "-c", "echo ${event} \${bridge_interface} \${bridge_peer_cidr}${extra} >> ${hookLog}"]]`;
  return `bridges:
  ops-pair:
    role: ${role}
    bridge_interface: lo
    peer_cidr: 10.99.0.0/16
    status_addr: ${ip}:18080
    partner_url: http://${peerIp}:18080/
    probe_interval: 200ms
    partner_status_timeout: 150ms
    probe_location: ops/${role}
    tunnel_interfaces:
      tun1: { role: active, addr: "${ip}:13003", probe_addr: "${peerIp}:13003", threshold_down: 3, threshold_up: 2 }
      tun2: { role: standby, addr: "${ip}:13004", probe_addr: "${peerIp}:13004", threshold_down: 3, threshold_up: 2 }
    scripts_timeout: 5s
metrics:
  listen_addr: ${ip}:18000
default_scripts:
  bridge_activate: ${hook("bridge_activate")}
  bridge_deactivate: ${hook("bridge_deactivate")}
  interface_activate: ${hook("interface_activate", " ${tunnel_interface}")}
  interface_deactivate: ${hook("interface_deactivate", " ${tunnel_interface}")}
`;
}

export interface ExitStatus {
  code: number | null;
  signal: string | null;
}

export interface RunningHost extends HostAddrs {
  child: ChildProcess;
  /** Settles when the process has exited (its code and signal, as the 'exit' event gave them). */
  exited: Promise<ExitStatus>;
  /** Set once it has exited. */
  exit?: ExitStatus;
  configPath: string;
  logPath: string;
  metricsUrl: string;
  statusUrl: string;
}

export interface Pair {
  hosts: RunningHost[];
  stop(): Promise<void>;
}

/**
 * Starts two daemons on `${net}.1` (active) and `${net}.2` (standby), with `command` as
 * the binary (e.g. ["qemu-aarch64", "-L", sysroot, arm64Binary]); resolves once both
 * answer /status, every tunnel is up and each sees its partner up.
 */
export async function startPair(dir: string, net: string, command: readonly string[] = [binaryPath], readyTimeoutMs = 15_000): Promise<Pair> {
  mkdirSync(dir, { recursive: true });
  const hookLog = join(dir, "hooks.log");
  const hosts: RunningHost[] = [];
  const pair: Pair = { hosts, stop: () => stopAll(hosts) };
  try {
    for (const [n, role] of [[1, "active"], [2, "standby"]] as const) {
      const addrs: HostAddrs = { ip: `${net}.${n}`, peerIp: `${net}.${3 - n}`, role };
      const configPath = join(dir, `${role}.yaml`);
      const logPath = join(dir, `${role}.log`);
      writeFileSync(configPath, pairConfig(addrs, hookLog));
      const fd = openSync(logPath, "a");
      const child = spawn(command[0]!, [...command.slice(1), "serve", "--config", configPath, "--log-format", "json"], {
        cwd: dir,
        stdio: ["ignore", fd, fd],
      });
      closeSync(fd);
      child.on("error", () => {}); // surfaces as a readiness timeout with the log attached
      let onExit: (status: ExitStatus) => void = () => {};
      const exited = new Promise<ExitStatus>((resolve) => (onExit = resolve));
      const host: RunningHost = { ...addrs, child, exited, configPath, logPath, metricsUrl: `http://${addrs.ip}:18000/metrics`, statusUrl: `http://${addrs.ip}:18080/status` };
      child.once("exit", (code, signal) => {
        host.exit = { code, signal };
        onExit(host.exit);
      });
      hosts.push(host);
    }
    await waitFor(async () => (await Promise.all(hosts.map(isSettled))).every(Boolean), {
      timeoutMs: readyTimeoutMs,
      intervalMs: 50,
      what: "both daemons up, tunnels up, partners up",
    });
    return pair;
  } catch (error) {
    const logs = hosts.map((h) => `--- ${h.logPath}\n${safeRead(h.logPath)}`).join("\n");
    await pair.stop();
    throw new Error(`${(error as Error).message}\n${logs}`);
  }
}

/**
 * Scrapes of both hosts once every series family has samples: a settled pair has run
 * hooks and returned probes; a junk datagram to each tunnel socket adds the malformed
 * counter, which has no series until something is dropped.
 */
export async function richScrapes(pair: Pair): Promise<string[]> {
  const socket = createSocket("udp4");
  try {
    const texts: string[] = [];
    for (const host of pair.hosts) {
      let text = "";
      await waitFor(
        async () => {
          await new Promise<void>((resolve) => socket.send(Buffer.from("junk"), 13003, host.ip, () => resolve()));
          const r = await fetchText(host.metricsUrl);
          text = r.text;
          return r.status === 200 && text.includes("vpnham_datagrams_malformed_total{");
        },
        { timeoutMs: 5_000, intervalMs: 100, what: `a malformed-datagram series on ${host.ip}` },
      );
      texts.push(text);
    }
    return texts;
  } finally {
    socket.close();
  }
}

async function isSettled(host: RunningHost): Promise<boolean> {
  try {
    const { status, text } = await fetchText(host.statusUrl, 500);
    if (status !== 200) return false;
    const body = JSON.parse(text) as { up: boolean; partner_up?: boolean; interfaces: Record<string, { up: boolean }> };
    return body.partner_up === true && Object.values(body.interfaces).every((t) => t.up);
  } catch {
    return false;
  }
}

/**
 * SIGTERM, then SIGKILL after 10 s; resolves when every child has exited. process.kill,
 * not child.kill: after child.kill Deno reports (null, signal) even when the child exits 0.
 */
async function stopAll(hosts: readonly RunningHost[]): Promise<void> {
  const signal = (pid: number | undefined, name: NodeJS.Signals) => {
    try {
      if (pid !== undefined) process.kill(pid, name);
    } catch {
      // already gone
    }
  };
  await Promise.all(
    hosts.map(async ({ child, exited, exit }) => {
      if (exit) return;
      signal(child.pid, "SIGTERM");
      const timer = setTimeout(() => signal(child.pid, "SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }),
  );
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, "utf8").slice(-4_000);
  } catch {
    return "(no log)";
  }
}
