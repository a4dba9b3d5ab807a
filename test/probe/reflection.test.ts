// docs/hardening.md "Reflected probes": an attacker who sees a host's probe requests bounces
// each one, unchanged, off that host's own responders and feeds the (validly signed) replies
// back. The host must never count that as its far end answering.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { parseConfig } from "../../src/config/index.ts";
import { startDaemon } from "../../src/daemon/daemon.ts";
import { decodeProbe, isRequest, PROBE_SIZE } from "../../src/probe/wire.ts";
import { waitFor } from "../../src/util/wait.ts";
import { configYaml, type BridgeSpec } from "../support/bridge-yaml.ts";

const HOST_A = "127.77.3.1";
/** Where A's tunnels probe: the dead far ends, whose addresses the attacker holds. */
const FAR_END = "127.77.3.9";
const SECRET = "reflect me if you can";
const INTERVAL_MS = 50;

/**
 * Host A: bridge "refl-a" with two tunnels, bridge "refl-b" (same secret, as operators do)
 * with one; every far end is dead. Ports differ per run so the two runs never share a socket.
 */
function hostA(secret: boolean, portBase: number): { yaml: string; tunnelPorts: number[] } {
  const tunnel = (name: string, role: "active" | "standby", port: number) => ({
    name,
    role,
    addr: `${HOST_A}:${port}`,
    probeAddr: `${FAR_END}:${port}`,
    thresholdDown: 3,
    thresholdUp: 2,
  });
  const bridge = (name: string, statusPort: number, tunnels: BridgeSpec["tunnels"]): BridgeSpec => ({
    name,
    role: "active",
    bridgeInterface: "lo",
    statusAddr: `${HOST_A}:${statusPort}`,
    partnerUrl: "http://127.77.3.250:18080/",
    probeInterval: `${INTERVAL_MS}ms`,
    partnerTimeout: "20ms",
    ...(secret ? { secret: SECRET } : {}),
    tunnels,
  });
  const yaml = configYaml(
    [
      bridge("refl-a", portBase + 80, [tunnel("t1", "active", portBase + 1), tunnel("t2", "standby", portBase + 2)]),
      bridge("refl-b", portBase + 81, [tunnel("t1", "active", portBase + 3)]),
    ],
    `${HOST_A}:${portBase + 90}`,
  );
  return { yaml, tunnelPorts: [portBase + 1, portBase + 2, portBase + 3] };
}

/**
 * The attacker holds every far-end address. Each request it receives goes, unchanged, to every
 * one of A's tunnel sockets (its own responder, its sibling tunnel's, the other bridge's); each
 * reply that comes back goes, unchanged, to every one of A's sockets too.
 */
async function startReflector(ports: number[]) {
  const stats = { requests: 0, replies: 0 };
  const sockets: dgram.Socket[] = [];
  for (const port of ports) {
    const s = dgram.createSocket("udp4");
    s.on("message", (msg) => {
      const decoded = decodeProbe(msg.subarray(0, PROBE_SIZE));
      if (!decoded.ok) return;
      if (isRequest(decoded.probe)) stats.requests++;
      else stats.replies++;
      for (const target of ports) s.send(msg, target, HOST_A);
    });
    await new Promise<void>((resolve, reject) => {
      s.once("error", reject);
      s.bind(port, FAR_END, () => resolve());
    });
    sockets.push(s);
  }
  return { stats, close: () => Promise.all(sockets.map((s) => new Promise<void>((r) => s.close(() => r())))) };
}

for (const secret of [true, false]) {
  describe(`reflected probes (${secret ? "with" : "without"} a secret)`, () => {
    test("bouncing a host's requests off its own responders never brings its dead tunnels up", async () => {
      const { yaml, tunnelPorts } = hostA(secret, secret ? 13100 : 13200);
      const reflector = await startReflector(tunnelPorts);
      const daemon = await startDaemon(parseConfig(yaml).config);
      try {
        const bridges = [daemon.bridges().get("refl-a")!, daemon.bridges().get("refl-b")!];
        const tunnels = [bridges[0]!, bridges[0]!, bridges[1]!].map((b, i) => () => b.tunnelHealth(i === 1 ? "t2" : "t1")!);
        // Ten intervals of bouncing (threshold_up is 2): it would have been up long before.
        await waitFor(() => reflector.stats.requests >= 30, { timeoutMs: 5000, what: "30 requests at the attacker" });
        const deadline = Date.now() + 10 * INTERVAL_MS;
        while (Date.now() < deadline) {
          for (const health of tunnels) assert.equal(health().verdict, "down");
          for (const b of bridges) assert.equal(b.state.bridgeActive, false);
          await new Promise((r) => setTimeout(r, 10));
        }
        assert.equal(reflector.stats.replies, 0, "no responder of A answered A's own requests");
        const scrape = await daemon.metrics.registry.metrics();
        for (const [bridge, tunnel] of [["refl-a", "t1"], ["refl-a", "t2"], ["refl-b", "t1"]]) {
          assert.match(scrape, new RegExp(`vpnham_probes_returned_total\\{bridge="${bridge}",tunnel="${tunnel}"\\} 0\\n`));
          assert.match(scrape, new RegExp(`vpnham_datagrams_malformed_total\\{bridge="${bridge}",tunnel="${tunnel}",reason="own_request"\\} [1-9]`));
        }
      } finally {
        await daemon.stop();
        await reflector.close();
      }
    });
  });
}
