/**
 * Two real charons with an IKEv2 PSK tunnel between two network namespaces (docs/collectors.md
 * §Testing with real daemons): gw-a 10.98.0.1 ↔ gw-b 10.98.0.2 over a veth pair, child `net`
 * 10.10.1.0/24 ↔ 10.10.2.0/24 (10.10.x.1 on each side's lo). This kernel may lack ESP, so the
 * charons load kernel-libipsec (userspace ESP on a TUN device) with aes256-sha256-modp2048.
 * Each charon runs under `unshare -m` with its own directory bind-mounted on /run (pid file),
 * its VICI socket in the test's directory. Names start with `hcol-` and carry the pid, so
 * leftovers of a killed run are recognised and removed.
 */
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ViciConnection } from "../../src/vici/client.ts";
import { waitFor } from "../../src/util/wait.ts";
import { createNetns, removeNetnsLeftovers, sh, spawnInNetns, stopChild } from "../support/netns.ts";

export const CHARON_PATHS = ["/usr/lib/ipsec/charon", "/usr/libexec/ipsec/charon"];
export const charonPath = CHARON_PATHS.find((p) => existsSync(p));

export type Side = "a" | "b";
const SIDE = {
  a: { ip: "10.98.0.1", peer: "10.98.0.2", inner: "10.10.1.1", localTs: "10.10.1.0/24", remoteTs: "10.10.2.0/24" },
  b: { ip: "10.98.0.2", peer: "10.98.0.1", inner: "10.10.2.1", localTs: "10.10.2.0/24", remoteTs: "10.10.1.0/24" },
} as const;

/** Removes namespaces of earlier runs whose process is gone. */
export async function removeLeftovers(): Promise<void> {
  removeNetnsLeftovers(/^hcol-ss(\d+)-[ab]$/);
}

export class StrongswanPair {
  readonly dir = mkdtempSync(join(tmpdir(), "hcol-ss-"));
  readonly ns: Record<Side, string> = { a: `hcol-ss${process.pid}-a`, b: `hcol-ss${process.pid}-b` };
  private readonly charons = new Map<Side, ChildProcess>();
  private removeNetns = (): void => {};

  viciPath(side: Side): string {
    return join(this.dir, side, "charon.vici");
  }

  private confPath(side: Side): string {
    return join(this.dir, side, "strongswan.conf");
  }

  async setUp(): Promise<void> {
    const end = (side: Side) => ({ ns: this.ns[side], dev: `hcs${process.pid}${side}`.slice(0, 15), addrs: [`${SIDE[side].ip}/24`] });
    this.removeNetns = await createNetns([this.ns.a, this.ns.b], [{ a: end("a"), b: end("b") }]);
    for (const side of ["a", "b"] as const) {
      await sh(["ip", "-n", this.ns[side], "addr", "add", `${SIDE[side].inner}/32`, "dev", "lo"]);
      this.writeConfig(side);
    }
  }

  private writeConfig(side: Side): void {
    const dir = join(this.dir, side);
    mkdirSync(join(dir, "run"), { recursive: true });
    const s = SIDE[side];
    writeFileSync(
      this.confPath(side),
      `charon {
  load_modular = no
  load = random nonce aes sha1 sha2 hmac kdf pem pkcs1 x509 pubkey gmp kernel-libipsec kernel-netlink socket-default vici
  plugins { vici { socket = unix://${this.viciPath(side)} } }
  filelog { test { path = ${join(dir, "charon.log")}
    default = 1
    flush_line = yes } }
}
swanctl { load = pem pkcs1 x509 pubkey gmp random nonce }
`,
    );
    writeFileSync(
      join(dir, "swanctl.conf"),
      `connections {
  gw-${side} {
    version = 2
    local_addrs = ${s.ip}
    remote_addrs = ${s.peer}
    proposals = aes256-sha256-modp2048
    dpd_delay = 2s
    local { auth = psk
      id = ${s.ip} }
    remote { auth = psk
      id = ${s.peer} }
    children { net { local_ts = ${s.localTs}
        remote_ts = ${s.remoteTs}
        esp_proposals = aes256-sha256-modp2048
        start_action = none } }
  }
}
secrets { ike-1 { id-1 = 10.98.0.1
    id-2 = 10.98.0.2
    secret = "hcol-test-only-secret" } }
`,
    );
  }

  /** Starts charon on `side`, waits for its VICI socket and loads the connection. */
  async startCharon(side: Side): Promise<void> {
    const dir = join(this.dir, side);
    const pidFile = join(dir, "run", "charon.pid");
    if (existsSync(pidFile)) unlinkSync(pidFile); // left by a SIGKILLed charon
    const child = spawnInNetns(this.ns[side], ["unshare", "-m", "sh", "-c", `mount --bind "${join(dir, "run")}" /run && exec "${charonPath}"`], {
      env: { ...process.env, STRONGSWAN_CONF: this.confPath(side) },
      stdio: "ignore",
    });
    this.charons.set(side, child);
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`charon ${side} exited with ${child.exitCode}`);
        try {
          (await ViciConnection.connect(this.viciPath(side), AbortSignal.timeout(500))).close();
          return true;
        } catch {
          return false;
        }
      },
      { timeoutMs: 10_000, intervalMs: 50, what: `charon ${side}'s VICI socket` },
    );
    await this.swanctl(side, "--load-all", "--file", join(dir, "swanctl.conf"));
  }

  /** SIGKILL (no clean-up by charon) or SIGTERM, then waits for the exit. */
  async stopCharon(side: Side, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    const child = this.charons.get(side);
    this.charons.delete(side);
    await stopChild(child, signal);
  }

  swanctl(side: Side, ...args: string[]): Promise<string> {
    return sh(["swanctl", ...args, "--uri", `unix://${this.viciPath(side)}`], { STRONGSWAN_CONF: this.confPath(side) });
  }

  /** Pings b's inner address from a's, through the tunnel. */
  ping(count: number): Promise<string> {
    return sh(["ip", "netns", "exec", this.ns.a, "ping", "-n", "-q", "-c", String(count), "-i", "0.2", "-W", "2", "-I", SIDE.a.inner, SIDE.b.inner]);
  }

  charonLog(side: Side): string {
    try {
      return readFileSync(join(this.dir, side, "charon.log"), "utf8");
    } catch {
      return "";
    }
  }

  async tearDown(): Promise<void> {
    await Promise.all((["a", "b"] as const).map((side) => this.stopCharon(side)));
    this.removeNetns();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
