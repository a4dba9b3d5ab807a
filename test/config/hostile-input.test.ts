import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { stringify } from "yaml";
import { conflicts, type Socket } from "../../src/config/checks.ts";
import { bindsConflict, parseHostPort } from "../../src/config/address.ts";
import { MAX_REPORTED_PROBLEMS } from "../../src/config/load.ts";
import { base, load, problemsOf } from "./support.ts";

/**
 * Configs built to exhaust the loader (docs/hardening.md, "Files the daemon reads"): alias
 * bombs, huge numbers of keys or addresses, deep nesting. Each is a clean list of problems,
 * in time linear in the text.
 */

/** CPU time of fn in ms (wall time would measure the other processes on a loaded machine too). */
function cpuMs(fn: () => void): number {
  const before = process.cpuUsage();
  fn();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

function failing(text: string): { problems: readonly string[]; message: string } {
  try {
    load(text);
  } catch (error) {
    return { problems: (error as { problems: readonly string[] }).problems, message: (error as Error).message };
  }
  assert.fail("the config loaded, but it should have failed");
}

const baseText = () => stringify(base());

describe("alias bombs", () => {
  test("billion laughs: nested aliases are one problem line, not an exception", () => {
    const levels = ["a: &a [x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 10; i++) {
      const [previous, name] = [String.fromCharCode(96 + i), String.fromCharCode(97 + i)];
      levels.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(", ")}]`);
    }
    assert.deepEqual(problemsOf(levels.join("\n")), ["YAML: too many alias expansions (more than 100; an alias bomb?)"]);
  });

  test("one wide anchor used a few times past the value budget", () => {
    const text = `a: &a [${Array(200_000).fill("x").join(",")}]\nb: [*a, *a, *a, *a, *a, *a]\n`;
    assert.deepEqual(problemsOf(text), ["YAML: too many alias expansions (the data would hold more than 1000000 values; an alias bomb?)"]);
  });

  test("ordinary anchors and merges still work", () => {
    const text = `default_scripts: &hooks\n  bridge_activate: [["true"]]\n${baseText()}`.replace(
      "    role: active\n    bridge_interface",
      '    scripts: { <<: *hooks, bridge_deactivate: [["false"]] }\n    role: active\n    bridge_interface',
    );
    const { hooks } = load(text).config.bridges[0]!;
    assert.deepEqual([hooks.bridge_activate.commands, hooks.bridge_deactivate.commands], [[["true"]], [["false"]]]);
    assert.deepEqual(problemsOf(text.replace("<<: *hooks", "<<: [1]")), ["YAML: Merge sources must be maps or map aliases"]);
  });
});

describe("many keys", () => {
  const unknownKeys = (n: number, indent: string) => Array.from({ length: n }, (_, i) => `${indent}k${i}: 1`).join("\n") + "\n";

  for (const [where, indent, prefix] of [["at the top", "", ""], ["in a bridge", "    ", "bridges.b."]] as const) {
    test(`100 000 unknown keys ${where}: the first ${MAX_REPORTED_PROBLEMS} reported, the rest counted, in linear time`, () => {
      let result: ReturnType<typeof failing> | undefined;
      const big = cpuMs(() => void (result = failing(baseText() + unknownKeys(100_000, indent))));
      const small = cpuMs(() => void failing(baseText() + unknownKeys(10_000, indent)));
      assert.equal(result!.message, "config <text>: 100000 problems");
      assert.equal(result!.problems.length, MAX_REPORTED_PROBLEMS + 1);
      assert.equal(result!.problems[0], `${prefix}k0: unknown key`);
      assert.equal(result!.problems.at(-1), `… and ${100_000 - MAX_REPORTED_PROBLEMS} more problems`);
      // A hang guard (the issue: it took 15 s), not a speed measure: bench/config-hostile.ts
      // prints the figures.
      assert.ok(big < 10_000, `${Math.round(big)} ms of CPU for 100 000 keys (10 000 keys: ${Math.round(small)} ms)`);
    });
  }

  test("a misspelt key still gets its hint", () => {
    const data = base();
    data.bridges.b.prob_interval = "1s";
    assert.ok(problemsOf(data).includes("bridges.b.prob_interval: unknown key (did you mean probe_interval?)"));
  });

  test("a megabyte-long unknown key does not make the hint slow", () => {
    const data = base();
    data.bridges.b["x".repeat(1 << 20)] = 1;
    assert.ok(cpuMs(() => void problemsOf(data)) < 5000, "hang guard");
  });

  test("100 000 duplicate keys: each reported by line, in linear time", () => {
    let result: ReturnType<typeof failing> | undefined;
    const ms = cpuMs(() => void (result = failing("bridges: {}\n" + "k: 1\n".repeat(100_000))));
    assert.equal(result!.message, "config <text>: 99999 problems");
    assert.equal(result!.problems[0], "YAML: Map keys must be unique at line 3, column 1");
    assert.ok(ms < 10_000, `${Math.round(ms)} ms of CPU (hang guard)`);
  });

  test("duplicate keys are reported in document order, nested ones too", () => {
    assert.deepEqual(problemsOf("a: 1\nb: {x: 1, y: 2, x: 3}\na: 2\n"), [
      "YAML: Map keys must be unique at line 2, column 17",
      "YAML: Map keys must be unique at line 3, column 1",
    ]);
  });

  test("nesting 5000 deep is read or refused quickly, never a crash", () => {
    const text = `${baseText()}x: ${"[".repeat(5000)}${"]".repeat(5000)}\n`;
    let problems: readonly string[] = [];
    assert.ok(cpuMs(() => void (problems = problemsOf(text))) < 10_000, "hang guard");
    assert.ok(problems.length > 0 && problems.every((p) => p.startsWith("YAML: ") || p.startsWith("x: ")), problems.join("\n"));
  });
});

describe("address conflicts in linear time", () => {
  test("20 000 status addresses on one port", () => {
    const sockets: Socket[] = Array.from({ length: 20_000 }, (_, i) => ({
      path: `bridges.b${i}.status_addr`,
      address: hostPort(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:8080`),
    }));
    sockets.push({ path: "metrics.listen_addr", address: hostPort("0.0.0.0:8080") });
    let found: string[] = [];
    assert.ok(cpuMs(() => void (found = conflicts(sockets, "TCP"))) < 5000, "hang guard");
    assert.deepEqual(found, ["metrics.listen_addr: 0.0.0.0:8080 conflicts with bridges.b0.status_addr (10.0.0.0:8080): both listen on TCP port 8080"]);
  });

  test("the indexed check names the same earliest conflict as comparing every pair", () => {
    const pool = ["10.0.0.1", "10.0.0.2", "0.0.0.0", "[::]", "[::1]", "[fe80::1]"].flatMap((h) => [`${h}:1`, `${h}:2`]);
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed / 2 ** 31);
    for (let round = 0; round < 300; round++) {
      const sockets: Socket[] = Array.from({ length: 1 + Math.floor(random() * 6) }, (_, i) => ({
        path: `s${i}`,
        address: hostPort(pool[Math.floor(random() * pool.length)]!),
      }));
      const pairwise = sockets.flatMap((socket, index) => {
        const earlier = sockets.slice(0, index).find((other) => bindsConflict(other.address, socket.address));
        return earlier ? [`${socket.path}: ${socket.address.text} conflicts with ${earlier.path} (${earlier.address.text}): both listen on UDP port ${socket.address.port}`] : [];
      });
      assert.deepEqual(conflicts(sockets, "UDP"), pairwise, sockets.map((s) => s.address.text).join(" "));
    }
  });
});

function hostPort(text: string) {
  const parsed = parseHostPort(text);
  assert.ok(parsed.ok, text);
  return parsed.value;
}
