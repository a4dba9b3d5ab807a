/**
 * Two FRR instances in network namespaces this helper creates (`hbgp-a`, `hbgp-b`, one veth
 * link, an eBGP session carrying IPv4 and IPv6): vpnham drives A through `vtysh -N hbgp-a`, tests
 * read B's RIB. Each instance has its own FRR pathspace (`-N`), so its pid files and vty sockets
 * live in /var/run/frr/<namespace>/ and vtysh reaches it with `-N`. Everything is removed by
 * `teardown()`, leftovers of a dead run at the next setup.
 */
import { execFile, execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const NS_A = "hbgp-a";
export const NS_B = "hbgp-b";
const frrBin = "/usr/lib/frr";

/** Why this cannot run here, or undefined. */
export function frrUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "not root (network namespaces and FRR need root)";
  for (const file of [`${frrBin}/zebra`, `${frrBin}/bgpd`]) {
    if (!existsSync(file)) return `${file} is missing (apt-get install frr)`;
  }
  for (const [cmd, args] of [["vtysh", ["--help"]], ["ip", ["-V"]]] as const) {
    try {
      execFileSync(cmd, [...args], { stdio: "ignore" });
    } catch {
      return `${cmd} is missing (apt-get install ${cmd === "ip" ? "iproute2" : "frr"})`;
    }
  }
  try {
    execFileSync("id", ["frr"], { stdio: "ignore" });
  } catch {
    return "no frr user (FRR's package creates it)";
  }
  return undefined;
}

export function run(cmd: string, args: readonly string[], timeoutMs = 10_000): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(cmd, [...args], { timeout: timeoutMs, encoding: "utf8", maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${cmd} ${args.join(" ")}: ${stderr.trim() || stdout.trim() || error.message}`));
      else resolve({ stdout, stderr });
    });
  });
}

const config = (name: string, asn: number, self: string, peer: string, peerAsn: number, extra: string) => `frr defaults traditional
hostname ${name}
!
router bgp ${asn}
 bgp router-id ${self}
 bgp graceful-restart-disable
 no bgp ebgp-requires-policy
 no bgp network import-check
 neighbor ${peer} remote-as ${peerAsn}
 neighbor ${peer} timers 3 9
 neighbor ${peer} timers connect 1
 neighbor ${peer} advertisement-interval 0
 !
 address-family ipv4 unicast
${extra} exit-address-family
 !
 address-family ipv6 unicast
  neighbor ${peer} activate
 exit-address-family
exit
!
route-map BGP1 permit 10
 set as-path prepend ${asn} ${asn}
exit
!
`;

function alive(pid: number): boolean {
  try {
    // PID 1 here reaps slowly: a zombie counts as gone (integrations notes).
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

async function waitGone(pid: number, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (alive(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
}

function pidOf(ns: string, daemon: string): number | undefined {
  try {
    return Number(readFileSync(`/var/run/frr/${ns}/${daemon}.pid`, "utf8").trim()) || undefined;
  } catch {
    return undefined;
  }
}

export interface FrrPair {
  readonly dir: string;
  /** Stops A's bgpd (B drops the session, graceful restart is off); `startBgpdA` starts it again, without the runtime `network` lines. */
  stopBgpdA(): Promise<void>;
  startBgpdA(): Promise<void>;
  /** B's routes of one family: prefix → AS path. */
  ribB(family: 4 | 6): Promise<Map<string, string>>;
  runningConfigA(): Promise<string>;
  teardown(): void;
}

function destroy(): void {
  for (const ns of [NS_A, NS_B]) {
    try {
      const pids = execFileSync("ip", ["netns", "pids", ns], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).split(/\s+/).filter(Boolean).map(Number);
      for (const pid of pids) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          /* gone */
        }
      }
    } catch {
      /* no such namespace */
    }
    try {
      execFileSync("ip", ["netns", "del", ns], { stdio: "ignore" });
    } catch {
      /* gone */
    }
    rmSync(`/var/run/frr/${ns}`, { recursive: true, force: true });
  }
}

async function startDaemon(ns: string, daemon: "zebra" | "bgpd", conf: string): Promise<void> {
  await run("ip", ["netns", "exec", ns, `${frrBin}/${daemon}`, "-d", "-N", ns, "-f", conf, "-A", "127.0.0.1", "-P", "0"]);
}

/** A with `network` lines of its own (`unmanaged`, outside vpnham's allow-list), B plain; resolves once B has A's routes. */
export async function startFrrPair(unmanaged: readonly string[]): Promise<FrrPair> {
  destroy();
  const dir = mkdtempSync(join(tmpdir(), "hbgp-frr-"));
  const teardown = () => {
    destroy();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await run("ip", ["netns", "add", NS_A]);
    await run("ip", ["netns", "add", NS_B]);
    await run("ip", ["link", "add", "hbgpa0", "netns", NS_A, "type", "veth", "peer", "name", "hbgpb0", "netns", NS_B]);
    for (const [ns, dev, v4, v6] of [
      [NS_A, "hbgpa0", "10.213.0.1/30", "fd00:213::1/64"],
      [NS_B, "hbgpb0", "10.213.0.2/30", "fd00:213::2/64"],
    ] as const) {
      await run("ip", ["-n", ns, "addr", "add", v4, "dev", dev]);
      await run("ip", ["-n", ns, "addr", "add", v6, "dev", dev, "nodad"]);
      await run("ip", ["-n", ns, "link", "set", dev, "up"]);
      await run("ip", ["-n", ns, "link", "set", "lo", "up"]);
    }
    const frrUid = Number(execFileSync("id", ["-u", "frr"], { encoding: "utf8" }).trim());
    const frrGid = Number(execFileSync("id", ["-g", "frr"], { encoding: "utf8" }).trim());
    const confs = {
      [NS_A]: config(NS_A, 65001, "10.213.0.1", "10.213.0.2", 65002, unmanaged.map((p) => `  network ${p}\n`).join("")),
      [NS_B]: config(NS_B, 65002, "10.213.0.2", "10.213.0.1", 65001, ""),
    };
    chownSync(dir, frrUid, frrGid);
    for (const [ns, text] of Object.entries(confs)) {
      const conf = join(dir, `${ns}.conf`);
      writeFileSync(conf, text);
      chownSync(conf, frrUid, frrGid);
      mkdirSync(`/var/run/frr/${ns}`, { recursive: true });
      chownSync(`/var/run/frr/${ns}`, frrUid, frrGid);
      await startDaemon(ns, "zebra", conf);
      await startDaemon(ns, "bgpd", conf);
    }
  } catch (error) {
    teardown();
    throw error;
  }
  const vtysh = async (ns: string, command: string) => (await run("vtysh", ["-N", ns, "-c", command])).stdout;
  const pair: FrrPair = {
    dir,
    async stopBgpdA() {
      const pid = pidOf(NS_A, "bgpd");
      if (pid === undefined) return;
      process.kill(pid, "SIGTERM");
      await waitGone(pid);
    },
    startBgpdA: () => startDaemon(NS_A, "bgpd", join(dir, `${NS_A}.conf`)),
    async ribB(family) {
      const text = await vtysh(NS_B, `show bgp ipv${family} unicast json`);
      const routes = ((JSON.parse(text) as { routes?: Record<string, { path?: string; bestpath?: boolean }[]> }).routes ?? {}) as Record<string, { path?: string }[]>;
      return new Map(Object.entries(routes).map(([prefix, paths]) => [prefix, paths[0]?.path ?? ""]));
    },
    runningConfigA: () => vtysh(NS_A, "show running-config"),
    teardown,
  };
  return pair;
}
