import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { birdcConfigureArgv, birdcShowArgv, parseBirdRoutes, planBirdRoutes, renderBirdInclude } from "../../src/announce/bird.ts";
import type { DesiredPrefix } from "../../src/announce/decide.ts";
import type { BirdBackend } from "../../src/announce/model.ts";

const backend: BirdBackend = { kind: "bird", birdc: ["birdc"], socket: "/run/bird/bird.ctl", includeFile: "/etc/bird/vpnham.conf", protocol: "vpnham" };
const want = (prefix: string, announce: boolean): DesiredPrefix => ({ prefix, family: prefix.includes(":") ? 6 : 4, announce });

describe("BIRD", () => {
  test("show route: the captured peer table, and our own protocol's routes", () => {
    const captured = readFileSync(new URL("./fixtures/bird-show-route.txt", import.meta.url), "utf8");
    assert.deepEqual(parseBirdRoutes(captured, 4), ["192.0.2.20/32"]);
    const ours = "BIRD 2.0.12 ready.\nTable master6:\n2001:db8::10/128     blackhole [vpnham6 14:24:30.109] * (200)\n2001:DB8::11/128     blackhole [vpnham6 14:24:30.109] * (200)\n";
    assert.deepEqual(parseBirdRoutes(ours, 6), ["2001:db8::10/128", "2001:db8::11/128"]);
    assert.deepEqual(parseBirdRoutes(ours, 4), []);
  });

  test("plan: none when in sync; held and foreign routes stay", () => {
    const actual = new Set(["192.0.2.10/32", "203.0.113.0/24"]);
    assert.equal(planBirdRoutes([want("192.0.2.10/32", true), want("192.0.2.11/32", false)], actual), undefined);
    assert.deepEqual(planBirdRoutes([want("192.0.2.10/32", false), want("2001:db8::10/128", true)], actual), ["203.0.113.0/24", "2001:db8::10/128"]);
  });

  test("the include file has both protocols, even empty", () => {
    assert.equal(
      renderBirdInclude(backend, ["2001:db8::10/128", "192.0.2.10/32"]),
      "# Written by vpnham (announce:, docs/announce.md); rewritten on every change, do not edit.\n" +
        "protocol static vpnham4 {\n  ipv4;\n  route 192.0.2.10/32 blackhole;\n}\n" +
        "protocol static vpnham6 {\n  ipv6;\n  route 2001:db8::10/128 blackhole;\n}\n",
    );
    assert.match(renderBirdInclude(backend, []), /protocol static vpnham4 \{\n  ipv4;\n\}\nprotocol static vpnham6 \{\n  ipv6;\n\}\n$/);
  });

  test("birdc argv", () => {
    assert.deepEqual(birdcShowArgv(backend, 6), ["birdc", "-s", "/run/bird/bird.ctl", "show", "route", "protocol", "vpnham6"]);
    const { socket: _, ...plain } = backend;
    assert.deepEqual(birdcConfigureArgv(plain), ["birdc", "configure"]);
  });
});
