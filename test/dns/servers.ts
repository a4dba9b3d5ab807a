/**
 * Real DNS servers for the tests (docs/dns-failover.md §RFC 2136): BIND's `named` and Knot's
 * `knotd` on loopback, each with a TSIG-keyed zone in its own temporary directory (prefix
 * `hdns-`), checked with `dig`/`kdig`. Tests skip with the reason when a program is missing.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createSocket } from "node:dgram";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "../../src/util/wait.ts";

export const TSIG_SECRET = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTAxMjM0NTY3";
export const WRONG_SECRET = "d3Jvbmctd3Jvbmctd3Jvbmctd3Jvbmctd3Jvbmc=";
export const KEY_NAME = "ha-key";
export const ZONE = "example.test";

const has = (program: string) => spawnSync("sh", ["-c", `command -v ${program}`]).status === 0;

/** Why a server test cannot run here, or undefined. */
export function missing(kind: "bind" | "knot"): string | undefined {
  const programs = kind === "bind" ? ["named", "dig"] : ["knotd", "kdig", "knotc"];
  const absent = programs.filter((p) => !has(p));
  return absent.length > 0 ? `${absent.join(", ")} not installed (apt-get install ${kind === "bind" ? "bind9 bind9-dnsutils" : "knot knot-dnsutils"})` : undefined;
}

/** A port free for both TCP and UDP on `host`. */
export async function freePort(host: string): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const server: Server = createServer();
    const port = await new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, host, () => resolve((server.address() as { port: number }).port));
    });
    const udp = createSocket("udp4");
    const ok = await new Promise<boolean>((resolve) => {
      udp.once("error", () => resolve(false));
      udp.bind(port, host, () => resolve(true));
    });
    udp.close();
    await new Promise((resolve) => server.close(resolve));
    if (ok) return port;
  }
  throw new Error("no free port");
}

export interface DnsServer {
  readonly host: string;
  readonly port: number;
  readonly dir: string;
  /** The addresses `dig` (or `kdig`) finds for name/type, sorted. */
  lookup(name: string, type?: "A" | "AAAA"): string[];
  stop(): Promise<void>;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
  await exited;
  clearTimeout(timer);
}

function digWith(program: "dig" | "kdig", host: string, port: number) {
  return (name: string, type: "A" | "AAAA" = "A"): string[] => {
    const retry = program === "dig" ? "+tries=1" : "+retry=0";
    const out = execFileSync(program, [`@${host}`, "-p", String(port), "+short", "+time=2", retry, name, type], { encoding: "utf8", timeout: 5000, stdio: ["ignore", "pipe", "pipe"] });
    return out
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line !== "")
      .sort();
  };
}

/** Zone file records below the SOA and NS: `name A address` lines relative to the zone. */
function zoneText(records: readonly string[]): string {
  return ["$TTL 60", `@ IN SOA ns1.${ZONE}. hostmaster.${ZONE}. ( 1 60 60 600 60 )`, `  IN NS ns1.${ZONE}.`, "ns1 IN A 127.0.0.1", ...records, ""].join("\n");
}

async function started(child: ChildProcess, lookup: DnsServer["lookup"], log: () => string): Promise<void> {
  let exited = false;
  child.once("exit", () => (exited = true));
  await waitFor(
    () => {
      if (exited) throw new Error(`the server exited:\n${log()}`);
      try {
        return lookup(`ns1.${ZONE}`).length > 0;
      } catch {
        return false;
      }
    },
    { timeoutMs: 15_000, intervalMs: 100, what: "the DNS server to answer" },
  );
}

/** A server that does not come up is stopped and its directory removed before the error goes on. */
async function startedOrCleaned(child: ChildProcess, dir: string, lookup: DnsServer["lookup"], log: () => string): Promise<void> {
  try {
    await started(child, lookup, log);
  } catch (error) {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/** named -g on host:port with zone example.test (update-policy: the key may change A and AAAA). */
export async function startBind(records: readonly string[], host = "127.0.0.1"): Promise<DnsServer> {
  const dir = mkdtempSync(join(tmpdir(), "hdns-bind-"));
  const port = await freePort(host);
  writeFileSync(join(dir, "key.conf"), `key "${KEY_NAME}" { algorithm hmac-sha256; secret "${TSIG_SECRET}"; };\n`);
  writeFileSync(join(dir, `${ZONE}.zone`), zoneText(records));
  writeFileSync(
    join(dir, "named.conf"),
    `include "${dir}/key.conf";
options { directory "${dir}"; listen-on port ${port} { ${host}; }; listen-on-v6 { none; }; pid-file "${dir}/named.pid"; recursion no; dnssec-validation no; };
controls { };
zone "${ZONE}" { type primary; file "${dir}/${ZONE}.zone"; update-policy { grant ${KEY_NAME} zonesub A; grant ${KEY_NAME} zonesub AAAA; }; };
`,
  );
  return runServer(["named", "-g", "-c", join(dir, "named.conf")], "dig", host, port, dir);
}

/** knotd on host:port with zone example.test; the key may update it (ACL). */
export async function startKnot(records: readonly string[], host = "127.0.0.1"): Promise<DnsServer> {
  const dir = mkdtempSync(join(tmpdir(), "hdns-knot-"));
  const port = await freePort(host);
  writeFileSync(join(dir, `${ZONE}.zone`), zoneText(records));
  writeFileSync(
    join(dir, "knot.conf"),
    `server:
  rundir: "${dir}"
  listen: ${host}@${port}
key:
  - id: ${KEY_NAME}
    algorithm: hmac-sha256
    secret: ${TSIG_SECRET}
acl:
  - id: update
    key: ${KEY_NAME}
    action: update
database:
  storage: "${dir}"
template:
  - id: default
    storage: "${dir}"
    zonefile-sync: -1
    journal-content: changes
zone:
  - domain: ${ZONE}
    file: "${ZONE}.zone"
    acl: update
log:
  - target: stderr
    any: info
`,
  );
  return runServer(["knotd", "-c", join(dir, "knot.conf")], "kdig", host, port, dir);
}

/** Runs a DNS server in the foreground, waits until `tool` gets answers from it; stop() removes `dir`. */
async function runServer(argv: string[], tool: "dig" | "kdig", host: string, port: number, dir: string) {
  let output = "";
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout!.on("data", (chunk: Buffer) => (output = (output + chunk.toString()).slice(-8000)));
  child.stderr!.on("data", (chunk: Buffer) => (output = (output + chunk.toString()).slice(-8000)));
  const lookup = digWith(tool, host, port);
  await startedOrCleaned(child, dir, lookup, () => output);
  return {
    host,
    port,
    dir,
    lookup,
    async stop() {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
