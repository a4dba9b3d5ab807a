/**
 * FRR (zebra + bgpd, AS 65001 10.95.0.1, namespace `h13b-fb<pid>-f`) peering with BIRD 2 (AS 65002
 * 10.95.0.2, namespace `h13b-fb<pid>-b`) over a veth pair, each with its pid files, vty/control
 * sockets and config in the test's directory (docs/collectors.md §Testing with real daemons).
 * Timers as in frr-pair.ts and bird-pair.ts, so a session is up within seconds.
 */
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNetns, execInNetns, removeNetnsLeftovers, sh, stopPidFile } from "../support/netns.ts";
import { frrDir, frrIds } from "./frr-pair.ts";

export const FRR_SIDE = { ip: "10.95.0.1", as: 65001 } as const;
export const BIRD_SIDE = { ip: "10.95.0.2", as: 65002, protocol: "peer_frr" } as const;

export async function removeFrrBirdLeftovers(): Promise<void> {
  removeNetnsLeftovers(/^h13b-fb(\d+)-[fb]$/);
}

export class FrrBirdPair {
  readonly dir = mkdtempSync(join(tmpdir(), "h13b-fb-"));
  readonly ns = { frr: `h13b-fb${process.pid}-f`, bird: `h13b-fb${process.pid}-b` };
  private birdRoutes: string[] = [];
  private removeNetns = (): void => {};

  /** FRR's vty socket directory (`vtysh --vty_socket`). */
  get vtySocket(): string {
    return join(this.dir, "frr");
  }
  get birdSocket(): string {
    return join(this.dir, "bird.ctl");
  }

  async setUp(): Promise<void> {
    const end = (ns: string, side: string, ip: string) => ({ ns, dev: `h13b${process.pid}${side}`.slice(0, 15), addrs: [`${ip}/24`] });
    this.removeNetns = await createNetns([this.ns.frr, this.ns.bird], [{ a: end(this.ns.frr, "f", FRR_SIDE.ip), b: end(this.ns.bird, "b", BIRD_SIDE.ip) }]);
    chmodSync(this.dir, 0o755); // FRR's daemons run as `frr` and must reach their directory
    const dir = this.vtySocket;
    mkdirSync(dir, { recursive: true });
    const peer = BIRD_SIDE.ip;
    writeFileSync(
      join(dir, "bgpd.conf"),
      `hostname h13b-frr\nrouter bgp ${FRR_SIDE.as}\n bgp router-id ${FRR_SIDE.ip}\n no bgp ebgp-requires-policy\n no bgp network import-check\n` +
        ` neighbor ${peer} remote-as ${BIRD_SIDE.as}\n neighbor ${peer} timers 1 3\n neighbor ${peer} timers connect 1\n neighbor ${peer} advertisement-interval 0\n`,
    );
    writeFileSync(join(dir, "zebra.conf"), "hostname h13b-frr\n");
    const ids = frrIds();
    if (ids) for (const f of ["", "bgpd.conf", "zebra.conf"]) chownSync(join(dir, f), ids.uid, ids.gid);
    const common = ["-z", join(dir, "zserv.api"), "--vty_socket", dir];
    for (const daemon of ["zebra", "bgpd"]) await execInNetns(this.ns.frr, [join(frrDir!, daemon), "-d", "-i", join(dir, `${daemon}.pid`), ...common, "-f", join(dir, `${daemon}.conf`)]);
    writeFileSync(join(this.dir, "bird.conf"), this.birdConfig());
    await execInNetns(this.ns.bird, ["bird", "-c", join(this.dir, "bird.conf"), "-s", this.birdSocket, "-P", join(this.dir, "bird.pid")]);
  }

  private birdConfig(): string {
    const routes = this.birdRoutes.map((r) => ` route ${r} blackhole;`).join("");
    return (
      `router id ${BIRD_SIDE.ip};\nprotocol device {}\nprotocol static st4 { ipv4;${routes} }\n` +
      `protocol bgp ${BIRD_SIDE.protocol} {\n local ${BIRD_SIDE.ip} as ${BIRD_SIDE.as};\n neighbor ${FRR_SIDE.ip} as ${FRR_SIDE.as};\n` +
      ` ipv4 { import all; export all; };\n hold time 3; keepalive time 1; connect retry time 1; connect delay time 1; error wait time 1, 3;\n}\n`
    );
  }

  /** `configure terminal` / `router bgp` lines on FRR. */
  configureFrr(...lines: string[]): Promise<string> {
    return sh(["vtysh", "--vty_socket", this.vtySocket, "-c", "configure terminal", "-c", `router bgp ${FRR_SIDE.as}`, ...lines.flatMap((l) => ["-c", l]), "-c", "end"]);
  }

  /** A static route on BIRD (exported to FRR), then `birdc configure`. */
  async addBirdRoute(prefix: string): Promise<void> {
    this.birdRoutes.push(prefix);
    writeFileSync(join(this.dir, "bird.conf"), this.birdConfig());
    await sh(["birdc", "-s", this.birdSocket, "configure"]);
  }

  async tearDown(): Promise<void> {
    for (const f of [join(this.vtySocket, "bgpd.pid"), join(this.vtySocket, "zebra.pid"), join(this.dir, "bird.pid")]) await stopPidFile(f);
    this.removeNetns();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
