/**
 * The configuration reference as a Markdown table, generated from the schema's metadata so
 * docs/config.md §Reference cannot drift from what the loader accepts (`vpnham docs` writes it).
 */
import { rawConfigSchema } from "./schema.ts";
import { chain, element, fields, kind, metaOf, type Schema } from "./walk.ts";

type Row = [path: string, type: string, defaultValue: string, description: string];

export function describeConfigSchema(): string {
  const rows: Row[] = [];
  visitObject(rawConfigSchema, "", rows);
  const cell = (text: string) => text.replaceAll("|", "\\|").replaceAll("\n", " ");
  const lines = [
    "| Key | Type | Default | Description |",
    "|---|---|---|---|",
    ...rows.map((row) => `| ${row.map((text, i) => (i === 0 ? `\`${cell(text)}\`` : cell(text))).join(" | ")} |`),
  ];
  return lines.join("\n") + "\n";
}

function visitObject(schema: Schema, prefix: string, rows: Row[]): void {
  for (const [key, field] of fields(schema)) {
    const path = prefix === "" ? key : `${prefix}.${key}`;
    rows.push(row(path, field));
    visitChildren(field, path, rows);
  }
}

function visitChildren(field: Schema, path: string, rows: Row[]): void {
  const type = kind(field);
  if (type === "object") visitObject(field, path, rows);
  if (type === "record") {
    const entry = element(field);
    if (!entry) return;
    const entryPath = `${path}.<${metaOf(field).keyName ?? "name"}>`;
    rows.push(row(entryPath, entry, "—"));
    visitChildren(entry, entryPath, rows);
  }
}

function row(path: string, field: Schema, fallback?: string): Row {
  const meta = metaOf(field);
  const optional = chain(field).some((s) => s._zod.def.type === "optional");
  const defaultValue = meta.default ?? fallback ?? (optional ? "—" : "required");
  return [path, meta.type ?? kind(field), defaultValue, meta.description ?? ""];
}
