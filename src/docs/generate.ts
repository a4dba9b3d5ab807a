/**
 * What `vpnham docs` writes: the generated parts of docs/config.md and docs/metrics.md, and the
 * whole of docs/vpnham.schema.json, from the zod schema and the metrics registry. The drift
 * tests use the same list.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { defaults, describeConfigSchema } from "../config/index.ts";
import { JSON_SCHEMA_FILE, configJsonSchemaText } from "../config/json-schema.ts";
import { describeHistogramBuckets, describeMetrics } from "../metrics/describe.ts";
import { createMetrics } from "../metrics/registry.ts";
import { featureMetrics } from "../metrics/features.ts";
import { UserError } from "../util/errors.ts";
import { isGeneratedPartFresh, replaceGeneratedPart } from "./markers.ts";

export interface GeneratedPart {
  /** File name inside docs/. */
  readonly file: string;
  /** Marker name: `<!-- generated:NAME -->` (for a whole file, just a name). */
  readonly name: string;
  readonly body: string;
  /** `body` is the whole file, which has no markers (docs/vpnham.schema.json). */
  readonly wholeFile?: boolean;
}

/** How stale-part messages name a part: "<file>: <marker name>", or the file name alone. */
export function partLabel(part: GeneratedPart): string {
  return part.wholeFile ? part.file : `${part.file}: ${part.name}`;
}

export const REGENERATE_COMMAND = "bun src/main.ts docs";

/** Every generated part, computed now. The metrics come from a registry built with the default config. */
export function generatedParts(): GeneratedPart[] {
  const { registry } = createMetrics({
    latencyBucketsCount: defaults.latencyBucketsCount,
    maxLatencyUs: defaults.maxLatencyUs,
    version: "docs",
  });
  for (const register of featureMetrics) register(registry);
  return [
    { file: "config.md", name: "config-reference", body: describeConfigSchema() },
    { file: "metrics.md", name: "metrics-reference", body: describeMetrics(registry) },
    { file: "metrics.md", name: "metrics-buckets", body: describeHistogramBuckets(registry) },
    { file: JSON_SCHEMA_FILE, name: "json-schema", body: configJsonSchemaText(), wholeFile: true },
  ];
}

function readDoc(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new UserError(`${path}: cannot read: ${(error as Error).message}`);
  }
}

function isFresh(docsDir: string, part: GeneratedPart): boolean {
  const path = join(docsDir, part.file);
  if (part.wholeFile) return existsSync(path) && readDoc(path) === part.body;
  return isGeneratedPartFresh(readDoc(path), part.name, part.body);
}

/** The parts of the files in `docsDir` that differ from what would be generated (see partLabel). */
export function staleParts(docsDir: string, parts = generatedParts()): string[] {
  return parts.filter((p) => !isFresh(docsDir, p)).map(partLabel);
}

/** Rewrites the generated parts in `docsDir`; returns the files that changed. */
export function writeGeneratedParts(docsDir: string, parts = generatedParts()): string[] {
  const changed: string[] = [];
  for (const file of new Set(parts.map((p) => p.file))) {
    const path = join(docsDir, file);
    const whole = parts.find((p) => p.file === file && p.wholeFile);
    const before = whole && !existsSync(path) ? "" : readDoc(path);
    let after = whole ? whole.body : before;
    for (const part of parts.filter((p) => p.file === file && !p.wholeFile)) {
      try {
        after = replaceGeneratedPart(after, part.name, part.body);
      } catch (error) {
        throw new UserError(`${path}: ${(error as Error).message}`);
      }
    }
    if (after !== before) {
      writeFileSync(path, after);
      changed.push(file);
    }
  }
  return changed;
}
