/**
 * Shared by the robustness tests: configs for live bridges on 127.88.x.y,
 * metric readers (in-process registry and scraped text), a snooping UDP relay,
 * a stateless echo responder, child daemons under the current runtime, and a
 * seeded PRNG for the property tests. Loopback only.
 */
import { spawn, type ChildProcess } from "node:child_process";
import dgram from "node:dgram";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseConfig, type Config } from "../../src/config/index.ts";
import { GO_UNIX_TO_INTERNAL_SEC, GO_ZERO_TIME, nowUnixNs } from "../../src/probe/gotime.ts";
import { startTransponder, type HostPort } from "../../src/probe/transponder.ts";
import { decodeProbe, encodeProbe, PROBE_SIZE, type Probe } from "../../src/probe/wire.ts";
import { configureLogger } from "../../src/util/log.ts";
import { waitFor } from "../../src/util/wait.ts";

export { waitFor };

export const repoRoot = resolve(dirname(fileURLToPath((import.meta as unknown as { url: string }).url)), "..", "..");

export function hp(host: string, port: number): HostPort {
  return { host, port, family: 4, text: `${host}:${port}` };
}

// ---------------------------------------------------------------- configs

export interface TunnelSpec {
  name: string;
  role: "active" | "standby";
  addr: string;
  probeAddr: string;
  thresholdDown?: number;
  thresholdUp?: number;
}

export interface BridgeSpec {
  name?: string;
  role: "active" | "standby";
  statusAddr: string;
  partnerUrl: string;
  probeInterval?: string;
  partnerTimeout?: string;
  partnerDown?: number;
  partnerUp?: number;
  peerCidr?: string;
  extraPeerCidrs?: string[];
  tunnels: TunnelSpec[];
  scriptsTimeout?: string;
  /** hook name → argv lists */
  hooks?: Partial<Record<"bridge_activate" | "bridge_deactivate" | "interface_activate" | "interface_deactivate", string[][]>>;
}

/** A Go-shaped config (README shape) for one bridge; `metricsAddr: null` leaves out the metrics section. */
export function bridgeYaml(b: BridgeSpec, metricsAddr: string | null): string {
  const tunnels = b.tunnels
    .map(
      (t) => `      ${t.name}:
        role: ${t.role}
        addr: ${t.addr}
        probe_addr: ${t.probeAddr}
        threshold_down: ${t.thresholdDown ?? 3}
        threshold_up: ${t.thresholdUp ?? 2}`,
    )
    .join("\n");
  const hooks = Object.entries(b.hooks ?? {})
    .map(([hook, commands]) => `      ${hook}: ${JSON.stringify(commands)}`)
    .join("\n");
  return `bridges:
  ${b.name ?? "robust"}:
    role: ${b.role}
    bridge_interface: rob0
    peer_cidr: ${b.peerCidr ?? "10.99.0.0/16"}
${b.extraPeerCidrs ? `    extra_peer_cidrs: ${JSON.stringify(b.extraPeerCidrs)}\n` : ""}    status_addr: ${b.statusAddr}
    partner_url: ${b.partnerUrl}
    probe_interval: ${b.probeInterval ?? "100ms"}
    partner_status_timeout: ${b.partnerTimeout ?? "80ms"}
    partner_status_threshold_down: ${b.partnerDown ?? 2}
    partner_status_threshold_up: ${b.partnerUp ?? 2}
    probe_location: robust/${b.role}
    tunnel_interfaces:
${tunnels}
    scripts_timeout: ${b.scriptsTimeout ?? "5s"}
${hooks ? `    scripts:\n${hooks}\n` : ""}${metricsAddr === null ? "" : `metrics:\n  listen_addr: ${metricsAddr}\n`}`;
}

export function bridgeConfig(b: BridgeSpec, metricsAddr: string): Config {
  return parseConfig(bridgeYaml(b, metricsAddr), "robustness-test").config;
}

// ---------------------------------------------------------------- metrics

type Labels = Record<string, string | number>;
interface Readable {
  get(): Promise<{ values: { value: number; labels: Labels; metricName?: string }[] }> | { values: { value: number; labels: Labels; metricName?: string }[] };
}

function matches(labels: Labels, want: Labels): boolean {
  return Object.entries(want).every(([k, v]) => String(labels[k]) === String(v));
}

/** Sum of a prom-client metric's series whose labels include `want` (histograms: `_count` only). */
export async function metricSum(metric: Readable, want: Labels = {}): Promise<number> {
  const { values } = await metric.get();
  return values
    .filter((v) => v.metricName === undefined || v.metricName.endsWith("_count") || !/_(bucket|sum)$/.test(v.metricName))
    .filter((v) => matches(v.labels, want))
    .reduce((sum, v) => sum + v.value, 0);
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Samples of a Prometheus text exposition (enough for our own output). */
export function parseSamples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const lm of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[lm[1]!] = lm[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

export function sumSamples(samples: readonly Sample[], name: string, want: Record<string, string> = {}): number {
  return samples.filter((s) => s.name === name && matches(s.labels, want)).reduce((a, s) => a + s.value, 0);
}

export async function scrape(url: string, timeoutMs = 3000): Promise<Sample[]> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  return parseSamples(await res.text());
}

// ---------------------------------------------------------------- UDP helpers

export async function bindUdp(host: string, port: number): Promise<dgram.Socket> {
  const socket = dgram.createSocket("udp4");
  socket.on("error", () => {});
  await new Promise<void>((resolveBind, reject) => {
    socket.once("error", reject);
    socket.bind(port, host, () => {
      socket.off("error", reject);
      resolveBind();
    });
  });
  return socket;
}

export function closeUdp(socket: dgram.Socket): Promise<void> {
  return new Promise((done) => {
    try {
      socket.close(() => done());
    } catch {
      done();
    }
  });
}

/** A stateless responder (as a Go or vpnham peer's transponder), answering every request. */
export async function startEcho(addr: HostPort, location = "robust/echo") {
  let answered = 0;
  const t = startTransponder({
    addr,
    probeAddr: hp("127.0.0.1", 9), // never used: the echo sends no probes
    probeLocation: location,
    events: { onReply() {}, onRequestAnswered: () => void answered++, onMalformed() {}, onSocketError() {} },
  });
  await waitFor(() => t.bound, { timeoutMs: 3000, what: `echo on ${addr.text} bound` });
  return { get answered() { return answered; }, close: () => t.close() };
}

export type RelayVerdict = "pass" | "drop" | "hold";

/**
 * A point-to-point link with a tap: the daemon sends its probes to `near`
 * (its probe_addr); they leave `far` towards `peer`, whose replies come back
 * to `far` and leave `near` towards `daemon`. Taps see every datagram and may
 * drop it; `inject` sends anything to the daemon from `near`.
 */
export async function startRelay(opts: {
  near: HostPort;
  far: HostPort;
  daemon: HostPort;
  peer: HostPort;
  toPeer?: (msg: Buffer) => RelayVerdict | void;
  toDaemon?: (msg: Buffer) => RelayVerdict | void;
}) {
  const near = await bindUdp(opts.near.host, opts.near.port);
  const far = await bindUdp(opts.far.host, opts.far.port);
  let cut = false;
  near.on("message", (msg) => {
    if (cut || (opts.toPeer?.(msg) ?? "pass") !== "pass") return;
    far.send(msg, opts.peer.port, opts.peer.host, () => {});
  });
  far.on("message", (msg) => {
    if (cut || (opts.toDaemon?.(msg) ?? "pass") !== "pass") return;
    near.send(msg, opts.daemon.port, opts.daemon.host, () => {});
  });
  return {
    cut() {
      cut = true;
    },
    restore() {
      cut = false;
    },
    get isCut() {
      return cut;
    },
    inject(msg: Buffer): Promise<void> {
      return new Promise((done) => near.send(msg, opts.daemon.port, opts.daemon.host, () => done()));
    },
    close: () => Promise.all([closeUdp(near), closeUdp(far)]).then(() => {}),
  };
}

/**
 * Datagrams the kernel dropped at a UDP socket bound to host:port because its
 * receive buffer was full (the `drops` column of /proc/net/udp; 0 if not found).
 */
export function udpDrops(host: string, port: number): number {
  const ip = host.split(".").map((n) => Number(n).toString(16).padStart(2, "0").toUpperCase()).reverse().join("");
  const local = `${ip}:${port.toString(16).padStart(4, "0").toUpperCase()}`;
  try {
    for (const line of readFileSync("/proc/net/udp", "utf8").split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[1] === local) return Number(cols[12] ?? 0);
    }
  } catch {
    /* not Linux */
  }
  return 0;
}

// ---------------------------------------------------------------- child daemons

export const isDeno = "Deno" in globalThis;

/** argv that runs `src/main.ts` under the runtime running the tests. */
export function daemonArgv(args: string[]): [string, string[]] {
  const main = join(repoRoot, "src", "main.ts");
  return isDeno ? [process.execPath, ["run", "-A", main, ...args]] : [process.execPath, [main, ...args]];
}

export interface ChildDaemon {
  child: ChildProcess;
  pid: number;
  /** stdout JSON lines (last 5000). */
  lines: string[];
  stderr: () => string;
  readonly exited: boolean;
  /** Sends a signal to the daemon (no-op once it exited). */
  signal(sig: NodeJS.Signals): void;
  stop(): Promise<void>;
}

export function spawnDaemon(configPath: string, extra: string[] = []): ChildDaemon {
  const [file, args] = daemonArgv(["serve", "--config", configPath, "--log-format", "json", ...extra]);
  const child = spawn(file, args, { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
  const lines: string[] = [];
  let rest = "";
  let err = "";
  let exited = false;
  child.stdout!.on("data", (chunk: Buffer) => {
    const parts = (rest + chunk.toString("utf8")).split("\n");
    rest = parts.pop() ?? "";
    lines.push(...parts);
    if (lines.length > 5000) lines.splice(0, lines.length - 5000);
  });
  child.stderr!.on("data", (chunk: Buffer) => {
    if (err.length < 64 * 1024) err += chunk.toString("utf8");
  });
  const exit = new Promise<void>((done) => child.once("exit", () => ((exited = true), done())));
  const signal = (sig: NodeJS.Signals): void => {
    try {
      if (!exited && child.pid !== undefined) process.kill(child.pid, sig);
    } catch {
      /* already gone */
    }
  };
  return {
    child,
    pid: child.pid ?? -1,
    lines,
    stderr: () => err,
    get exited() {
      return exited;
    },
    signal,
    async stop() {
      if (exited) return;
      // process.kill, not child.kill: Deno's ChildProcess.kill ignores every signal after the first.
      signal("SIGCONT");
      signal("SIGTERM");
      const timer = setTimeout(() => signal("SIGKILL"), 5000);
      await exit;
      clearTimeout(timer);
    },
  };
}

export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `vpnham-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Quiet the in-process daemons' info logs for a noisy test; the suite default is info. */
export function quietLogs(): () => void {
  configureLogger({ level: "warn" });
  return () => configureLogger({ level: "info" });
}

// ---------------------------------------------------------------- probes

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** What the decoder should say, computed from the layout in protocol.md §1 without the decoder's code. */
export function oracle(buf: Buffer): "ok" | "size" | "time_version" | "time_range" | "location_utf8" {
  if (buf.length !== 142) return "size";
  for (const at of [24, 91]) {
    if (buf[at] !== 1) return "time_version";
    const nsec = buf.readInt32BE(at + 9);
    if (nsec < 0 || nsec > 999_999_999) return "time_range";
  }
  for (const at of [39, 106]) {
    const field = buf.subarray(at, at + 36);
    const nul = field.indexOf(0);
    try {
      utf8.decode(nul === -1 ? field : field.subarray(0, nul));
    } catch {
      return "location_utf8";
    }
  }
  return "ok";
}

/** A well-formed probe: a request unless `replyAtNs` is given. */
export function craftProbe(p: { sequence: bigint; srcUuid: Buffer; dstUuid: Buffer; replyAtNs?: bigint; location?: string }): Buffer {
  const probe: Probe = {
    sequence: p.sequence,
    srcUuid: p.srcUuid,
    srcTime: { unixNs: nowUnixNs(), offsetMin: -1 },
    srcLocation: p.location ?? "robust/craft",
    dstUuid: p.dstUuid,
    dstTime: p.replyAtNs === undefined ? GO_ZERO_TIME : { unixNs: p.replyAtNs, offsetMin: -1 },
    dstLocation: p.replyAtNs === undefined ? "" : "robust/craft",
  };
  return encodeProbe(probe);
}

/** Decoded probe or undefined (taps use it on whatever passes). */
export function peek(msg: Buffer): Probe | undefined {
  const d = decodeProbe(msg);
  return d.ok ? d.probe : undefined;
}

// ---------------------------------------------------------------- PRNG

/** mulberry32: small, seeded, good enough for fuzzing; print the seed on failure. */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    seed,
    next,
    int: (lo: number, hi: number): number => lo + Math.floor(next() * (hi - lo + 1)),
    bytes(n: number): Buffer {
      const b = Buffer.allocUnsafe(n);
      for (let i = 0; i < n; i++) b[i] = Math.floor(next() * 256);
      return b;
    },
    pick<T>(items: readonly T[]): T {
      return items[Math.floor(next() * items.length)]!;
    },
  };
}

export type Rng = ReturnType<typeof prng>;

const locationChars = ["a", "Z", "/", "-", " ", "é", "ß", "€", "中", "文", "😀", "🛰", "\u00a0", "\u2028"];

export function randomLocation(r: Rng): string {
  let s = "";
  const n = r.int(0, 40);
  for (let i = 0; i < n; i++) s += r.pick(locationChars);
  return s;
}

export function randomUnixNs(r: Rng): bigint {
  // Anywhere Go's int64 seconds can hold, with a bias towards "now".
  const choice = r.int(0, 3);
  if (choice === 0) return BigInt(Date.now()) * 1_000_000n + BigInt(r.int(0, 999_999));
  if (choice === 1) return -GO_UNIX_TO_INTERNAL_SEC * 1_000_000_000n; // the zero time
  const maxSec = 2n ** 62n;
  const sec = BigInt(Math.floor(r.next() * 2 ** 52)) * (maxSec / 2n ** 52n) - GO_UNIX_TO_INTERNAL_SEC;
  return sec * 1_000_000_000n + BigInt(r.int(0, 999_999_999));
}

export function randomProbe(r: Rng, request: boolean): Probe {
  return {
    sequence: r.bytes(8).readBigUInt64LE(0),
    srcUuid: r.bytes(16),
    srcTime: { unixNs: randomUnixNs(r), offsetMin: r.pick([-1, 0, 60, -300]) },
    srcLocation: randomLocation(r),
    dstUuid: r.bytes(16),
    dstTime: request ? GO_ZERO_TIME : { unixNs: randomUnixNs(r), offsetMin: r.pick([-1, 0]) },
    dstLocation: request ? "" : randomLocation(r),
  };
}

/** A valid probe with k random bytes overwritten: mostly near-valid, the decoder's hard cases. */
export function mutated(r: Rng): Buffer {
  const buf = encodeProbe(randomProbe(r, r.next() < 0.5));
  const k = r.int(1, 4);
  for (let i = 0; i < k; i++) buf[r.int(0, PROBE_SIZE - 1)] = r.int(0, 255);
  return buf;
}

export const testSeed = (): number => Number(process.env.VPNHAM_FUZZ_SEED ?? (Date.now() & 0x7fffffff));
