// The BIRD collector against a fake control socket speaking BIRD's line protocol (the replies of
// a real BIRD 2.0.12, test/collectors/fixtures/bird/): what it sends, how it splits replies, and
// that every failure — refusal, silence, flood, hang-up, a socket that is not BIRD's — is a
// failed collection, never a hang.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";
import { queryBird } from "../../src/collectors/bird/client.ts";
import { BIRD_COMMANDS, createBirdCollector } from "../../src/collectors/bird/collector.ts";
import { startCollectors, type CollectorsRuntimeConfig } from "../../src/collectors/index.ts";
import type { CollectorKind } from "../../src/collectors/kinds.ts";
import { frrFamilies } from "../../src/collectors/frr/samples.ts";
import { configureLogger } from "../../src/util/log.ts";
import { parsePromText } from "../metrics/support.ts";

const transcript = readFileSync(new URL("./fixtures/bird/socket-established.txt", (import.meta as unknown as { url: string }).url), "utf8");
/** The fixture's raw replies: greeting, then one per command. */
const raw: string[] = [];
{
  let current = "";
  for (const line of transcript.split("\n")) {
    if (line === "" && current === "") continue;
    current += `${line}\n`;
    if (/^\d{4}( |$)/.test(line)) {
      raw.push(current);
      current = "";
    }
  }
}

type Behaviour = (socket: Socket, received: string[]) => void;

/** Answers each command line with the fixture's reply, optionally one byte per write. */
const faithful =
  (options: { bytewise?: boolean; replace?: Record<string, string> } = {}): Behaviour =>
  (socket, received) => {
    const write = (text: string) => {
      if (!options.bytewise) return void socket.write(text);
      for (const ch of Buffer.from(text)) socket.write(Buffer.from([ch]));
    };
    write(raw[0]!);
    let buffer = "";
    socket.on("data", (chunk) => {
      buffer += chunk.toString();
      let i: number;
      while ((i = buffer.indexOf("\n")) >= 0) {
        const command = buffer.slice(0, i);
        buffer = buffer.slice(i + 1);
        received.push(command);
        const index = (BIRD_COMMANDS as readonly string[]).indexOf(command);
        write(options.replace?.[command] ?? raw[index + 1] ?? "9001 syntax error\n");
      }
    });
  };

describe("BIRD control-socket client", () => {
  let dir: string;
  const servers: Server[] = [];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "hc2-bird-"));
    configureLogger({ level: "silent" });
  });
  after(() => {
    for (const s of servers) s.close();
    rmSync(dir, { recursive: true, force: true });
    configureLogger({ level: "info" });
  });

  let n = 0;
  async function fake(behaviour: Behaviour): Promise<{ path: string; received: string[] }> {
    const path = join(dir, `bird${(n += 1)}.ctl`);
    const received: string[] = [];
    const server = createServer((socket) => {
      socket.on("error", () => {});
      behaviour(socket, received);
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(path, resolve));
    return { path, received };
  }
  const collect = (path: string, timeoutMs = 2000) => createBirdCollector({ socketPath: path, intervalMs: 15_000, timeoutMs }).collect(AbortSignal.timeout(timeoutMs));

  test("restricts the session first, then reads status and protocols; samples as from birdc", async () => {
    const { path, received } = await fake(faithful());
    const samples = await collect(path);
    assert.deepEqual(received, ["restrict", "show status", "show protocols all"]);
    const up = samples.find((s) => s.name === "vpnham_bgp_peer_up");
    assert.deepEqual(up, { name: "vpnham_bgp_peer_up", labels: { vrf: "default", afi_safi: "ipv4_unicast", peer: "10.96.0.1", peer_as: "65001" }, value: 1 });
  });

  test("a reply cut into single bytes (and a multi-byte character) reads the same", async () => {
    const { path } = await fake(faithful({ bytewise: true, replace: { "show status": "1000-BIRD 2.0.12\n 路由 Current server time is 2026-12-02 14:29:12.325\n0013 Daemon is up and running\n" } }));
    const samples = await collect(path);
    assert.equal(samples.find((s) => s.name === "vpnham_bgp_peer_established_seconds")?.value !== undefined, true);
  });

  test("BIRD refusing restrict (an old BIRD, a proxy) is a failure: vpnham never runs an unrestricted session", async () => {
    const { path, received } = await fake(faithful({ replace: { restrict: "8007 Access denied\n" } }));
    await assert.rejects(collect(path), /read-only session: Access denied/);
    assert.ok(received.length <= 3);
  });

  test("a socket that is not BIRD's, silence, a flood, a hang-up, no socket: each fails, bounded", async () => {
    const notBird = await fake((socket) => socket.write("SSH-2.0-OpenSSH_9.2\r\n0000 \n"));
    await assert.rejects(collect(notBird.path), /not a BIRD control socket/);

    const silent = await fake(() => {});
    const started = performance.now();
    await assert.rejects(collect(silent.path, 300), /did not answer in time/);
    assert.ok(performance.now() - started < 5_000, "hang guard");

    const flood = await fake((socket) => {
      socket.write(raw[0]!);
      socket.once("data", () => {
        const line = `1006-${"x".repeat(1000)}\n`;
        const pump = () => {
          while (!socket.destroyed && socket.write(line));
          if (!socket.destroyed) socket.once("drain", pump);
        };
        pump();
      });
    });
    await assert.rejects(queryBird(flood.path, ["show protocols all"], { signal: AbortSignal.timeout(5000), maxBytes: 100_000 }), /more than 100000 bytes/);

    const hangUp = await fake((socket) => {
      socket.write(raw[0]!);
      socket.once("data", () => socket.end("1002-peer_a     BGP        ---        up     14:28:17.235  Established\n"));
    });
    await assert.rejects(collect(hangUp.path), /closed the connection/);

    await assert.rejects(collect(join(dir, "absent.ctl")), /ENOENT/);
  });

  test("with FRR's collector next to it, one family holds both daemons' peers", async () => {
    const { path } = await fake(faithful());
    const frrLike = {
      name: "frr",
      families: frrFamilies,
      create: () => ({
        name: "frr",
        families: frrFamilies,
        collect: async () => [{ name: "vpnham_bgp_peer_up", labels: { vrf: "default", afi_safi: "ipv4_unicast", peer: "10.99.0.2", peer_as: "65002" }, value: 0 }],
      }),
    } as unknown as CollectorKind;
    const birdKind = { name: "bird", families: createBirdCollector({ socketPath: path, intervalMs: 1, timeoutMs: 1 }).families, create: () => createBirdCollector({ socketPath: path, intervalMs: 60_000, timeoutMs: 2000 }) } as unknown as CollectorKind;
    const registry = new Registry();
    const timing = { intervalMs: 60_000, timeoutMs: 2000 };
    const collectors = startCollectors({ collectors: { frr: timing, bird: timing } } as unknown as CollectorsRuntimeConfig, registry, { kinds: [frrLike, birdKind] });
    try {
      const statuses = await collectors.runNow();
      assert.deepEqual(statuses.map((s) => [s.name, s.success]), [["frr", true], ["bird", true]]);
      const { families, problems } = parsePromText(await registry.metrics());
      assert.deepEqual(problems, []);
      assert.deepEqual(families.get("vpnham_bgp_peer_up")?.samples.map((s) => [s.labels["peer"], s.value]), [["10.99.0.2", 0], ["10.96.0.1", 1]]);
    } finally {
      await collectors.stop();
    }
    assert.equal((await registry.metrics()).includes("vpnham_bgp_peer_up"), false, "stop unregisters the shared family once");
  });
});
