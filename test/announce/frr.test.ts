import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import type { DesiredPrefix } from "../../src/announce/decide.ts";
import { parseFrrRunningConfig, planFrr, vtyshChangeArgv, vtyshReadArgv, type FrrActual } from "../../src/announce/frr.ts";

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");

describe("FRR: running config", () => {
  test("the captured config of integrations' instance A", () => {
    assert.deepEqual(parseFrrRunningConfig(fixture("frr-running-basic.txt")), { asn: 65001, networks: new Map([["192.0.2.10/32", { family: 4 }]]) });
  });

  test("route-maps, IPv6, and neither multicast nor VRF instances", () => {
    assert.deepEqual(parseFrrRunningConfig(fixture("frr-running-full.txt")), {
      asn: 65001,
      networks: new Map([
        ["192.0.2.10/32", { family: 4, routeMap: "BGP2" }],
        ["198.51.100.0/24", { family: 4 }],
        ["2001:db8::10/128", { family: 6 }],
      ]),
    });
  });

  test("Quagga style: IPv4 networks straight under router bgp, blocks ended by '!'", () => {
    const text = "router bgp 64512\n bgp router-id 1.2.3.4\n network 192.0.2.1/32 route-map BGP1\n network 192.0.2.2/32\n!\nip prefix-list x seq 5 permit any\n network 192.0.2.3/32\n";
    assert.deepEqual(parseFrrRunningConfig(text), {
      asn: 64512,
      networks: new Map([
        ["192.0.2.1/32", { family: 4, routeMap: "BGP1" }],
        ["192.0.2.2/32", { family: 4 }],
      ]),
    });
  });

  test("no BGP instance (bgpd not running): no AS number, no networks", () => {
    assert.deepEqual(parseFrrRunningConfig("Building configuration...\n!\nhostname vm\n!\nend\n"), { networks: new Map() });
  });
});

describe("FRR: plan", () => {
  const actual: FrrActual = parseFrrRunningConfig(fixture("frr-running-full.txt"));
  const want = (prefix: string, announce: boolean, routeMap?: string): DesiredPrefix => ({
    prefix,
    family: prefix.includes(":") ? 6 : 4,
    announce,
    ...(routeMap ? { routeMap } : {}),
  });
  const table: [string, DesiredPrefix[], ReturnType<typeof planFrr>][] = [
    ["in sync: nothing", [want("192.0.2.10/32", true, "BGP2"), want("2001:db8::10/128", true), want("192.0.2.11/32", false)], []],
    ["a missing prefix is added with its route-map", [want("192.0.2.11/32", true, "BGP1")], [{ family: 4, commands: ["network 192.0.2.11/32 route-map BGP1"] }]],
    ["another route-map replaces the line", [want("192.0.2.10/32", true, "BGP1")], [{ family: 4, commands: ["network 192.0.2.10/32 route-map BGP1"] }]],
    ["dropping the route-map rewrites the line without one", [want("192.0.2.10/32", true)], [{ family: 4, commands: ["network 192.0.2.10/32"] }]],
    [
      "withdraws per family, IPv4 first",
      [want("2001:db8::10/128", false), want("192.0.2.10/32", false)],
      [
        { family: 4, commands: ["no network 192.0.2.10/32"] },
        { family: 6, commands: ["no network 2001:db8::10/128"] },
      ],
    ],
    ["an absent prefix to withdraw: nothing", [want("2001:db8::99/128", false)], []],
    ["prefixes outside the desired list are never touched (198.51.100.0/24 stays)", [], []],
  ];
  for (const [name, desired, expected] of table) test(name, () => assert.deepEqual(planFrr(desired, actual), expected));
});

describe("FRR: vtysh argv", () => {
  test("plain vtysh", () => {
    assert.deepEqual(vtyshReadArgv({ kind: "frr", vtysh: ["vtysh"] }), ["vtysh", "-c", "show running-config"]);
  });
  test("a namespace (FRR pathspace) and a socket directory, one -c per line", () => {
    assert.deepEqual(
      vtyshChangeArgv({ kind: "frr", vtysh: ["/usr/bin/vtysh"], namespace: "dc1", socketDir: "/run/frr/dc1" }, 65001, {
        family: 6,
        commands: ["network 2001:db8::10/128 route-map BGP6", "no network 2001:db8::11/128"],
      }),
      [
        "/usr/bin/vtysh",
        "-N",
        "dc1",
        "--vty_socket",
        "/run/frr/dc1",
        ...["configure terminal", "router bgp 65001", "address-family ipv6 unicast", "network 2001:db8::10/128 route-map BGP6", "no network 2001:db8::11/128", "end"].flatMap((l) => ["-c", l]),
      ],
    );
  });
});
