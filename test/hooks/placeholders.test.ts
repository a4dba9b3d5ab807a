import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { interfaceIp, placeholderValues, substitute } from "../../src/hooks/placeholders.ts";
import { scanPlaceholders as placeholdersIn } from "../../src/config/placeholders.ts";

describe("substitute", () => {
  const values = { bridge_interface: "eth0", bridge_peer_cidr: "10.0.0.0/16", proto: "4" };

  test("replaces every known placeholder in every element", () => {
    assert.deepEqual(
      substitute(["ip", "-${proto}", "route", "replace", "${bridge_peer_cidr}", "dev", "${bridge_interface}"], values),
      ["ip", "-4", "route", "replace", "10.0.0.0/16", "dev", "eth0"],
    );
    assert.deepEqual(substitute(["x${bridge_interface}y${bridge_interface}"], values), ["xeth0yeth0"]);
  });

  test("leaves shell syntax alone", () => {
    const argv = ["sh", "-c", 'echo ${HOME} ${X:-y} $bridge_interface ${VPNHAM_EVENT} ${} "${bridge_interface}"'];
    assert.deepEqual(substitute(argv, values), ["sh", "-c", 'echo ${HOME} ${X:-y} $bridge_interface ${VPNHAM_EVENT} ${} "eth0"']);
  });

  test("an unknown lower-case name throws", () => {
    assert.throws(() => substitute(["echo", "${bridge_iface}"], values), /unknown placeholder \$\{bridge_iface\}/);
    // Inherited object keys are not placeholders either.
    assert.throws(() => substitute(["${constructor}"], values), /unknown placeholder/);
  });

  test("placeholdersIn lists only lower-case names", () => {
    assert.deepEqual(placeholdersIn("a ${proto} ${HOME} ${x:-y} ${tunnel_interface}"), ["proto", "tunnel_interface"]);
  });
});

describe("placeholderValues", () => {
  test("IPv4 first: proto 4, first CIDR, split by family", () => {
    const values = placeholderValues({
      bridgeInterface: "eth0",
      bridgeInterfaceIp: "10.0.0.1",
      peerCidrs: ["10.1.0.0/16", "fd00::/64", "10.2.0.0/16", "fd01::/64"],
      tunnelInterface: "wg0",
      tunnelInterfaceIp: "192.168.255.2",
    });
    assert.deepEqual(values, {
      proto: "4",
      bridge_interface: "eth0",
      bridge_interface_ip: "10.0.0.1",
      bridge_peer_cidr: "10.1.0.0/16",
      bridge_peer_cidrs_ipv4: "10.1.0.0/16 10.2.0.0/16",
      bridge_peer_cidrs_ipv6: "fd00::/64 fd01::/64",
      tunnel_interface: "wg0",
      tunnel_interface_ip: "192.168.255.2",
    });
  });

  test("regression: bridge_peer_cidrs_ipv6 holds only IPv6 CIDRs (Go v0.0.18 appends them to the IPv4 list)", () => {
    const values = placeholderValues({ bridgeInterface: "eth0", peerCidrs: ["10.1.0.0/16", "fd00::/64", "fd01::/64"] });
    assert.equal(values.bridge_peer_cidrs_ipv6, "fd00::/64 fd01::/64");
    assert.equal(values.bridge_peer_cidrs_ipv4, "10.1.0.0/16");
  });

  test("IPv6 first: proto 6; absent tunnel and addresses are empty", () => {
    const values = placeholderValues({ bridgeInterface: "eth0", peerCidrs: ["fd00::/64", "10.1.0.0/16"] });
    assert.equal(values.proto, "6");
    assert.equal(values.bridge_peer_cidr, "fd00::/64");
    assert.equal(values.bridge_interface_ip, "");
    assert.equal(values.tunnel_interface, "");
    assert.equal(values.tunnel_interface_ip, "");
  });
});

describe("interfaceIp", () => {
  const fake = () => ({
    eth9: [
      { address: "fe80::1", family: "IPv6" },
      { address: "192.0.2.7", family: "IPv4" },
      { address: "2001:db8::7", family: "IPv6" },
    ],
  });

  test("first address of the family, global IPv6 before link-local", () => {
    assert.equal(interfaceIp("eth9", undefined, 4, fake), "192.0.2.7");
    assert.equal(interfaceIp("eth9", undefined, 6, fake), "2001:db8::7");
    assert.equal(interfaceIp("eth9", undefined, undefined, fake), "192.0.2.7");
  });

  test("falls back to the configured address, else empty", () => {
    assert.equal(interfaceIp("nope0", "10.9.9.9", 4, fake), "10.9.9.9");
    assert.equal(interfaceIp("nope0", undefined, 4, fake), "");
    assert.equal(interfaceIp("eth9", "10.9.9.9", 4, () => ({ eth9: [{ address: "::1", family: 6 }] })), "10.9.9.9");
  });

  test("reads this host's loopback", () => {
    assert.equal(interfaceIp("lo", "fallback", 4), "127.0.0.1");
  });
});
