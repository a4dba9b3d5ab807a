/**
 * Reading a config: YAML text → checked, normalised {@link Config} plus warnings, or one
 * UserError listing every problem.
 */
import { readFileSync, statSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parseDocument } from "yaml";
import { UserError, errorMessage } from "../util/errors.ts";
import { crossCheck, orList } from "./checks.ts";
import { errorMapFor, formatIssues } from "./issues.ts";
import type { Config } from "./model.ts";
import { normalize, type KeyOrder, type NormalizeEnv } from "./normalize.ts";
import { jobSections, rawConfigSchema } from "./schema.ts";

export type LoadResult = { config: Config; warnings: string[] };

export type ParseOptions = Partial<NormalizeEnv> & { sourceName?: string };

/** Parses and checks a config. Throws UserError naming every problem. */
export function parseConfig(yamlText: string, sourceName?: string): LoadResult {
  const baseDir = sourceName === undefined ? process.cwd() : dirname(resolve(sourceName));
  return parseConfigWith(yamlText, { sourceName, baseDir, interfaceNames: hostInterfaceNames() });
}

/** Reads, parses and checks a config file. Throws UserError (missing file, bad config…). */
export function loadConfig(path: string): LoadResult {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : errorMessage(error);
    throw new UserError(`config ${path}: cannot read it (${reason})`);
  }
  return parseConfig(text, path);
}

/** `--config`, then $VPNHAM_CONFIG, then $VPNHAM__CONFIG (Go's spelling), then ./.vpnham.yaml. */
export function resolveConfigPath(cliPath: string | undefined, env: NodeJS.ProcessEnv, cwd: string): string {
  const chosen = [cliPath, env.VPNHAM_CONFIG, env.VPNHAM__CONFIG].find((p) => p !== undefined && p !== "");
  return chosen === undefined ? join(cwd, ".vpnham.yaml") : resolve(cwd, chosen);
}

/** parseConfig with every outside input injectable (tests, validate off the appliance). */
export function parseConfigWith(yamlText: string, options: ParseOptions = {}): LoadResult {
  const source = options.sourceName ?? "<text>";
  const env: NormalizeEnv = {
    baseDir: options.baseDir ?? process.cwd(),
    readSecretFile: options.readSecretFile ?? readSecretFile,
    ...(options.interfaceNames ? { interfaceNames: options.interfaceNames } : {}),
  };
  const fail = (problems: string[]): never => {
    const message = problems.length === 1 ? `config ${source}: ${problems[0]}` : `config ${source}: ${problems.length} problems`;
    throw new UserError(message, problems);
  };

  const document = parseDocument(yamlText, { merge: true });
  // With prettyErrors (the default) the first line reads "… at line L, column C:".
  if (document.errors.length > 0) fail(document.errors.map((e) => `YAML: ${(e.message.split("\n")[0] ?? "").replace(/:$/, "")}`));
  const order: { bridges: string[]; tunnels: Map<string, string[]> } = { bridges: [], tunnels: new Map() };
  const data = toPlain(document.toJS({ mapAsMap: true }), [], order);
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    const expected = `a mapping with ${orList(jobSections.map((s) => `${s}:`))}`;
    fail([data === null || data === undefined ? `the file is empty (expected ${expected})` : `expected ${expected} at the top`]);
  }

  const parsed = rawConfigSchema.safeParse(data, { reportInput: true, error: errorMapFor(rawConfigSchema) });
  const problems = parsed.success ? [] : formatIssues(parsed.error.issues, rawConfigSchema);
  problems.push(...crossCheck(data));
  if (!parsed.success) fail(problems);
  const result = normalize(parsed.data!, order satisfies KeyOrder, env);
  problems.push(...result.problems);
  if (problems.length > 0) fail(problems);
  return { config: result.config, warnings: result.warnings };
}

/**
 * YAML Maps → plain objects (keys as text), recording the order of bridges and tunnels, and
 * dropping `key: null` entries — Go reads them as zero values, i.e. "not set". Entries of the
 * `bridges` and `tunnel_interfaces` maps are kept so a null bridge or tunnel is reported.
 */
function toPlain(value: unknown, path: readonly string[], order: { bridges: string[]; tunnels: Map<string, string[]> }): unknown {
  if (Array.isArray(value)) return value.map((item) => toPlain(item, [...path, "[]"], order));
  if (!(value instanceof Map)) return value;
  const isBridges = path.length === 1 && path[0] === "bridges";
  const isTunnels = path.length === 3 && path[0] === "bridges" && path[2] === "tunnel_interfaces";
  const entries: Array<[string, unknown]> = [];
  for (const [rawKey, item] of value) {
    const key = String(rawKey);
    if (item === null && !isBridges && !isTunnels) continue;
    entries.push([key, toPlain(item, [...path, key], order)]);
  }
  if (isBridges) order.bridges = entries.map(([key]) => key);
  if (isTunnels && path[1] !== undefined) order.tunnels.set(path[1], entries.map(([key]) => key));
  // fromEntries defines own properties, so a key such as "__proto__" stays an ordinary key.
  return Object.fromEntries(entries);
}

function readSecretFile(path: string): { text: string; worldReadable: boolean } {
  const text = readFileSync(path, "utf8");
  const worldReadable = (statSync(path).mode & 0o004) !== 0;
  return { text, worldReadable };
}

function hostInterfaceNames(): ReadonlySet<string> | undefined {
  try {
    return new Set(Object.keys(networkInterfaces()));
  } catch {
    return undefined; // a sandbox without the permission: skip the existence warnings
  }
}
