/**
 * Reading a config: YAML text → checked, normalised {@link Config} plus warnings, or one
 * UserError listing the problems (the first MAX_REPORTED_PROBLEMS of them).
 */
import { networkInterfaces } from "node:os";
import { dirname, join, resolve } from "node:path";
import { UserError, errorMessage } from "../util/errors.ts";
import { FileRefusedError, readRegularFile, readRegularFileSync, type ReadFileResult } from "../util/read-file.ts";
import { crossCheck, orList } from "./checks.ts";
import { errorMapFor, formatIssues } from "./issues.ts";
import type { Config } from "./model.ts";
import { normalize, type NormalizeEnv, type SecretFile } from "./normalize.ts";
import { jobSections, rawConfigSchema } from "./schema.ts";
import { dnsSecretFilePaths } from "../dns/config.ts";
import { parseYaml, type YamlData } from "./yaml.ts";

export type LoadResult = { config: Config; warnings: string[] };

export type ParseOptions = Partial<NormalizeEnv> & { sourceName?: string };

/** Caps on what we read (docs/hardening.md, "Files the daemon reads"). */
export const CONFIG_MAX_BYTES = 1 << 20;
export const SECRET_FILE_MAX_BYTES = 64 << 10;
/** Problem lines reported; the rest are counted ("… and N more problems"). */
export const MAX_REPORTED_PROBLEMS = 20;

/** Parses and checks a config. Throws UserError naming the problems. */
export function parseConfig(yamlText: string, sourceName?: string): LoadResult {
  const baseDir = sourceName === undefined ? process.cwd() : dirname(resolve(sourceName));
  return parseConfigWith(yamlText, { sourceName, baseDir, interfaceNames: hostInterfaceNames() });
}

/**
 * Reads, parses and checks a config file. Throws UserError (missing file, not a regular file,
 * too large, bad config…). The config and its secret files are read off the event loop, so a
 * reload never stalls probing or serving on a slow or hostile file.
 */
export async function loadConfig(path: string): Promise<LoadResult> {
  let text: string;
  try {
    text = (await readRegularFile(path, CONFIG_MAX_BYTES)).bytes.toString("utf8");
  } catch (error) {
    throw new UserError(`config ${path}: cannot read it (${readErrorReason(error)})`);
  }
  const baseDir = dirname(resolve(path));
  const yaml = parsedOrFail(text, path);
  // Secret files are read now, asynchronously; normalize() then takes them from this map.
  const secrets = new Map<string, SecretFile | Error>();
  for (const file of secretFilePaths(yaml.data, baseDir)) {
    secrets.set(file, await readSecretFile(file).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error)))));
  }
  const fromMap = (file: string): SecretFile => {
    const read = secrets.get(file) ?? new Error("not read");
    if (read instanceof Error) throw read;
    return read;
  };
  return checkConfig(yaml, { sourceName: path, baseDir, interfaceNames: hostInterfaceNames(), readSecretFile: fromMap });
}

/** `--config`, then $VPNHAM_CONFIG, then $VPNHAM__CONFIG (Go's spelling), then ./.vpnham.yaml. */
export function resolveConfigPath(cliPath: string | undefined, env: NodeJS.ProcessEnv, cwd: string): string {
  const chosen = [cliPath, env.VPNHAM_CONFIG, env.VPNHAM__CONFIG].find((p) => p !== undefined && p !== "");
  return chosen === undefined ? join(cwd, ".vpnham.yaml") : resolve(cwd, chosen);
}

/** parseConfig with every outside input injectable (tests, validate off the appliance). */
export function parseConfigWith(yamlText: string, options: ParseOptions = {}): LoadResult {
  return checkConfig(parsedOrFail(yamlText, options.sourceName), options);
}

/** Why a file could not be read, in words. */
export function readErrorReason(error: unknown): string {
  if (error instanceof FileRefusedError) return error.message;
  const code = (error as NodeJS.ErrnoException).code;
  return code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : errorMessage(error);
}

/** The problems as UserError lines: at most MAX_REPORTED_PROBLEMS, then a count of the rest. */
export function reportedProblems(problems: readonly string[]): string[] {
  if (problems.length <= MAX_REPORTED_PROBLEMS) return [...problems];
  const more = problems.length - MAX_REPORTED_PROBLEMS;
  return [...problems.slice(0, MAX_REPORTED_PROBLEMS), `… and ${more} more problem${more === 1 ? "" : "s"}`];
}

function fail(source: string | undefined, problems: readonly string[]): never {
  const name = source ?? "<text>";
  const message = problems.length === 1 ? `config ${name}: ${problems[0]}` : `config ${name}: ${problems.length} problems`;
  throw new UserError(message, reportedProblems(problems));
}

function parsedOrFail(yamlText: string, source: string | undefined): YamlData {
  const yaml = parseYaml(yamlText);
  if (!yaml.ok) fail(source, yaml.problems);
  return yaml.value;
}

function checkConfig({ data, order }: YamlData, options: ParseOptions): LoadResult {
  const env: NormalizeEnv = {
    baseDir: options.baseDir ?? process.cwd(),
    readSecretFile: options.readSecretFile ?? readSecretFileSync,
    ...(options.interfaceNames ? { interfaceNames: options.interfaceNames } : {}),
  };
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    const expected = `a mapping with ${orList(jobSections.map((s) => `${s}:`))}`;
    fail(options.sourceName, [data === null || data === undefined ? `the file is empty (expected ${expected})` : `expected ${expected} at the top`]);
  }
  const parsed = rawConfigSchema.safeParse(data, { reportInput: true, error: errorMapFor(rawConfigSchema) });
  // concat, not push(...): a spread of 100 000 problems overflows the stack.
  let problems = (parsed.success ? [] : formatIssues(parsed.error.issues, rawConfigSchema, MAX_REPORTED_PROBLEMS)).concat(crossCheck(data));
  if (!parsed.success) fail(options.sourceName, problems);
  const result = normalize(parsed.data!, order, env);
  problems = problems.concat(result.problems);
  if (problems.length > 0) fail(options.sourceName, problems);
  return { config: result.config, warnings: result.warnings };
}

/** Absolute paths of the `secret_file`s a config names (whatever else is wrong with it). */
function secretFilePaths(data: unknown, baseDir: string): string[] {
  const bridges = (data as { bridges?: unknown } | null)?.bridges;
  const paths = Object.values(typeof bridges === "object" && bridges !== null ? bridges : {}).map((bridge) => (bridge as { secret_file?: unknown } | null)?.secret_file);
  const bridgeFiles = paths.filter((p): p is string => typeof p === "string").map((p) => resolve(baseDir, p));
  return [...new Set([...bridgeFiles, ...dnsSecretFilePaths(data, baseDir)])];
}

const secretFile = ({ bytes, mode }: ReadFileResult): SecretFile => ({ text: bytes.toString("utf8"), worldReadable: (mode & 0o004) !== 0 });

async function readSecretFile(path: string): Promise<SecretFile> {
  return secretFile(await readRegularFile(path, SECRET_FILE_MAX_BYTES));
}

function readSecretFileSync(path: string): SecretFile {
  return secretFile(readRegularFileSync(path, SECRET_FILE_MAX_BYTES));
}

function hostInterfaceNames(): ReadonlySet<string> | undefined {
  try {
    return new Set(Object.keys(networkInterfaces()));
  } catch {
    return undefined; // a sandbox without the permission: skip the existence warnings
  }
}
