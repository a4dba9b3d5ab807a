/**
 * Two real BIRD 2 daemons in network namespaces `hc2-bd<pid>-a/-b` joined by a veth pair, eBGP
 * AS 65002 10.96.0.2 (a) ↔ AS 65001 10.96.0.1 (b), each with its config, control socket and pid
 * file in the test's directory (docs/collectors.md §Testing with real daemons). Short timers and
 * `error wait time 1, 3` (BIRD's default waits a minute after a failed session).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sh } from "./strongswan-pair.ts";

type Side = "a" | "b";
const SIDE = {
  a: { ip: "10.96.0.2", peer: "10.96.0.1", as: 65002, peerAs: 65001, protocol: "peer_b" },
  b: { ip: "10.96.0.1", peer: "10.96.0.2", as: 65001, peerAs: 65002, protocol: "peer_a" },
} as const;

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Namespaces left by a killed run (their pid is gone). */
export async function removeBirdLeftovers(): Promise<void> {
  const list = await sh(["ip", "netns", "list"]).catch(() => "");
  for (const line of list.split("\n")) {
    const name = line.split(" ")[0] ?? "";
    const m = /^hc2-bd(\d+)-[ab]$/.exec(name);
    if (m && !pidAlive(Number(m[1]))) await sh(["ip", "netns", "del", name]).catch(() => {});
  }
}

export class BirdPair {
  readonly dir = mkdtempSync(join(tmpdir(), "hc2-bd-"));
  readonly ns: Record<Side, string> = { a: `hc2-bd${process.pid}-a`, b: `hc2-bd${process.pid}-b` };
  /** The name of side a's BGP protocol (towards b), as it appears in `vpnham_bird_protocol_up`. */
  readonly protocolA = SIDE.a.protocol;
  private routes: Record<Side, string[]> = { a: [], b: [] };

  socket(side: Side): string {
    return join(this.dir, `${side}.ctl`);
  }

  private config(side: Side): string {
    const s = SIDE[side];
    const routes = this.routes[side].map((r) => ` route ${r} blackhole;`).join("");
    return (
      `router id ${s.ip};\nprotocol device {}\nprotocol static st4 { ipv4;${routes} }\n` +
      `protocol bgp ${s.protocol} {\n local ${s.ip} as ${s.as};\n neighbor ${s.peer} as ${s.peerAs};\n` +
      ` ipv4 { import all; export all; };\n hold time 3; keepalive time 1; connect retry time 1; connect delay time 1; error wait time 1, 3;\n}\n`
    );
  }

  async setUp(): Promise<void> {
    const veth = { a: `hc2b${process.pid}a`.slice(0, 15), b: `hc2b${process.pid}b`.slice(0, 15) };
    await sh(["ip", "netns", "add", this.ns.a]);
    await sh(["ip", "netns", "add", this.ns.b]);
    await sh(["ip", "link", "add", veth.a, "type", "veth", "peer", "name", veth.b]);
    for (const side of ["a", "b"] as const) {
      const ns = this.ns[side];
      await sh(["ip", "link", "set", veth[side], "netns", ns]);
      await sh(["ip", "-n", ns, "addr", "add", `${SIDE[side].ip}/24`, "dev", veth[side]]);
      await sh(["ip", "-n", ns, "link", "set", veth[side], "up"]);
      await sh(["ip", "-n", ns, "link", "set", "lo", "up"]);
    }
    for (const side of ["b", "a"] as const) await this.start(side);
  }

  async start(side: Side): Promise<void> {
    const conf = join(this.dir, `${side}.conf`);
    writeFileSync(conf, this.config(side));
    await sh(["ip", "netns", "exec", this.ns[side], "bird", "-c", conf, "-s", this.socket(side), "-P", join(this.dir, `${side}.pid`)]);
  }

  birdc(side: Side, ...args: string[]): Promise<string> {
    return sh(["birdc", "-s", this.socket(side), ...args]);
  }

  /** Adds a static route on a side (exported to the peer) and reconfigures its BIRD. */
  async addRoute(side: Side, prefix: string): Promise<void> {
    this.routes[side].push(prefix);
    writeFileSync(join(this.dir, `${side}.conf`), this.config(side));
    await this.birdc(side, "configure");
  }

  /** `birdc disable|enable` of a side's BGP protocol. */
  async setEnabled(side: Side, enabled: boolean): Promise<void> {
    await this.birdc(side, enabled ? "enable" : "disable", SIDE[side].protocol);
  }

  /** Kills a side's BIRD and waits until it is gone (a zombie counts as gone). */
  async kill(side: Side): Promise<void> {
    const pidFile = join(this.dir, `${side}.pid`);
    if (!existsSync(pidFile)) return;
    const pid = Number(readFileSync(pidFile, "utf8").trim());
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      return;
    }
    for (let i = 0; i < 100; i += 1) {
      try {
        if (/^\d+ \([^)]*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"))) return;
      } catch {
        return;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async tearDown(): Promise<void> {
    for (const side of ["a", "b"] as const) await this.kill(side);
    for (const ns of Object.values(this.ns)) await sh(["ip", "netns", "del", ns]).catch(() => {});
    rmSync(this.dir, { recursive: true, force: true });
  }
}
