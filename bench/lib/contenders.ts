/**
 * The daemons bench/compare.ts sets side by side, each as a pair (one per namespace of
 * hperf-net.ts) with `sessions` sessions between A_i and B_i at one interval × 3:
 *  - FRR's bfdd alone (no zebra), its own pathspace (-N) per namespace, peers set with vtysh;
 *    state changes read from its log (`debug bfd peer`, µs timestamps);
 *  - vpnham's compiled binary (or a Go vpnham binary): one bridge, one tunnel per session,
 *    A active and B standby, each the other's partner (as a real pair polls); state changes
 *    from its JSON log (`tunnel up|down`), and a hook (`interface_deactivate` writing `date`)
 *    for the time a script starts, the only signal a Go binary gives here.
 * Only side A is measured; B answers.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { chownSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LINK, NS, sessionAddress, type Side } from "./hperf-net.ts";
import { FileTail, alive, run, sleep, terminate } from "./proc.ts";

/** One state change of a session at A, on the daemon's own clock (epoch ms). */
export interface StateEvent {
  tMs: number;
  session: number;
  up: boolean;
}

export interface Contender {
  readonly name: string;
  start(sessions: number, intervalMs: number): Promise<void>;
  stop(): Promise<void>;
  /** Side A's and B's daemon. */
  pids(): { a: number; b: number };
  /** Every state change at A seen so far (the log read up to now). */
  events(): StateEvent[];
  /** Times (epoch ms) a hook started at A for a session going down; empty when the contender has none. */
  hookDownTimes(): number[];
  /** How many sessions A judges up now. */
  upCount(): number;
}

const frrBin = "/usr/lib/frr";

/** State of each session from the events so far. */
function tally(events: readonly StateEvent[]): Map<number, boolean> {
  const state = new Map<number, boolean>();
  for (const e of events) state.set(e.session, e.up);
  return state;
}

// 2026/12/02 14:36:39.395006 BFD: [SEY1D-NT8EQ] state-change: [mhop:no peer:10.214.0.2 local:… vrf:default] up -> down reason:…
const BFD_LINE = /^(\d{4})\/(\d\d)\/(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{6}) .*state-change: \[mhop:no peer:(\S+) .*\] (\w+) -> (\w+)/;

export class Bfdd implements Contender {
  readonly name = "bfdd";
  private dir = "";
  private tail: FileTail | undefined;
  private readonly seen: StateEvent[] = [];
  private sessionOf = new Map<string, number>();
  private pidOf: Record<Side, number> = { a: -1, b: -1 };

  constructor(private readonly runDir: string) {}

  async start(sessions: number, intervalMs: number): Promise<void> {
    this.dir = join(this.runDir, `bfdd-${sessions}-${intervalMs}`);
    mkdirSync(this.dir, { recursive: true });
    const uid = Number((await run("id", ["-u", "frr"])).trim());
    const gid = Number((await run("id", ["-g", "frr"])).trim());
    chownSync(this.dir, uid, gid);
    this.seen.length = 0;
    this.sessionOf = new Map(Array.from({ length: sessions }, (_, i) => [sessionAddress("b", i), i]));
    for (const side of ["a", "b"] as const) {
      const ns = NS[side];
      const runDir = `/var/run/frr/${ns}`;
      mkdirSync(runDir, { recursive: true });
      chownSync(runDir, uid, gid);
      const conf = join(this.dir, `${side}.conf`);
      writeFileSync(conf, "frr defaults traditional\n");
      chownSync(conf, uid, gid);
      await run("ip", ["netns", "exec", ns, `${frrBin}/bfdd`, "-d", "-N", ns, "-f", conf, "-A", "127.0.0.1", "-P", "0", "--limit-fds", "4096"]);
      this.pidOf[side] = Number(readFileSync(`${runDir}/bfdd.pid`, "utf8").trim());
      const other = side === "a" ? "b" : "a";
      const peers = Array.from(
        { length: sessions },
        (_, i) =>
          ` peer ${sessionAddress(other, i)} local-address ${sessionAddress(side, i)}\n  receive-interval ${intervalMs}\n  transmit-interval ${intervalMs}\n  detect-multiplier 3\n exit\n`,
      ).join("");
      const commands = join(this.dir, `${side}.vtysh`);
      // Timestamps in µs, state changes logged: the detection time comes from bfdd itself.
      writeFileSync(commands, `log timestamp precision 6\nlog file ${join(this.dir, `${side}.log`)} debugging\ndebug bfd peer\nbfd\n${peers}exit\n`);
      await run("vtysh", ["--vty_socket", runDir, "-f", commands], 120_000);
    }
    this.tail = new FileTail(join(this.dir, "a.log"));
  }

  events(): StateEvent[] {
    for (const line of this.tail?.lines() ?? []) {
      const m = BFD_LINE.exec(line);
      if (!m) continue;
      const session = this.sessionOf.get(m[8]!);
      if (session === undefined) continue;
      const [y, mo, d, h, mi, s, us] = m.slice(1, 8).map(Number) as [number, number, number, number, number, number, number];
      this.seen.push({ tMs: new Date(y, mo - 1, d, h, mi, s).getTime() + us / 1000, session, up: m[10] === "up" });
    }
    return this.seen;
  }

  hookDownTimes(): number[] {
    return [];
  }

  upCount(): number {
    return [...tally(this.events()).values()].filter(Boolean).length;
  }

  pids(): { a: number; b: number } {
    return { ...this.pidOf };
  }

  async stop(): Promise<void> {
    await Promise.all(Object.values(this.pidOf).map((pid) => (pid > 0 ? terminate(pid) : undefined)));
    this.pidOf = { a: -1, b: -1 };
  }
}

/** Ports per flavour, so both can run in the same namespaces at once. */
const PORTS = { ts: { probe: 5784, status: 18080, metrics: 19100 }, go: { probe: 5785, status: 18090, metrics: 19101 } } as const;

export class Vpnham implements Contender {
  private dir = "";
  private readonly children: Partial<Record<Side, ChildProcess>> = {};
  private readonly seen: StateEvent[] = [];
  private hookTail: FileTail | undefined;
  private readonly hooks: number[] = [];
  private readonly ports;

  /** `flavour` go: a Go vpnham binary (no `control:` section, no JSON log parsing). */
  constructor(
    readonly name: string,
    private readonly binary: string,
    private readonly flavour: "ts" | "go",
    private readonly runDir: string,
    /** Extra environment for the daemons (runtime knobs such as BUN_JSC_… options). */
    private readonly env: Record<string, string> = {},
  ) {
    this.ports = PORTS[flavour];
  }

  config(side: Side, sessions: number, intervalMs: number): string {
    const other = side === "a" ? "b" : "a";
    // One short flow line per tunnel (threshold_up is 2 by default; vpnham's YAML takes ip:port
    // unquoted in a flow mapping, Go's libyaml-born parser wants quotes): 10 000 tunnels make
    // 0.97 MiB, just under the config's 1 MiB cap (docs/hardening.md §Files the daemon reads).
    const q = this.flavour === "go" ? '"' : "";
    const tunnels = Array.from(
      { length: sessions },
      (_, i) =>
        `      t${i}: {role: ${i === 0 ? "active" : "standby"},addr: ${q}${sessionAddress(side, i)}:${this.ports.probe}${q},probe_addr: ${q}${sessionAddress(other, i)}:${this.ports.probe}${q},threshold_down: 3}\n`,
    ).join("");
    const hook = join(this.dir, `${side}.hook`);
    return (
      `bridges:\n  hperf:\n    role: ${side === "a" ? "active" : "standby"}\n    bridge_interface: lo\n    peer_cidr: 10.99.0.0/16\n` +
      `    status_addr: "${LINK[side]}:${this.ports.status}"\n    partner_url: "http://${LINK[other]}:${this.ports.status}/"\n` +
      `    partner_status_timeout: ${Math.min(500, intervalMs / 2)}ms\n    probe_interval: ${intervalMs}ms\n    probe_location: hperf/${side}\n` +
      `    tunnel_interfaces:\n${tunnels}` +
      `    reconcile:\n      scripts_timeout: 5s\n      interface_deactivate:\n        script: [["sh", "-c", "date +%s.%N >> ${hook}"]]\n` +
      `metrics:\n  listen_addr: "127.0.0.1:${this.ports.metrics}"\n` +
      (this.flavour === "ts" ? `control:\n  socket_path: ${join(this.dir, `${side}.sock`)}\n` : "")
    );
  }

  async start(sessions: number, intervalMs: number): Promise<void> {
    this.dir = join(this.runDir, `${this.flavour}-${sessions}-${intervalMs}`);
    mkdirSync(this.dir, { recursive: true });
    this.seen.length = 0;
    this.hooks.length = 0;
    for (const side of ["a", "b"] as const) {
      const path = join(this.dir, `${side}.yaml`);
      writeFileSync(path, this.config(side, sessions, intervalMs));
      writeFileSync(join(this.dir, `${side}.hook`), "");
      const args = ["netns", "exec", NS[side], this.binary, "serve", "--config", path, ...(this.flavour === "ts" ? ["--log-format", "json"] : [])];
      const child = spawn("ip", args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...this.env, NO_COLOR: "1" } });
      this.children[side] = child;
      let rest = "";
      const sessionOf = (tunnel: unknown): number => (typeof tunnel === "string" && /^t\d+$/.test(tunnel) ? Number(tunnel.slice(1)) : -1);
      child.stdout!.on("data", (chunk: Buffer) => {
        if (side !== "a") return;
        const lines = (rest + chunk.toString("utf8")).split("\n");
        rest = lines.pop() ?? "";
        for (const line of lines) {
          if (process.env.HPERF_DEBUG) process.stderr.write(`[${this.name} a] ${line}\n`);
          if (!line.includes('"tunnel ')) continue;
          try {
            const r = JSON.parse(line) as { time?: string; msg?: string; tunnel?: unknown };
            if (r.msg !== "tunnel up" && r.msg !== "tunnel down") continue;
            const session = sessionOf(r.tunnel);
            if (session >= 0) this.seen.push({ tMs: Date.parse(String(r.time)), session, up: r.msg === "tunnel up" });
          } catch {
            /* not a JSON line */
          }
        }
      });
      child.stderr!.resume();
    }
    this.hookTail = new FileTail(join(this.dir, "a.hook"));
    await sleep(100);
    for (const side of ["a", "b"] as const) if (!alive(this.children[side]!.pid ?? -1)) throw new Error(`${this.name} ${side} exited at start`);
  }

  events(): StateEvent[] {
    return this.seen;
  }

  hookDownTimes(): number[] {
    for (const line of this.hookTail?.lines() ?? []) if (line.trim()) this.hooks.push(Number(line.trim()) * 1000);
    return this.hooks;
  }

  upCount(): number {
    return [...tally(this.seen).values()].filter(Boolean).length;
  }

  pids(): { a: number; b: number } {
    return { a: this.children.a?.pid ?? -1, b: this.children.b?.pid ?? -1 };
  }

  async stop(): Promise<void> {
    await Promise.all(Object.values(this.children).map((c) => (c?.pid ? terminate(c.pid) : undefined)));
    delete this.children.a;
    delete this.children.b;
  }
}
