/**
 * ExaBGP and its BIRD 2 peer in network namespaces this helper creates (`hbgp-x<pid>-e` runs
 * ExaBGP, `hbgp-x<pid>-f` BIRD; one veth link, an IPv4 and an IPv6 eBGP session): vpnham drives
 * ExaBGP through the named pipes of its api.cli, tests read BIRD's tables. ExaBGP finds its pipes
 * under `--root <dir>` (`<dir>/run/<pipename>.in|.out`, the pipe name with the pid), so nothing
 * outside the test's directory is used. `teardown()` removes everything, leftovers of a dead run
 * go at the next setup.
 */
import type { ChildProcess } from "node:child_process";
import { execFileSync } from "node:child_process";
import { closeSync, constants, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseBirdRoutes } from "../../src/announce/bird.ts";
import { waitFor } from "../../src/util/wait.ts";
import { findTool } from "../ops/support.ts";
import { createNetns, destroyNetnsSync, execInNetns, removeNetnsLeftovers, run, sh, spawnInNetns, stopChild } from "../support/netns.ts";
import { birdSession, birdUnavailable } from "./bird-netns.ts";

export const NS_E = `hbgp-x${process.pid}-e`;
export const NS_F = `hbgp-x${process.pid}-f`;
const pipeName = `vpnham-exabgp${process.pid}`;

/** Why this cannot run here, or undefined: root, iproute2 and BIRD first, then ExaBGP. */
export function exabgpUnavailable(): string | undefined {
  return birdUnavailable() ?? (findTool("exabgp") === undefined ? "exabgp is missing (apt-get install exabgp)" : undefined);
}

export interface ExabgpPeer {
  readonly dir: string;
  readonly pipeIn: string;
  readonly pipeOut: string;
  /** BIRD's routes of one family. */
  ribF(family: 4 | 6): Promise<string[]>;
  /** exabgpcli, ExaBGP's own client, on the same pipes: as an operator would type it. */
  exabgpcli(...command: string[]): Promise<string>;
  /** SIGTERM; ExaBGP forgets every route the API gave it. */
  stopExabgp(): Promise<void>;
  /** Resolves once its cli relay reads the command pipe. */
  startExabgp(): Promise<void>;
  /** ExaBGP's log (on a failure). */
  log(): string;
  teardown(): void;
}

/** ExaBGP announces `own` from a static route of its config file (outside vpnham's allow-list). */
export async function startExabgpPeer(own: string): Promise<ExabgpPeer> {
  removeNetnsLeftovers(/^hbgp-x(\d+)-[ef]$/);
  const destroy = () => [NS_E, NS_F].forEach(destroyNetnsSync);
  const dir = mkdtempSync(join(tmpdir(), "hbgp-exabgp-"));
  let exabgp: ChildProcess | undefined;
  const teardown = () => {
    exabgp?.kill("SIGKILL");
    destroy();
    rmSync(dir, { recursive: true, force: true });
  };
  const pipeIn = join(dir, "run", `${pipeName}.in`);
  const pipeOut = join(dir, "run", `${pipeName}.out`);
  const logFile = join(dir, "exabgp.log");
  const exabgpConf = join(dir, "exabgp.conf");
  const env = {
    ...process.env,
    exabgp_api_pipename: pipeName,
    exabgp_daemon_user: "root", // else it drops to `exabgp`, who cannot use the test's directory
    exabgp_log_destination: logFile,
    exabgp_tcp_bind: "", // connects out only
  };
  const startExabgp = async () => {
    exabgp = spawnInNetns(NS_E, [findTool("exabgp")!, "--root", dir, exabgpConf], { env, stdio: "ignore" });
    // Its cli relay, a process of its own, starts a moment later (after the sessions, at times).
    await waitFor(() => hasReader(pipeIn), { timeoutMs: 20_000, intervalMs: 50, what: "ExaBGP's cli relay on its command pipe" });
  };
  try {
    await createNetns(
      [NS_E, NS_F],
      [{ a: { ns: NS_E, dev: "hbgpe0", addrs: ["10.217.0.1/30", "fd00:217::1/64"] }, b: { ns: NS_F, dev: "hbgpf0", addrs: ["10.217.0.2/30", "fd00:217::2/64"] } }],
    );
    mkdirSync(join(dir, "run"));
    execFileSync("mkfifo", ["-m", "0600", pipeIn, pipeOut]);
    const neighbor = (peer: string, local: string, family: 4 | 6, extra: string) => `neighbor ${peer} {
  router-id 10.217.0.1;
  local-address ${local};
  local-as 65001;
  peer-as 65002;
  hold-time 9;
  family { ipv${family} unicast; }
${extra}}
`;
    writeFileSync(exabgpConf, neighbor("10.217.0.2", "10.217.0.1", 4, `  static { route ${own} next-hop self; }\n`) + neighbor("fd00:217::2", "fd00:217::1", 6, ""));
    writeFileSync(
      join(dir, "f.conf"),
      `router id 10.217.0.2;
protocol device {}
${birdSession("peer_e", "10.217.0.2", 65002, "10.217.0.1", 65001, 4, "import all; export none;")}
${birdSession("peer_e6", "fd00:217::2", 65002, "fd00:217::1", 65001, 6, "import all; export none;")}`,
    );
    await execInNetns(NS_F, ["bird", "-c", join(dir, "f.conf"), "-s", join(dir, "f.ctl"), "-P", join(dir, "f.pid")]);
    await startExabgp();
  } catch (error) {
    teardown();
    throw error;
  }
  return {
    dir,
    pipeIn,
    pipeOut,
    async ribF(family) {
      return parseBirdRoutes(await run("birdc", ["-s", join(dir, "f.ctl"), "show", "route", "table", `master${family}`]), family);
    },
    exabgpcli: (...command) => sh([findTool("exabgpcli")!, "--root", dir, ...command], { exabgp_api_pipename: pipeName }, 15_000),
    async stopExabgp() {
      const child = exabgp;
      await stopChild(child, "SIGTERM", 5000);
      // Its cli relay goes with it: nothing reads the command pipe any more.
      await waitFor(() => !hasReader(pipeIn), { timeoutMs: 10_000, intervalMs: 50, what: "ExaBGP's cli relay to exit" });
    },
    startExabgp,
    log: () => {
      try {
        return readFileSync(logFile, "utf8").split("\n").slice(-30).join("\n");
      } catch {
        return "(no log)";
      }
    },
    teardown,
  };
}

/** True while a process holds the FIFO open for reading (a non-blocking open for writing succeeds, else ENXIO). */
function hasReader(fifo: string): boolean {
  try {
    closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
    return true;
  } catch {
    return false;
  }
}
