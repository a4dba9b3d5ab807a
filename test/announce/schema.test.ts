import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { configModel } from "../../src/config/index.ts";
import { assertProblem, load, problemsOf } from "../config/support.ts";

type Data = Record<string, any>;

function withAnnounce(announce: Data, checks: Data = { web: { kind: "tcp", address: "127.0.0.1:80" } }): Data {
  return { checks, announce };
}

const service = { prefixes: ["192.0.2.10/32", "2001:db8::10/128"], checks: ["web"] };

describe("announce: schema", () => {
  test("a full section loads into the model with its defaults; announce alone is a valid config", () => {
    const { config } = load(
      withAnnounce({
        frr: { namespace: "dc1", asn: 65001 },
        services: {
          web: { ...service, route_map: "BGP1", route_maps: { "2001:DB8::10/128": "BGP6" } },
          lvs: { prefixes: ["198.51.100.0/24"], ipvs: { service: "TCP 198.51.100.1:80", withdraw_at_or_below: 1, announce_at_or_above: 3 } },
        },
      }),
    );
    configModel.parse(config);
    assert.deepEqual(config.announce, {
      backend: { kind: "frr", vtysh: ["vtysh"], namespace: "dc1", asn: 65001 },
      stateFile: "/var/lib/vpnham/announce-state.json",
      intervalMs: 10_000,
      timeoutMs: 5_000,
      damping: { minIntervalMs: 2_000, holdDownMs: 10_000, maxHoldDownMs: 300_000 },
      services: {
        web: {
          prefixes: [
            { prefix: "192.0.2.10/32", family: 4, routeMap: "BGP1" },
            { prefix: "2001:db8::10/128", family: 6, routeMap: "BGP6" },
          ],
          checks: ["web"],
        },
        lvs: {
          prefixes: [{ prefix: "198.51.100.0/24", family: 4 }],
          checks: [],
          ipvs: {
            service: { protocol: "TCP", host: "198.51.100.1", port: 80 },
            withdrawAtOrBelow: 1,
            announceAtOrAbove: 3,
            intervalMs: 5_000,
            timeoutMs: 1_000,
            thresholdDown: 3,
            thresholdUp: 2,
            path: "/proc/net/ip_vs",
          },
        },
      },
    });
    assert.equal(config.bridges.length, 0);
  });

  test("a BIRD backend", () => {
    const { config } = load(withAnnounce({ bird: { include_file: "/etc/bird/vpnham.conf", socket: "/run/bird/bird.ctl" }, services: { web: service } }));
    assert.deepEqual(config.announce!.backend, { kind: "bird", birdc: ["birdc"], socket: "/run/bird/bird.ctl", includeFile: "/etc/bird/vpnham.conf", protocol: "vpnham" });
  });

  test("a kernel backend, defaults", () => {
    const { config } = load(withAnnounce({ kernel: {}, services: { web: service } }));
    assert.deepEqual(config.announce!.backend, { kind: "kernel", ip: ["ip"], table: 254, protocol: 233 });
  });

  test("an ExaBGP backend: Debian's pipes by default, or others", () => {
    assert.deepEqual(load(withAnnounce({ exabgp: {}, services: { web: service } })).config.announce!.backend, {
      kind: "exabgp",
      pipeIn: "/run/exabgp/exabgp.in",
      pipeOut: "/run/exabgp/exabgp.out",
    });
    const { config } = load(withAnnounce({ exabgp: { pipe_in: "/run/exa/dc1.in", pipe_out: "/run/exa/dc1.out" }, services: { web: service } }));
    assert.deepEqual(config.announce!.backend, { kind: "exabgp", pipeIn: "/run/exa/dc1.in", pipeOut: "/run/exa/dc1.out" });
  });

  const refused: [string, Data, string, ...string[]][] = [
    ["no backend", { services: { web: service } }, "announce", "exactly one backend", "none is set"],
    ["two backends", { frr: {}, bird: { include_file: "/x" }, services: { web: service } }, "announce", "frr: and bird: are set"],
    ["host bits", { frr: {}, services: { web: { prefixes: ["192.0.2.10/24"] } } }, "announce.services.web.prefixes[0]", "host bits set", "192.0.2.0/24"],
    ["not a prefix", { frr: {}, services: { web: { prefixes: ["vip-1.example.com"] } } }, "announce.services.web.prefixes[0]", "missing /prefix"],
    ["a prefix twice in a service", { frr: {}, services: { web: { prefixes: ["192.0.2.10/32", "192.0.2.10/32"] } } }, "announce.services.web.prefixes[1]", "listed twice"],
    [
      "a prefix in two services",
      { frr: {}, services: { web: { prefixes: ["192.0.2.10/32"] }, api: { prefixes: ["192.0.2.10/32"] } } },
      "announce.services.api.prefixes",
      "also a prefix of service web",
    ],
    ["an unknown check", { frr: {}, services: { web: { prefixes: ["192.0.2.10/32"], checks: ["nope"] } } }, "announce.services.web.checks[0]", 'no check named "nope"', "have web"],
    ["a route-map with a space (vtysh injection)", { frr: {}, services: { web: { prefixes: ["192.0.2.10/32"], route_map: "A\nend" } } }, "announce.services.web.route_map", "must be 1..63 letters"],
    ["a route-map for another prefix", { frr: {}, services: { web: { prefixes: ["192.0.2.10/32"], route_maps: { "192.0.2.11/32": "X" } } } }, "announce.services.web.route_maps.192.0.2.11/32", "not one of the service's prefixes"],
    ["a namespace with a slash", { frr: { namespace: "../x" }, services: { web: service } }, "announce.frr.namespace", "must be 1..63 letters"],
    ["a relative state file", { frr: {}, state_file: "state.json", services: { web: service } }, "announce.state_file", "absolute path"],
    ["no services", { frr: {}, services: {} }, "announce.services", "at least one service"],
    ["a bad service name", { frr: {}, services: { "we b": service } }, "announce.services.we b", "service name"],
    [
      "IPVS thresholds the wrong way round",
      { frr: {}, services: { lvs: { prefixes: ["192.0.2.10/32"], ipvs: { service: "TCP 192.0.2.10:80", withdraw_at_or_below: 3, announce_at_or_above: 3 } } } },
      "announce.services.lvs.ipvs.announce_at_or_above",
      "not greater than withdraw_at_or_below 3",
    ],
    ["hold-down cap below hold-down", { frr: {}, damping: { hold_down: "1m", max_hold_down: "10s" }, services: { web: service } }, "announce.damping.max_hold_down", "shorter than hold_down"],
    ["a reserved route protocol", { kernel: { protocol: 4 }, services: { web: service } }, "announce.kernel.protocol"],
    ["a route-map with BIRD", { bird: { include_file: "/x" }, services: { web: { ...service, route_map: "BGP1" } } }, "announce.services.web", "route_map/route_maps are FRR's"],
    ["a route-map with ExaBGP", { exabgp: {}, services: { web: { ...service, route_maps: { "192.0.2.10/32": "BGP1" } } } }, "announce.services.web", "exabgp backend has none"],
    ["a relative ExaBGP pipe", { exabgp: { pipe_in: "exabgp.in" }, services: { web: service } }, "announce.exabgp.pipe_in", "absolute path"],
    ["ExaBGP beside kernel", { exabgp: {}, kernel: {}, services: { web: service } }, "announce", "kernel: and exabgp: are set"],
    ["an empty vtysh", { frr: { vtysh: [] }, services: { web: service } }, "announce.frr.vtysh", "empty command"],
    ["an unknown key", { frr: {}, services: { web: { ...service, prefix: "x" } } }, "announce.services.web.prefix", "did you mean prefixes"],
    ["neither prefixes nor dns_name", { frr: {}, services: { web: { checks: [] } } }, "announce.services.web.prefixes", "or a dns_name"],
    ["a dns_name that is not one", { frr: {}, services: { web: { dns_name: "bad name" } } }, "announce.services.web.dns_name", "not a DNS name"],
    ["a resolver that is a name", { frr: {}, services: { web: { dns_name: "web.example.test", resolver: "ns1.example.test" } } }, "announce.services.web.resolver", "not a resolver"],
    ["a resolver without dns_name", { frr: {}, services: { web: { ...service, resolver: "127.0.0.1" } } }, "announce.services.web.resolver", "only used with dns_name"],
  ];

  test("a service by DNS name, with static prefixes and a resolver", () => {
    const { config } = load(withAnnounce({ frr: {}, services: { web: { dns_name: "Web.Example.Test.", resolver: "[::1]:5353", route_map: "RM" }, db: { prefixes: ["198.51.100.0/24"], dns_name: "db.example.test" } } }));
    const web = config.announce!.services.web!;
    assert.deepEqual([web.prefixes, web.dnsName, web.resolver, web.routeMap], [[], "web.example.test", "[::1]:5353", "RM"]);
    const db = config.announce!.services.db!;
    assert.deepEqual([db.prefixes.map((p) => p.prefix), db.dnsName, db.resolver], [["198.51.100.0/24"], "db.example.test", undefined]);
  });
  for (const [name, announce, path, ...fragments] of refused) {
    test(`refused: ${name}`, () => assertProblem(problemsOf(withAnnounce(announce)), path, ...fragments));
  }
});
