/**
 * What `vpnham docs` writes: the generated parts of docs/config.md and docs/metrics.md,
 * from the zod schema and the metrics registry. The drift tests use the same list.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { defaults, describeConfigSchema } from "../config/index.ts";
import { describeHistogramBuckets, describeMetrics } from "../metrics/describe.ts";
import { createMetrics } from "../metrics/registry.ts";
import { checkMetrics } from "../checks/metrics.ts";
import { UserError } from "../util/errors.ts";
import { isGeneratedPartFresh, replaceGeneratedPart } from "./markers.ts";

export interface GeneratedPart {
  /** File name inside docs/. */
  readonly file: string;
  /** Marker name: `<!-- generated:NAME -->`. */
  readonly name: string;
  readonly body: string;
}

export const REGENERATE_COMMAND = "bun src/main.ts docs";

/** Every generated part, computed now. The metrics come from a registry built with the default config. */
export function generatedParts(): GeneratedPart[] {
  const { registry } = createMetrics({
    latencyBucketsCount: defaults.latencyBucketsCount,
    maxLatencyUs: defaults.maxLatencyUs,
    version: "docs",
  });
  checkMetrics(registry);
  return [
    { file: "config.md", name: "config-reference", body: describeConfigSchema() },
    { file: "metrics.md", name: "metrics-reference", body: describeMetrics(registry) },
    { file: "metrics.md", name: "metrics-buckets", body: describeHistogramBuckets(registry) },
  ];
}

function readDoc(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new UserError(`${path}: cannot read: ${(error as Error).message}`);
  }
}

/** The parts of the files in `docsDir` that differ from what would be generated ("file: name"). */
export function staleParts(docsDir: string, parts = generatedParts()): string[] {
  return parts.filter((p) => !isGeneratedPartFresh(readDoc(join(docsDir, p.file)), p.name, p.body)).map((p) => `${p.file}: ${p.name}`);
}

/** Rewrites the generated parts in `docsDir`; returns the files that changed. */
export function writeGeneratedParts(docsDir: string, parts = generatedParts()): string[] {
  const changed: string[] = [];
  for (const file of new Set(parts.map((p) => p.file))) {
    const path = join(docsDir, file);
    const before = readDoc(path);
    let after = before;
    for (const part of parts.filter((p) => p.file === file)) {
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
