/**
 * examples/announce-{frr,bird,exabgp}.yaml, and the configs in docs/announce.md,
 * load as they stand, without warnings, and show what the docs say they show.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parseConfigWith } from "../../src/config/index.ts";

const root = new URL("../../", import.meta.url).pathname;
const load = (text: string, sourceName: string) => parseConfigWith(text, { sourceName, interfaceNames: new Set(["eth0", "eth1", "eth2"]) });

test("examples/announce-frr.yaml: two VIPs (/32 and /128) behind FRR, an http check and an IPVS threshold", () => {
  const { config, warnings } = load(readFileSync(`${root}examples/announce-frr.yaml`, "utf8"), "announce-frr.yaml");
  assert.deepEqual(warnings, []);
  const announce = config.announce!;
  assert.equal(announce.backend.kind, "frr");
  const [service] = Object.values(announce.services);
  assert.deepEqual(service!.prefixes.map((p) => [p.prefix, p.routeMap]), [["192.0.2.10/32", "BGP1"], ["2001:db8::10/128", "BGP1"]]);
  assert.equal(config.checks![service!.checks[0]!]!.kind, "http");
  assert.deepEqual([service!.ipvs!.withdrawAtOrBelow, service!.ipvs!.announceAtOrAbove], [1, 3]);
});

test("examples/announce-bird.yaml: BIRD with its include file", () => {
  const { config, warnings } = load(readFileSync(`${root}examples/announce-bird.yaml`, "utf8"), "announce-bird.yaml");
  assert.deepEqual(warnings, []);
  assert.deepEqual(config.announce!.backend, { kind: "bird", birdc: ["/usr/sbin/birdc"], socket: "/run/bird/bird.ctl", includeFile: "/etc/bird/vpnham-announce.conf", protocol: "vpnham" });
});

test("examples/announce-exabgp.yaml: ExaBGP through Debian's pipes", () => {
  const { config, warnings } = load(readFileSync(`${root}examples/announce-exabgp.yaml`, "utf8"), "announce-exabgp.yaml");
  assert.deepEqual(warnings, []);
  assert.deepEqual(config.announce!.backend, { kind: "exabgp", pipeIn: "/run/exabgp/exabgp.in", pipeOut: "/run/exabgp/exabgp.out" });
  assert.deepEqual(Object.values(config.announce!.services)[0]!.prefixes.map((p) => p.prefix), ["192.0.2.10/32", "2001:db8::10/128"]);
});

test("the configs in docs/announce.md load without warnings", () => {
  const text = readFileSync(`${root}docs/announce.md`, "utf8");
  const blocks = [...text.matchAll(/^```ya?ml\n([\s\S]*?)^```$/gm)].map((m) => m[1]!).filter((b) => /^(announce|checks):/m.test(b));
  assert.ok(blocks.length >= 1);
  for (const block of blocks) assert.deepEqual(load(block, "docs/announce.md").warnings, []);
});
