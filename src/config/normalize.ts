/**
 * Parsed YAML (either shape) → the internal model, plus warnings. Pure apart from the injected
 * secret-file reader.
 */
import { resolve } from "node:path";
import { FileRefusedError } from "../util/read-file.ts";
import { resolveDnsSecrets } from "../dns/config.ts";
import { isUnbracketedIpv6, type Cidr } from "./address.ts";
import { formatDurationMs } from "./duration.ts";
import type { BridgeConfig, Config, HookConfig, TunnelConfig } from "./model.ts";
import { hookNames, type HookName } from "./placeholders.ts";
import type { RawBridge, RawConfig } from "./schema.ts";
import { normalizeAws, normalizeAzure, normalizeGcp } from "../cloud/schema.ts";
import { stateFileProblems } from "./state-files.ts";

export type KeyOrder = {
  /** Bridge names in YAML order. */
  bridges: readonly string[];
  /** Tunnel names per bridge in YAML order. */
  tunnels: ReadonlyMap<string, readonly string[]>;
};

export type NormalizeEnv = {
  /** Interfaces present on this host; undefined skips the existence warnings. */
  interfaceNames?: ReadonlySet<string>;
  /** Directory that relative `secret_file` paths are resolved against. */
  baseDir: string;
  /** Reads a secret file; throws when it cannot. */
  readSecretFile: (path: string) => SecretFile;
};

export type SecretFile = { text: string; worldReadable: boolean };

export type Normalized = { config: Config; problems: string[]; warnings: string[] };

/** Keys of `data` in `order` first (YAML order survives numeric-looking names), then the rest. */
function orderedKeys(data: object, order: readonly string[] | undefined): string[] {
  const keys = new Set(Object.keys(data));
  const first = new Set((order ?? []).filter((key) => keys.has(key)));
  return [...first, ...[...keys].filter((key) => !first.has(key))];
}

export function normalize(raw: RawConfig, order: KeyOrder, env: NormalizeEnv): Normalized {
  const problems: string[] = [];
  const warnings: string[] = [];
  const rawBridges = raw.bridges ?? {};
  const bridges = orderedKeys(rawBridges, order.bridges).map((name) => {
    const bridge = rawBridges[name] as RawBridge;
    return normalizeBridge(name, bridge, raw, order.tunnels.get(name), env, problems, warnings);
  });
  const listenAddr = raw.metrics.listen_addr;
  if (isUnbracketedIpv6(listenAddr)) warnings.push(bracketWarning("metrics.listen_addr", listenAddr.text));
  const config: Config = {
    bridges,
    metrics: {
      listenAddr,
      latencyBucketsCount: raw.metrics.latency_buckets_count,
      maxLatencyUs: raw.metrics.max_latency_us,
      ...(raw.metrics.textfile_path === undefined ? {} : { textfilePath: raw.metrics.textfile_path }),
    },
    control: { socketPath: raw.control.socket_path },
    ...(raw.collectors === undefined ? {} : { collectors: raw.collectors }),
    dryRun: raw.dry_run,
    ...(raw.checks === undefined ? {} : { checks: raw.checks }),
    ...(raw.dns_failover === undefined ? {} : { dnsFailover: resolveDnsSecrets(raw.dns_failover, env, problems, warnings) }),
    ...(raw.announce === undefined ? {} : { announce: raw.announce }),
  };
  problems.push(...stateFileProblems(config));
  return { config, problems, warnings };
}

function normalizeBridge(
  name: string,
  raw: RawBridge,
  top: RawConfig,
  tunnelOrder: readonly string[] | undefined,
  env: NormalizeEnv,
  problems: string[],
  warnings: string[],
): BridgeConfig {
  const at = `bridges.${name}`;
  const tunnels: TunnelConfig[] = orderedKeys(raw.tunnel_interfaces, tunnelOrder).map((tunnelName) => {
    const tunnel = raw.tunnel_interfaces[tunnelName]!;
    for (const key of ["addr", "probe_addr"] as const) {
      if (isUnbracketedIpv6(tunnel[key])) warnings.push(bracketWarning(`${at}.tunnel_interfaces.${tunnelName}.${key}`, tunnel[key].text));
    }
    if (tunnel.ipsec && top.collectors?.strongswan === undefined) {
      problems.push(`${at}.tunnel_interfaces.${tunnelName}.ipsec: needs collectors.strongswan, which reads the CHILD_SA's state`);
    }
    if (tunnel.bgp && top.collectors?.frr === undefined && top.collectors?.bird === undefined) {
      problems.push(`${at}.tunnel_interfaces.${tunnelName}.bgp: needs collectors.frr or collectors.bird, which read the session's state`);
    }
    return {
      name: tunnelName,
      role: tunnel.role,
      addr: tunnel.addr,
      probeAddr: tunnel.probe_addr,
      thresholdDown: tunnel.threshold_down,
      thresholdUp: tunnel.threshold_up,
      ...(tunnel.ipsec ? { ipsec: tunnel.ipsec } : {}),
      ...(tunnel.bgp ? { bgp: tunnel.bgp } : {}),
    };
  });

  const cidrs: Array<[string, Cidr]> = [[`${at}.peer_cidr`, raw.peer_cidr], ...raw.extra_peer_cidrs.map((c, i): [string, Cidr] => [`${at}.extra_peer_cidrs[${i}]`, c])];
  for (const [path, cidr] of cidrs) {
    if (cidr.hostBitsSet) warnings.push(`${path}: ${cidr.written} has host bits set; using ${cidr.text}`);
  }
  if (isUnbracketedIpv6(raw.status_addr)) warnings.push(bracketWarning(`${at}.status_addr`, raw.status_addr.text));

  if (raw.partner_status_timeout >= raw.probe_interval) {
    warnings.push(
      `${at}.partner_status_timeout: ${formatDurationMs(raw.partner_status_timeout)} is not shorter than probe_interval ${formatDurationMs(raw.probe_interval)}; polls may overlap`,
    );
  }

  if (env.interfaceNames) {
    const names: Array<[string, string | undefined]> = [
      [`${at}.bridge_interface`, raw.bridge_interface],
      [`${at}.partner_polling_interface`, raw.partner_polling_interface],
      ...raw.secondary_interfaces.map((n, i): [string, string] => [`${at}.secondary_interfaces[${i}]`, n]),
      ...tunnels.map((t): [string, string] => [`${at}.tunnel_interfaces.${t.name}`, t.name]),
    ];
    for (const [path, ifname] of names) {
      if (ifname !== undefined && !env.interfaceNames.has(ifname)) {
        warnings.push(`${path}: interface ${ifname} not found on this host (or it has no address)`);
      }
    }
  }

  raw.partner_checks.forEach((check, i) => {
    if (top.checks?.[check] === undefined) problems.push(`${at}.partner_checks[${i}]: no check ${check} in checks:`);
  });

  const bridgeActivate = raw.reconcile?.bridge_activate;
  if (bridgeActivate?.aws && bridgeActivate.aws.route_tables.length === 0) {
    warnings.push(`${at}.reconcile.bridge_activate.aws.route_tables: empty; no route table will be updated`);
  }

  return {
    name,
    role: raw.role,
    bridgeInterface: raw.bridge_interface,
    peerCidrs: cidrs.map(([, cidr]) => cidr.text),
    statusAddr: raw.status_addr,
    partnerUrl: (raw.partner_url ?? raw.partner_status_url)!,
    ...(raw.partner_polling_interface === undefined ? {} : { partnerPollingInterface: raw.partner_polling_interface }),
    ...(raw.partner_checks.length === 0 ? {} : { partnerChecks: raw.partner_checks }),
    partnerStatusTimeoutMs: raw.partner_status_timeout,
    partnerThresholdDown: raw.partner_status_threshold_down,
    partnerThresholdUp: raw.partner_status_threshold_up,
    probeIntervalMs: raw.probe_interval,
    probeLocation: raw.probe_location,
    secondaryInterfaces: raw.secondary_interfaces,
    tunnels,
    scriptsTimeoutMs: raw.reconcile ? raw.reconcile.scripts_timeout : raw.scripts_timeout,
    hooks: hooksOf(raw, top, env.baseDir),
    preemptDelayMs: raw.preempt_delay,
    ...secretOf(at, raw, env, problems, warnings),
  };
}

function hooksOf(raw: RawBridge, top: RawConfig, baseDir: string): Record<HookName, HookConfig> {
  const reconcile = raw.reconcile;
  const own = (hook: HookName) => (reconcile ? reconcile[hook]?.script : raw.scripts?.[hook]);
  const commandsOf = (hook: HookName) => own(hook) ?? top.default_scripts?.[hook] ?? [];
  const hooks = Object.fromEntries(hookNames.map((hook) => [hook, { commands: commandsOf(hook) }])) as Record<HookName, HookConfig>;
  const activate = reconcile?.bridge_activate;
  if (activate?.reapply) hooks.bridge_activate.reapply = activate.reapply;
  if (activate?.aws || activate?.gcp || activate?.azure) {
    hooks.bridge_activate.cloud = {
      ...(activate.aws ? { aws: normalizeAws(activate.aws, (path) => resolve(baseDir, path)) } : {}),
      ...(activate.gcp ? { gcp: normalizeGcp(activate.gcp, (path) => resolve(baseDir, path)) } : {}),
      ...(activate.azure ? { azure: normalizeAzure(activate.azure, (path) => resolve(baseDir, path)) } : {}),
    };
  }
  const interfaceReapply = reconcile?.interface_activate?.reapply;
  if (interfaceReapply) hooks.interface_activate.reapply = interfaceReapply;
  return hooks;
}

/** A secret file's text without its trailing line ending(s). */
export function secretFromFileText(text: string): string {
  return text.replace(/[\r\n]+$/, "");
}

/** The secret, from `secret` or `secret_file`. Messages never contain it. */
function secretOf(at: string, raw: RawBridge, env: NormalizeEnv, problems: string[], warnings: string[]): { secret?: string } {
  let secret = raw.secret;
  let path = `${at}.secret`;
  if (secret === undefined && raw.secret_file !== undefined) {
    path = `${at}.secret_file`;
    const file = resolve(env.baseDir, raw.secret_file);
    try {
      const read = env.readSecretFile(file);
      secret = secretFromFileText(read.text);
      if (read.worldReadable) warnings.push(`${path}: ${file} is readable by everyone; chmod 600 it`);
    } catch (error) {
      // A refused file says why in words ("not a regular file: a FIFO"); an OS error by its code.
      const reason = error instanceof FileRefusedError ? error.message : ((error as NodeJS.ErrnoException).code ?? (error as Error).message);
      problems.push(`${path}: cannot read ${file} (${reason})`);
      return {};
    }
  }
  if (secret === undefined) return {};
  if (secret === "") {
    problems.push(`${path}: the secret is empty`);
    return {};
  }
  if (new TextEncoder().encode(secret).length < 16) warnings.push(`${path}: the secret is shorter than 16 bytes; use a longer one`);
  return { secret };
}

function bracketWarning(path: string, text: string): string {
  return `${path}: ${text} is an IPv6 address without brackets; write it as [address]:port`;
}
