/**
 * The config file's JSON Schema, generated from the zod schema with `z.toJSONSchema`, shipped as
 * docs/vpnham.schema.json so editors check a file while it is written
 * (docs/config.md §Editor support). It describes the YAML's shape: keys, kinds of values, enums, ranges. The checks that
 * need code (durations, addresses, CIDRs, placeholders, one active tunnel, port conflicts) stay
 * with `vpnham validate`, so the schema may pass a file the loader refuses, never the reverse.
 */
import { z } from "zod";
import type { FieldMeta } from "./fields.ts";
import { jobSections, rawConfigSchema } from "./schema.ts";

type Json = Record<string, unknown>;

/** File name inside docs/. */
export const JSON_SCHEMA_FILE = "vpnham.schema.json";

/** Types of the fields our builders take as `unknown` and check in a transform (fields.ts). */
const stringTypes = new Set(["ip:port", "CIDR", "http(s) URL", "interface name", "string (≤ 36 bytes)"]);

/** The JSON Schema of a value whose zod schema is `unknown` + transform, from its `type` metadata. */
function valueSchema(type: string): Json | undefined {
  // Go durations are strings; a bare 0 means "the default" (fields.ts duration()).
  if (type === "duration") return { anyOf: [{ type: "string" }, { const: 0 }] };
  const range = /^integer (\d+)\.\.(\d+)$/.exec(type);
  // 0 means "the default" (fields.ts integer()).
  if (range) return { type: "integer", anyOf: [{ const: 0 }, { minimum: Number(range[1]), maximum: Number(range[2]) }] };
  return stringTypes.has(type) ? { type: "string" } : undefined;
}

/** Our `default` metadata (text for the reference table) as a JSON value, when it is one. */
function defaultValue(meta: Partial<FieldMeta>): unknown {
  const text = meta.default;
  const type = meta.type ?? "";
  if (text === undefined) return undefined;
  if (type === "duration" || type === "ip:port" || type === "path") return text;
  if (type.startsWith("integer") || type.startsWith("number")) return Number(text);
  if (type === "boolean") return text === "true";
  if (text === "[]") return [];
  if (text === '""') return "";
  return undefined; // "all defaults", "vpnham-<bridge>", "required (…)": prose, not a value
}

/** The config's JSON Schema (draft-07, which yaml-language-server reads best). */
export function configJsonSchema(): Json {
  const schema = z.toJSONSchema(rawConfigSchema, {
    target: "draft-7",
    io: "input",
    // Transforms have no JSON form; their fields get a schema from valueSchema() below.
    unrepresentable: "any",
    // Our metadata is for the reference table (its `type` is prose); it is mapped below instead.
    metadata: z.registry<Record<string, unknown>>(),
    override: ({ zodSchema, jsonSchema }) => {
      const meta = z.globalRegistry.get(zodSchema) as Partial<FieldMeta> | undefined;
      if (!meta) return;
      const json = jsonSchema as Json;
      delete json.default; // zod's is the pre-parse value (0 for "the default"), not the effective one
      const value = meta.type !== undefined && json.type === undefined && json.anyOf === undefined ? valueSchema(meta.type) : undefined;
      if (value) Object.assign(json, value);
      if (meta.type === "list of argv lists") {
        // Each argv element: text, or a scalar taken as text (fields.ts commands()).
        const command = json.items as Json | undefined;
        if (command) command.items = { type: ["string", "number", "boolean"] };
      }
      if (meta.description) json.description = meta.description;
      const fallback = defaultValue(meta);
      if (fallback !== undefined) json.default = fallback;
    },
  }) as Json;
  return {
    $schema: schema.$schema,
    title: "vpnham configuration",
    description: "Generated from vpnham's config schema by `vpnham docs`; the reference is docs/config.md. `vpnham validate` checks more.",
    ...schema,
    // At least one job section (docs/config.md §Sections).
    anyOf: jobSections.map((section) => ({ required: [section] })),
  };
}

/** The text of docs/vpnham.schema.json. */
export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}
