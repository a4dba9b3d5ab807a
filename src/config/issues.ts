/**
 * Zod issues → one line per problem: `<key path>: <value> <what is wrong / expected>`.
 */
import type { z } from "zod";
import { show } from "./fields.ts";
import { fields, metaOf, schemaAt, type Schema } from "./walk.ts";

/** `bridges.b.scripts.bridge_activate[0][2]` */
export function formatPath(path: readonly PropertyKey[]): string {
  let text = "";
  for (const key of path) {
    if (typeof key === "number") text += `[${key}]`;
    else text += text === "" ? String(key) : `.${String(key)}`;
  }
  return text === "" ? "(top level)" : text;
}

/**
 * Per-parse error map: messages for zod's built-in issues, using the field's `type` metadata.
 * Messages set on a schema itself (and those of our transforms) take precedence.
 */
export function errorMapFor(root: Schema): z.core.$ZodErrorMap {
  return (issue) => {
    const field = issue.path ? schemaAt(root, issue.path) : undefined;
    const meta = { ...(issue.inst ? metaOf(issue.inst as Schema) : {}), ...(field ? metaOf(field) : {}) };
    return message(issue, meta);
  };
}

function message(issue: z.core.$ZodRawIssue, meta: ReturnType<typeof metaOf>): string | undefined {
  const value = meta.sensitive ? "the value" : show(issue.input);
  const absent = issue.input === undefined ? "missing" : issue.input === null ? "empty" : undefined;
  switch (issue.code) {
    case "invalid_type": {
      const expected = article(meta.type ?? issue.expected);
      return absent ? `${absent} (expected ${expected})` : `${value} is not ${expected}`;
    }
    case "invalid_value": {
      const expected = issue.values.map(String).join(", ");
      return absent ? `${absent} (expected one of ${expected})` : `${value} is not one of ${expected}`;
    }
    default:
      return undefined;
  }
}

function article(type: string): string {
  if (/^(active|true|http|ip:|list|integer|number)/.test(type)) return type;
  return /^[aeiou]/i.test(type) ? `an ${type}` : `a ${type}`;
}

/**
 * One line per problem. "Did you mean" hints cost an edit distance per known key, so only the
 * first `hintLimit` lines get them: the rest are not shown anyway (load.ts reports the first
 * few), and 100 000 unknown keys must not take seconds (docs/hardening.md).
 */
export function formatIssues(issues: readonly z.core.$ZodIssue[], root: Schema, hintLimit = Infinity): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    const path = issue.path;
    if (issue.code === "unrecognized_keys") {
      const known = fields(schemaAt(root, path) ?? root).map(([name]) => name);
      for (const key of issue.keys) {
        const hint = lines.length < hintLimit ? closest(key, known) : undefined;
        lines.push(`${formatPath([...path, key])}: unknown key${hint ? ` (did you mean ${hint}?)` : ""}`);
      }
    } else if (issue.code === "invalid_key") {
      for (const inner of issue.issues) lines.push(`${formatPath(path)}: ${inner.message}`);
    } else {
      lines.push(`${formatPath(path)}: ${issue.message}`);
    }
  }
  return [...new Set(lines)];
}

/** The known key nearest to a misspelt one (edit distance ≤ 2), if any. */
function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    if (Math.abs(key.length - candidate.length) >= bestDistance) continue; // the distance is at least that
    const distance = editDistance(key.toLowerCase(), candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
