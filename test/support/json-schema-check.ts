/**
 * A tiny JSON Schema checker for the keywords docs/vpnham.schema.json uses (no dependency).
 * It refuses a schema with any other keyword, so a keyword it cannot check never passes silently.
 */

type Json = Record<string, unknown>;

const annotations = new Set(["$schema", "title", "description", "default"]);
const checked = new Set([
  "type",
  "enum",
  "const",
  "anyOf",
  "allOf",
  "properties",
  "additionalProperties",
  "required",
  "propertyNames",
  "items",
  "minItems",
  "minLength",
  "pattern",
  "minimum",
  "maximum",
]);

function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

function hasType(value: unknown, type: string): boolean {
  const actual = typeOf(value);
  return actual === type || (type === "number" && actual === "integer");
}

const isJson = (value: unknown): value is Json => typeOf(value) === "object";

/** Problems of `value` against `schema`, as "path: what"; empty when it conforms. */
export function checkJsonSchema(schema: unknown, value: unknown, path = "(top level)"): string[] {
  if (schema === true) return [];
  if (schema === false) return [`${path}: not allowed`];
  if (!isJson(schema)) throw new Error(`${path}: a schema must be an object or a boolean`);
  for (const keyword of Object.keys(schema)) {
    if (!annotations.has(keyword) && !checked.has(keyword)) throw new Error(`${path}: keyword ${keyword} is not supported by this checker`);
  }
  const at = (key: string | number) => (typeof key === "number" ? `${path}[${key}]` : path === "(top level)" ? key : `${path}.${key}`);
  const problems: string[] = [];
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
    if (!types.some((type) => hasType(value, type))) return [`${path}: ${typeOf(value)} is not ${types.join(" or ")}`];
  }
  if (schema.enum !== undefined && !(schema.enum as unknown[]).includes(value)) problems.push(`${path}: not one of ${JSON.stringify(schema.enum)}`);
  if ("const" in schema && schema.const !== value) problems.push(`${path}: not ${JSON.stringify(schema.const)}`);
  for (const part of (schema.allOf as unknown[] | undefined) ?? []) problems.push(...checkJsonSchema(part, value, path));
  if (schema.anyOf !== undefined && !(schema.anyOf as unknown[]).some((option) => checkJsonSchema(option, value, path).length === 0)) {
    problems.push(`${path}: matches none of anyOf`);
  }
  if (typeof value === "string" && typeof schema.minLength === "number" && value.length < schema.minLength) problems.push(`${path}: too short`);
  if (typeof value === "string" && typeof schema.pattern === "string" && !new RegExp(schema.pattern, "u").test(value)) {
    problems.push(`${path}: does not match ${schema.pattern}`);
  }
  if (typeof value === "number") {
    if (typeof schema.minimum === "number" && value < schema.minimum) problems.push(`${path}: below ${schema.minimum}`);
    if (typeof schema.maximum === "number" && value > schema.maximum) problems.push(`${path}: above ${schema.maximum}`);
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === "number" && value.length < schema.minItems) problems.push(`${path}: fewer than ${schema.minItems} items`);
    if (schema.items !== undefined) value.forEach((item, i) => problems.push(...checkJsonSchema(schema.items, item, at(i))));
  }
  if (isJson(value)) {
    const properties = (schema.properties ?? {}) as Json;
    for (const key of (schema.required ?? []) as string[]) {
      if (!(key in value)) problems.push(`${at(key)}: missing`);
    }
    for (const [key, item] of Object.entries(value)) {
      if (schema.propertyNames !== undefined) problems.push(...checkJsonSchema(schema.propertyNames, key, at(key)));
      if (key in properties) problems.push(...checkJsonSchema(properties[key], item, at(key)));
      else if (schema.additionalProperties !== undefined) problems.push(...checkJsonSchema(schema.additionalProperties, item, at(key)));
    }
  }
  return problems;
}
