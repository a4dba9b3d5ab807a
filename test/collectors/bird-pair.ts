/**
 * Two real BIRD 2 daemons in network namespaces `hc2-bd<pid>-a/-b` joined by a veth pair, eBGP
 * AS 65002 10.96.0.2 (a) ↔ AS 65001 10.96.0.1 (b), each with its config, control socket and pid
 * file in the test's directory (docs/collectors.md §Testing with real daemons). Short timers and
 * `error wait time 1, 3` (BIRD's default waits a minute after a failed session).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNetns, execInNetns, removeNetnsLeftovers, sh, stopPidFile } from "../support/netns.ts";

type Side = "a" | "b";
const SIDE = {
  a: { ip: "10.96.0.2", peer: "10.96.0.1", as: 65002, peerAs: 65001, protocol: "peer_b" },
  b: { ip: "10.96.0.1", peer: "10.96.0.2", as: 65001, peerAs: 65002, protocol: "peer_a" },
} as const;

/** Namespaces left by a killed run (their pid is gone). */
export async function removeBirdLeftovers(): Promise<void> {
  removeNetnsLeftovers(/^hc2-bd(\d+)-[ab]$/);
}

export class BirdPair {
  readonly dir = mkdtempSync(join(tmpdir(), "hc2-bd-"));
  readonly ns: Record<Side, string> = { a: `hc2-bd${process.pid}-a`, b: `hc2-bd${process.pid}-b` };
  /** The name of side a's BGP protocol (towards b), as it appears in `vpnham_bird_protocol_up`. */
  readonly protocolA = SIDE.a.protocol;
  private routes: Record<Side, string[]> = { a: [], b: [] };
  private removeNetns = (): void => {};

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
    const end = (side: Side) => ({ ns: this.ns[side], dev: `hc2b${process.pid}${side}`.slice(0, 15), addrs: [`${SIDE[side].ip}/24`] });
    this.removeNetns = await createNetns([this.ns.a, this.ns.b], [{ a: end("a"), b: end("b") }]);
    for (const side of ["b", "a"] as const) await this.start(side);
  }

  async start(side: Side): Promise<void> {
    const conf = join(this.dir, `${side}.conf`);
    writeFileSync(conf, this.config(side));
    await execInNetns(this.ns[side], ["bird", "-c", conf, "-s", this.socket(side), "-P", join(this.dir, `${side}.pid`)]);
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
    await stopPidFile(join(this.dir, `${side}.pid`));
  }

  async tearDown(): Promise<void> {
    for (const side of ["a", "b"] as const) await this.kill(side);
    this.removeNetns();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
