import assert from "node:assert/strict";
import { stringify } from "yaml";
import { parseConfigWith, type LoadResult, type ParseOptions } from "../../src/config/index.ts";
import { UserError } from "../../src/util/errors.ts";

/** Interfaces the tests pretend exist, so warnings stay quiet unless a test wants them. */
export const hostInterfaces: ReadonlySet<string> = new Set(["lo", "eth0", "eth1", "eth2", "eth3"]);

type Data = Record<string, any>;

/** A fresh, valid Shape 1 config as plain data; tests mutate it. */
export function base(): Data {
  return {
    bridges: {
      b: {
        role: "active",
        bridge_interface: "eth0",
        peer_cidr: "10.1.0.0/16",
        status_addr: "10.0.0.2:8080",
        partner_url: "http://10.0.0.3:8080/",
        probe_interval: "1s",
        partner_status_timeout: "500ms",
        tunnel_interfaces: {
          eth1: { role: "active", addr: "192.168.255.2:3003", probe_addr: "192.168.255.3:3003" },
          eth2: { role: "standby", addr: "192.168.255.18:3003", probe_addr: "192.168.255.19:3003" },
        },
      },
    },
  };
}

export function load(config: Data | string, options: ParseOptions = {}): LoadResult {
  const text = typeof config === "string" ? config : stringify(config);
  return parseConfigWith(text, { interfaceNames: hostInterfaces, ...options });
}

/** The problem lines of a config that must fail. */
export function problemsOf(config: Data | string, options: ParseOptions = {}): readonly string[] {
  try {
    load(config, options);
  } catch (error) {
    assert.ok(error instanceof UserError, `expected a UserError, got ${String(error)}`);
    return error.problems;
  }
  assert.fail("the config loaded, but it should have failed");
}

/** Asserts that exactly one problem line starts with `path: ` and contains every fragment. */
export function assertProblem(problems: readonly string[], path: string, ...fragments: string[]): void {
  const lines = problems.filter((line) => line.startsWith(`${path}: `));
  assert.equal(lines.length, 1, `expected one problem at ${path}, got:\n${problems.join("\n")}`);
  for (const fragment of fragments) assert.ok(lines[0]!.includes(fragment), `"${lines[0]}" lacks "${fragment}"`);
}
