/**
 * Shared by the robustness tests: configs for live bridges on 127.88.x.y,
 * metric readers (in-process registry and scraped text), temp dirs, and
 * re-exports of the UDP, probe and child-process helpers. Loopback only.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig, type Config } from "../../src/config/index.ts";
import { configureLogger } from "../../src/util/log.ts";
import { waitFor } from "../../src/util/wait.ts";

export { waitFor };
export * from "./child.ts";
export * from "./probes.ts";
export * from "./udp.ts";

// ---------------------------------------------------------------- configs

export interface TunnelSpec {
  name: string;
  role: "active" | "standby";
  addr: string;
  probeAddr: string;
  thresholdDown?: number;
  thresholdUp?: number;
}

export interface BridgeSpec {
  name?: string;
  role: "active" | "standby";
  statusAddr: string;
  partnerUrl: string;
  probeInterval?: string;
  partnerTimeout?: string;
  partnerDown?: number;
  partnerUp?: number;
  peerCidr?: string;
  extraPeerCidrs?: string[];
  tunnels: TunnelSpec[];
  scriptsTimeout?: string;
  /** hook name → argv lists */
  hooks?: Partial<Record<"bridge_activate" | "bridge_deactivate" | "interface_activate" | "interface_deactivate", string[][]>>;
}

/** A Go-shaped config (README shape) for one bridge; `metricsAddr: null` leaves out the metrics section. */
export function bridgeYaml(b: BridgeSpec, metricsAddr: string | null): string {
  return configYaml([b], metricsAddr);
}

/** Several bridges in one config (one process, one metrics endpoint). */
export function configYaml(bridges: readonly BridgeSpec[], metricsAddr: string | null): string {
  return `bridges:\n${bridges.map(bridgeBlock).join("")}${metricsAddr === null ? "" : `metrics:\n  listen_addr: ${metricsAddr}\n`}`;
}

function bridgeBlock(b: BridgeSpec): string {
  const tunnels = b.tunnels
    .map(
      (t) => `      ${t.name}:
        role: ${t.role}
        addr: ${t.addr}
        probe_addr: ${t.probeAddr}
        threshold_down: ${t.thresholdDown ?? 3}
        threshold_up: ${t.thresholdUp ?? 2}`,
    )
    .join("\n");
  const hooks = Object.entries(b.hooks ?? {})
    .map(([hook, commands]) => `      ${hook}: ${JSON.stringify(commands)}`)
    .join("\n");
  return `  ${b.name ?? "robust"}:
    role: ${b.role}
    bridge_interface: rob0
    peer_cidr: ${b.peerCidr ?? "10.99.0.0/16"}
${b.extraPeerCidrs ? `    extra_peer_cidrs: ${JSON.stringify(b.extraPeerCidrs)}\n` : ""}    status_addr: ${b.statusAddr}
    partner_url: ${b.partnerUrl}
    probe_interval: ${b.probeInterval ?? "100ms"}
    partner_status_timeout: ${b.partnerTimeout ?? "80ms"}
    partner_status_threshold_down: ${b.partnerDown ?? 2}
    partner_status_threshold_up: ${b.partnerUp ?? 2}
    probe_location: robust/${b.role}
    tunnel_interfaces:
${tunnels}
    scripts_timeout: ${b.scriptsTimeout ?? "5s"}
${hooks ? `    scripts:\n${hooks}\n` : ""}`;
}

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
