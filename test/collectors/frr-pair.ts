/**
 * Two real FRR instances (zebra + bgpd) in network namespaces `hcol-fr<pid>-a/-b` joined by a veth
 * pair, AS 65001 10.99.0.1 ↔ AS 65002 10.99.0.2, each with its own pid, zserv and vty paths in
 * the test's directory (docs/collectors.md §Testing with real daemons). Reached with
 * `vtysh --vty_socket DIR`.
 */
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNetns, execInNetns, removeNetnsLeftovers, sh, stopPidFile } from "../support/netns.ts";

export const frrDir = ["/usr/lib/frr", "/usr/libexec/frr"].find((d) => existsSync(join(d, "bgpd")));

type Side = "a" | "b";
const SIDE = {
  a: { ip: "10.99.0.1", peer: "10.99.0.2", as: 65001, peerAs: 65002 },
  b: { ip: "10.99.0.2", peer: "10.99.0.1", as: 65002, peerAs: 65001 },
} as const;

export async function removeFrrLeftovers(): Promise<void> {
  removeNetnsLeftovers(/^hcol-fr(\d+)-[ab]$/);
}

/** uid/gid of the `frr` user, which FRR's daemons switch to. */
export function frrIds(): { uid: number; gid: number } | undefined {
  const line = readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.startsWith("frr:"));
  if (!line) return undefined;
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}

export class FrrPair {
  readonly dir = mkdtempSync(join(tmpdir(), "hcol-fr-"));
  readonly ns: Record<Side, string> = { a: `hcol-fr${process.pid}-a`, b: `hcol-fr${process.pid}-b` };
  private removeNetns = (): void => {};

  vtySocket(side: Side): string {
    return join(this.dir, side);
  }

  async setUp(): Promise<void> {
    const end = (side: Side) => ({ ns: this.ns[side], dev: `hcf${process.pid}${side}`.slice(0, 15), addrs: [`${SIDE[side].ip}/24`] });
    this.removeNetns = await createNetns([this.ns.a, this.ns.b], [{ a: end("a"), b: end("b") }]);
    const ids = frrIds();
    chmodSync(this.dir, 0o755); // FRR's daemons run as `frr` and must reach their directories
    for (const side of ["a", "b"] as const) {
      const ns = this.ns[side];
      const dir = this.vtySocket(side);
      mkdirSync(dir, { recursive: true });
      const s = SIDE[side];
      writeFileSync(
        join(dir, "bgpd.conf"),
        `hostname hcol-${side}\nrouter bgp ${s.as}\n bgp router-id ${s.ip}\n no bgp ebgp-requires-policy\n no bgp network import-check\n` +
          ` neighbor ${s.peer} remote-as ${s.peerAs}\n neighbor ${s.peer} timers 1 3\n neighbor ${s.peer} timers connect 1\n neighbor ${s.peer} advertisement-interval 0\n`,
      );
      writeFileSync(join(dir, "zebra.conf"), `hostname hcol-${side}\n`);
      if (ids) for (const f of ["", "bgpd.conf", "zebra.conf"]) chownSync(join(dir, f), ids.uid, ids.gid);
      const common = ["-z", join(dir, "zserv.api"), "--vty_socket", dir];
      for (const daemon of ["zebra", "bgpd"]) await execInNetns(ns, [join(frrDir!, daemon), "-d", "-i", join(dir, `${daemon}.pid`), ...common, "-f", join(dir, `${daemon}.conf`)]);
    }
  }

  vtysh(side: Side, ...commands: string[]): Promise<string> {
    return sh(["vtysh", "--vty_socket", this.vtySocket(side), ...commands.flatMap((c) => ["-c", c])]);
  }

  configure(side: Side, ...lines: string[]): Promise<string> {
    return this.vtysh(side, "configure terminal", `router bgp ${SIDE[side].as}`, ...lines, "end");
  }

  /** Kills one daemon of a side and waits until it is gone (a zombie counts as gone). */
  async kill(side: Side, daemon: "bgpd" | "zebra"): Promise<void> {
    await stopPidFile(join(this.vtySocket(side), `${daemon}.pid`));
  }

  async tearDown(): Promise<void> {
    for (const side of ["a", "b"] as const) for (const d of ["bgpd", "zebra"] as const) await this.kill(side, d);
    this.removeNetns();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
