/**
 * Shared by the robustness tests: configs for live bridges on 127.88.x.y,
 * metric readers (in-process registry and scraped text), temp dirs, and
 * re-exports of the UDP, probe and child-process helpers. Loopback only.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig, type Config } from "../../src/config/index.ts";
import { bridgeYaml, type BridgeSpec } from "../support/bridge-yaml.ts";
import { configureLogger } from "../../src/util/log.ts";
import { waitFor } from "../../src/util/wait.ts";

export { waitFor };
export * from "./child.ts";
export * from "./probes.ts";
export * from "./udp.ts";

// ---------------------------------------------------------------- configs

export { bridgeYaml, configYaml, type BridgeSpec, type TunnelSpec } from "../support/bridge-yaml.ts";

export function bridgeConfig(b: BridgeSpec, metricsAddr: string): Config {
  return parseConfig(bridgeYaml(b, metricsAddr), "robustness-test").config;
}

// ---------------------------------------------------------------- metrics

type Labels = Record<string, string | number>;
interface Readable {
  get(): Promise<{ values: { value: number; labels: Labels; metricName?: string }[] }> | { values: { value: number; labels: Labels; metricName?: string }[] };
}

function matches(labels: Labels, want: Labels): boolean {
  return Object.entries(want).every(([k, v]) => String(labels[k]) === String(v));
}

/** Sum of a prom-client metric's series whose labels include `want` (histograms: `_count` only). */
export async function metricSum(metric: Readable, want: Labels = {}): Promise<number> {
  const { values } = await metric.get();
  return values
    .filter((v) => v.metricName === undefined || v.metricName.endsWith("_count") || !/_(bucket|sum)$/.test(v.metricName))
    .filter((v) => matches(v.labels, want))
    .reduce((sum, v) => sum + v.value, 0);
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Samples of a Prometheus text exposition (enough for our own output). */
export function parseSamples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const lm of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[lm[1]!] = lm[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

export function sumSamples(samples: readonly Sample[], name: string, want: Record<string, string> = {}): number {
  return samples.filter((s) => s.name === name && matches(s.labels, want)).reduce((a, s) => a + s.value, 0);
}

export async function scrape(url: string, timeoutMs = 3000): Promise<Sample[]> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  return parseSamples(await res.text());
}

// ---------------------------------------------------------------- misc

export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `vpnham-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Quiet the in-process daemons' info logs for a noisy test; the suite default is info. */
export function quietLogs(): () => void {
  configureLogger({ level: "warn" });
  return () => configureLogger({ level: "info" });
}
