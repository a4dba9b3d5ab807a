/**
 * YAML text → plain data plus the order of bridges and tunnels, or the problems found, in time
 * linear in the text (docs/hardening.md, "Files the daemon reads"):
 *
 * - the `yaml` package's own duplicate-key check compares each key with every earlier one of
 *   its map (100 000 keys: seconds), so it is off and `duplicateKeys` does it with a Set;
 * - alias expansion is capped (the package's `maxAliasCount`, and a budget of values for the
 *   expanded data), so an alias bomb ("billion laughs") is a problem line, not an exception;
 * - nesting so deep that a recursive step overflows the stack is a problem line too.
 */
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Document } from "yaml";
import type { KeyOrder } from "./normalize.ts";

/** Alias expansions allowed (the `yaml` package's measure; its default). Real configs use a few. */
export const MAX_ALIAS_COUNT = 100;

export type YamlData = { data: unknown; order: KeyOrder };
export type YamlResult = { ok: true; value: YamlData } | { ok: false; problems: string[] };

export function parseYaml(text: string): YamlResult {
  try {
    const lineCounter = new LineCounter();
    // uniqueKeys: false — see duplicateKeys.
    const document = parseDocument(text, { merge: true, uniqueKeys: false, lineCounter });
    // With prettyErrors (the default) the first line reads "… at line L, column C:".
    if (document.errors.length > 0) {
      return { ok: false, problems: document.errors.map((e) => `YAML: ${(e.message.split("\n")[0] ?? "").replace(/:$/, "")}`) };
    }
    const duplicates = duplicateKeys(document, lineCounter);
    if (duplicates.length > 0) return { ok: false, problems: duplicates };
    const js: unknown = document.toJS({ mapAsMap: true, maxAliasCount: MAX_ALIAS_COUNT });
    const order = { bridges: [] as string[], tunnels: new Map<string, string[]>() };
    return { ok: true, value: { data: toPlain(js, [], order, { left: MAX_EXPANDED_VALUES }), order } };
  } catch (error) {
    return { ok: false, problems: [`YAML: ${problemOf(error)}`] };
  }
}

/** An exception from composing the data: all of them are about the text. */
function problemOf(error: unknown): string {
  const bomb = "an alias bomb?";
  if (error instanceof TooManyValues) return `too many alias expansions (the data would hold more than ${MAX_EXPANDED_VALUES} values; ${bomb})`;
  if (error instanceof ReferenceError && /excessive alias/i.test(error.message)) return `too many alias expansions (more than ${MAX_ALIAS_COUNT}; ${bomb})`;
  if (error instanceof RangeError) return "nested too deeply";
  // E.g. an alias to an anchor defined later, a merge of a list: the package's words.
  return error instanceof Error ? error.message : String(error);
}

/**
 * "Map keys must be unique", as the `yaml` package words it, found with one Set per map. An
 * explicit stack, not the package's visit(): that one copies the path at every node, which is
 * quadratic in the nesting depth.
 */
function duplicateKeys(document: Document, lineCounter: LineCounter): string[] {
  const offsets: number[] = [];
  const stack: unknown[] = [document.contents];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isSeq(node)) for (const item of node.items) stack.push(item); // (a spread overflows on long lists)
    if (!isMap(node)) continue;
    const seen = new Set<unknown>();
    for (const { key, value } of node.items) {
      stack.push(key, value);
      if (!isScalar(key)) continue; // the package compares other keys by identity only
      if (seen.has(key.value)) offsets.push(key.range?.[0] ?? 0);
      seen.add(key.value);
    }
  }
  return offsets
    .sort((a, b) => a - b)
    .map((offset) => {
      const { line, col } = lineCounter.linePos(offset);
      return `YAML: Map keys must be unique at line ${line}, column ${col}`;
    });
}

type Order = { bridges: string[]; tunnels: Map<string, string[]> };

/** Values the plain data may have once aliases are expanded; more is refused as an alias bomb. */
export const MAX_EXPANDED_VALUES = 1_000_000;

class TooManyValues extends Error {}

/**
 * YAML Maps → plain objects (keys as text), recording the order of bridges and tunnels, and
 * dropping `key: null` entries — Go reads them as zero values, i.e. "not set". Entries of the
 * `bridges` and `tunnel_interfaces` maps are kept so a null bridge or tunnel is reported.
 * An alias is copied where it is used, so the copy counts every value against the budget.
 */
function toPlain(value: unknown, path: readonly string[], order: Order, budget: { left: number }): unknown {
  if (--budget.left < 0) throw new TooManyValues();
  // Only the first levels decide (bridges, tunnel_interfaces); below them the path stops growing.
  const below = (key: string) => (path.length < 4 ? [...path, key] : path);
  if (Array.isArray(value)) return value.map((item) => toPlain(item, below("[]"), order, budget));
  if (!(value instanceof Map)) return value;
  const isBridges = path.length === 1 && path[0] === "bridges";
  const isTunnels = path.length === 3 && path[0] === "bridges" && path[2] === "tunnel_interfaces";
  const entries: Array<[string, unknown]> = [];
  for (const [rawKey, item] of value) {
    const key = String(rawKey);
    if (item === null && !isBridges && !isTunnels) continue;
    entries.push([key, toPlain(item, below(key), order, budget)]);
  }
  if (isBridges) order.bridges = entries.map(([key]) => key);
  if (isTunnels && path[1] !== undefined) order.tunnels.set(path[1], entries.map(([key]) => key));
  // fromEntries defines own properties, so a key such as "__proto__" stays an ordinary key.
  return Object.fromEntries(entries);
}
