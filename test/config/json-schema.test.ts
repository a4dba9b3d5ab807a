import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseDocument } from "yaml";
import { parseConfigWith } from "../../src/config/index.ts";
import { JSON_SCHEMA_FILE, configJsonSchema, configJsonSchemaText } from "../../src/config/json-schema.ts";
import { jobSections, rawConfigSchema } from "../../src/config/schema.ts";
import { REGENERATE_COMMAND } from "../../src/docs/generate.ts";
import { checkJsonSchema } from "../support/json-schema-check.ts";
import { base, problemsOf } from "./support.ts";

const root = resolve(dirname(fileURLToPath((import.meta as unknown as { url: string }).url)), "..", "..");
const schemaPath = join(root, "docs", JSON_SCHEMA_FILE);
const shipped = () => JSON.parse(readFileSync(schemaPath, "utf8")) as Record<string, unknown>;
const interfaces = new Set(["eth0", "eth1", "eth2", "lo"]);

/** The vpnham configs under examples/ (every *.yaml there), relative to examples/. */
function exampleFiles(dir = join(root, "examples"), prefix = ""): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.isDirectory()) return exampleFiles(join(dir, entry.name), `${prefix}${entry.name}/`);
    return entry.name.endsWith(".yaml") ? [`${prefix}${entry.name}`] : [];
  });
}

const yamlData = (text: string): unknown => parseDocument(text, { merge: true }).toJS();

describe("docs/vpnham.schema.json", () => {
  test("is the one generated from the zod schema", () => {
    assert.equal(readFileSync(schemaPath, "utf8"), configJsonSchemaText(), `docs/${JSON_SCHEMA_FILE} is stale: run \`${REGENERATE_COMMAND}\``);
  });

  test("its top-level properties are the zod schema's keys, and it asks for at least one job section", () => {
    const schema = shipped();
    assert.deepEqual(Object.keys(schema.properties as object), Object.keys(rawConfigSchema.shape));
    assert.deepEqual(schema.anyOf, jobSections.map((section) => ({ required: [section] })));
    assert.equal(schema.additionalProperties, false);
    assert.equal(schema.$schema, "http://json-schema.org/draft-07/schema#");
  });

  test("every example config passes it and loads; each names it in a yaml-language-server comment", () => {
    const files = exampleFiles();
    assert.ok(files.length >= 6, files.join(", "));
    for (const file of files) {
      const text = readFileSync(join(root, "examples", file), "utf8");
      const modeline = /^# yaml-language-server: \$schema=(\S+)$/m.exec(text);
      assert.ok(modeline, `${file}: no yaml-language-server comment`);
      assert.equal(resolve(join(root, "examples", dirname(file)), modeline[1]!), schemaPath, `${file}: the comment points elsewhere`);
      assert.deepEqual(checkJsonSchema(shipped(), yamlData(text)), [], file);
      parseConfigWith(text, { sourceName: file, interfaceNames: interfaces });
    }
  });

  test("the configs shown in the README and docs/ pass it", () => {
    const pages = ["README.md", ...readdirSync(join(root, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];
    let shown = 0;
    for (const page of pages) {
      for (const [, block] of readFileSync(join(root, page), "utf8").matchAll(/^```ya?ml\n([\s\S]*?)^```$/gm)) {
        if (!jobSections.some((section) => new RegExp(`^${section}:`, "m").test(block!))) continue;
        shown++;
        assert.deepEqual(checkJsonSchema(shipped(), yamlData(block!)), [], page);
      }
    }
    assert.ok(shown >= 2);
  });

  test("it refuses what the loader refuses for the same reason, at the same key", () => {
    const cases: Array<[what: string, mutate: (data: Record<string, any>) => void, schemaPath: string, loaderPath: string]> = [
      ["unknown key", (d) => (d.bridges.b.probe_intervall = "1s"), "bridges.b.probe_intervall", "bridges.b.probe_intervall"],
      ["role not in the enum", (d) => (d.bridges.b.role = "primary"), "bridges.b.role", "bridges.b.role"],
      ["bare number as a duration", (d) => (d.bridges.b.probe_interval = 5), "bridges.b.probe_interval", "bridges.b.probe_interval"],
      ["threshold out of range", (d) => (d.bridges.b.tunnel_interfaces.eth1.threshold_down = 1), "bridges.b.tunnel_interfaces.eth1.threshold_down", "bridges.b.tunnel_interfaces.eth1.threshold_down"],
      ["required key missing", (d) => delete d.bridges.b.tunnel_interfaces.eth1.addr, "bridges.b.tunnel_interfaces.eth1.addr", "bridges.b.tunnel_interfaces.eth1.addr"],
      ["an empty command", (d) => (d.default_scripts = { bridge_activate: [[]] }), "default_scripts.bridge_activate[0]", "default_scripts.bridge_activate[0]"],
      ["a command as a string", (d) => (d.default_scripts = { bridge_activate: ["ip route"] }), "default_scripts.bridge_activate[0]", "default_scripts.bridge_activate[0]"],
      ["no job section", (d) => delete d.bridges, "(top level)", "bridges"],
      ["dry_run not a boolean", (d) => (d.dry_run = "yes"), "dry_run", "dry_run"],
    ];
    for (const [what, mutate, schemaAt, loaderAt] of cases) {
      const data = base();
      mutate(data);
      const fromSchema = checkJsonSchema(shipped(), data);
      assert.ok(fromSchema.some((p) => p.startsWith(`${schemaAt}: `)), `${what}: schema says ${JSON.stringify(fromSchema)}`);
      assert.ok(problemsOf(data).some((p) => p.startsWith(`${loaderAt}: `)), `${what}: the loader accepts it`);
    }
  });

  test("it accepts the Go spellings the loader accepts: 0 for defaults, numbers in argv", () => {
    const data = base();
    Object.assign(data.bridges.b, { probe_interval: 0, partner_status_threshold_up: 0, scripts: { bridge_activate: [["sleep", 15, true]] } });
    data.metrics = { max_latency_us: 0 };
    assert.deepEqual(checkJsonSchema(shipped(), data), []);
    parseConfigWith(JSON.stringify(data), { interfaceNames: new Set(["eth0", "eth1", "eth2"]) });
  });

  test("the checker refuses keywords it does not implement", () => {
    assert.throws(() => checkJsonSchema({ format: "uri" }, "a"), /format is not supported/);
    assert.deepEqual(checkJsonSchema(configJsonSchema(), base()), []);
  });
});
