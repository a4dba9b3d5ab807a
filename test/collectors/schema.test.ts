import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { assertProblem, base, load, problemsOf } from "../config/support.ts";

const example = (name: string) => readFileSync(new URL(`../../examples/${name}`, (import.meta as unknown as { url: string }).url), "utf8");

describe("collectors: and metrics.textfile_path in the config", () => {
  test("absent: no collectors, no textfile", () => {
    const { config } = load(base());
    assert.equal(config.collectors, undefined);
    assert.equal(config.metrics.textfilePath, undefined);
  });

  test("strongswan: {} takes every default", () => {
    const { config } = load({ ...base(), collectors: { strongswan: {} } });
    assert.deepEqual(config.collectors, { compatNames: false, strongswan: { socketPath: "/var/run/charon.vici", intervalMs: 15_000, timeoutMs: 5_000 } });
  });

  test("bird: {} reads /run/bird/bird.ctl", () => {
    const { config } = load({ ...base(), collectors: { bird: {} } });
    assert.deepEqual(config.collectors, { compatNames: false, bird: { socketPath: "/run/bird/bird.ctl", intervalMs: 15_000, timeoutMs: 5_000 } });
  });

  test("libreswan: {} runs /usr/sbin/ipsec and expects nothing; connections are names", () => {
    const { config } = load({ ...base(), collectors: { libreswan: {} } });
    assert.deepEqual(config.collectors, { compatNames: false, libreswan: { ipsecPath: "/usr/sbin/ipsec", connections: [], intervalMs: 15_000, timeoutMs: 5_000 } });
    const set = load({ ...base(), collectors: { libreswan: { ipsec_path: "/usr/local/sbin/ipsec", ctl_socket: "/run/pluto/pluto.ctl", connections: ["dc1-to-dc2", "dc1-to-dc3/1x1"] } } });
    assert.deepEqual(set.config.collectors?.libreswan, {
      ipsecPath: "/usr/local/sbin/ipsec",
      ctlSocket: "/run/pluto/pluto.ctl",
      connections: ["dc1-to-dc2", "dc1-to-dc3/1x1"],
      intervalMs: 15_000,
      timeoutMs: 5_000,
    });
    assertProblem(problemsOf({ ...base(), collectors: { libreswan: { connections: ['dc "1"'] } } }), "collectors.libreswan.connections[0]", "connection name");
  });

  test("compat_names: true is kept; anything but a boolean is refused", () => {
    assert.equal(load({ ...base(), collectors: { compat_names: true, frr: {} } }).config.collectors?.compatNames, true);
    assertProblem(problemsOf({ ...base(), collectors: { compat_names: "yes", frr: {} } }), "collectors.compat_names", "true or false");
  });

  test("every key set", () => {
    const { config } = load({
      ...base(),
      metrics: { textfile_path: "/var/lib/node_exporter/textfile/vpnham.prom" },
      collectors: { strongswan: { socket_path: "/run/charon.vici", interval: "30s", timeout: "2s" } },
    });
    assert.deepEqual(config.collectors?.strongswan, { socketPath: "/run/charon.vici", intervalMs: 30_000, timeoutMs: 2_000 });
    assert.equal(config.metrics.textfilePath, "/var/lib/node_exporter/textfile/vpnham.prom");
  });

  const bad: [string, Record<string, unknown>, string, string][] = [
    ["timeout longer than the interval", { collectors: { strongswan: { interval: "5s", timeout: "10s" } } }, "collectors.strongswan.timeout", "longer than interval 5s"],
    ["an interval under 1s", { collectors: { strongswan: { interval: "100ms", timeout: "50ms" } } }, "collectors.strongswan.interval", "too short"],
    ["a relative socket path", { collectors: { strongswan: { socket_path: "charon.vici" } } }, "collectors.strongswan.socket_path", "absolute"],
    ["an unknown collector", { collectors: { racoon: {} } }, "collectors.racoon", "unknown key"],
    ["an unknown key", { collectors: { strongswan: { socket: "/x" } } }, "collectors.strongswan.socket", "unknown key"],
    ["a textfile not named *.prom", { metrics: { textfile_path: "/var/lib/node_exporter/vpnham.txt" } }, "metrics.textfile_path", ".prom"],
    ["a relative textfile", { metrics: { textfile_path: "vpnham.prom" } }, "metrics.textfile_path", "absolute"],
  ];
  for (const [what, extra, path, fragment] of bad) {
    test(`rejects ${what}, naming ${path}`, () => {
      assertProblem(problemsOf({ ...base(), ...extra }), path, fragment);
    });
  }

  test("examples/exporter-only.yaml: no bridge, strongSwan at /var/run/charon.vici and FRR, the blog's names", () => {
    const { config, warnings } = load(example("exporter-only.yaml"));
    assert.deepEqual(warnings, []);
    assert.equal(config.bridges.length, 0);
    assert.deepEqual(config.collectors, {
      compatNames: true,
      strongswan: { socketPath: "/var/run/charon.vici", intervalMs: 15_000, timeoutMs: 5_000 },
      frr: { vtyshPath: "/usr/bin/vtysh", intervalMs: 15_000, timeoutMs: 5_000 },
    });
    assert.equal(config.metrics.listenAddr.text, "0.0.0.0:8000");
  });

  test("examples/ipsec-aware.yaml: a tunnel pair and the collectors of its IPsec and BGP", () => {
    const { config } = load(example("ipsec-aware.yaml"));
    assert.deepEqual(config.bridges[0]?.tunnels.map((t) => [t.name, t.ipsec]), [
      ["vti0", { conn: "dc2-a", child: "dc2-a-net" }],
      ["vti1", { conn: "dc2-b", child: "dc2-b-net" }],
    ]);
    assert.equal(config.collectors?.strongswan?.socketPath, "/var/run/charon.vici");
  });
});
