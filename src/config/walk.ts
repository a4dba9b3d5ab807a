/**
 * Reading the zod schema itself: metadata along wrapper chains, children by key. Used for the
 * reference table and for "did you mean" hints. Relies on zod v4's `_zod.def` layout.
 */
import { z } from "zod";
import type { FieldMeta } from "./fields.ts";

export type Schema = z.core.$ZodType;
type Def = { type: string; [key: string]: unknown };

function defOf(schema: Schema): Def {
  return schema._zod.def as unknown as Def;
}

const wrappers = new Set(["optional", "nullable", "default", "prefault", "nonoptional", "readonly", "catch"]);

/** The schemas a value passes through, outermost first, down to the one that checks its shape. */
export function chain(schema: Schema): Schema[] {
  const result: Schema[] = [schema];
  let current = schema;
  for (;;) {
    const def = defOf(current);
    let next: unknown;
    if (wrappers.has(def.type)) next = def.innerType;
    else if (def.type === "pipe") next = def.in;
    if (!next) return result;
    current = next as Schema;
    result.push(current);
  }
}

/** Metadata of a field, outer `.meta()` calls winning over inner ones. */
export function metaOf(schema: Schema): Partial<FieldMeta> & Record<string, unknown> {
  const metas = chain(schema)
    .map((s) => z.globalRegistry.get(s) ?? {})
    .reverse();
  return Object.assign({}, ...metas) as Partial<FieldMeta> & Record<string, unknown>;
}

/** The innermost schema of a chain (object, record, array, enum, unknown…). */
export function core(schema: Schema): Schema {
  const all = chain(schema);
  return all[all.length - 1] ?? schema;
}

export function kind(schema: Schema): string {
  return defOf(core(schema)).type;
}

/** Fields of an object schema, in declaration order. */
export function fields(schema: Schema): Array<[string, Schema]> {
  const def = defOf(core(schema));
  return def.type === "object" ? Object.entries(def.shape as Record<string, Schema>) : [];
}

/** Value schema of a record, element schema of an array. */
export function element(schema: Schema): Schema | undefined {
  const def = defOf(core(schema));
  if (def.type === "record") return def.valueType as Schema;
  if (def.type === "array") return def.element as Schema;
  return undefined;
}

/** The schema that checks the value at `path`, if the path leads anywhere. */
export function schemaAt(root: Schema, path: readonly PropertyKey[]): Schema | undefined {
  let current: Schema | undefined = root;
  for (const key of path) {
    if (!current) return undefined;
    const inner = core(current);
    const type = defOf(inner).type;
    if (type === "object") current = fields(inner).find(([name]) => name === key)?.[1];
    else current = element(inner);
  }
  return current;
}
