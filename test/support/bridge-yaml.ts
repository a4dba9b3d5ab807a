/**
 * Go-shaped config YAML for bridges of live tests (loopback addresses chosen by each test):
 * one builder, so that a config key renamed or added is changed in one place.
 */
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
  /** Opt-in authentication (docs/protocol.md §Authentication). */
  secret?: string;
  bridgeInterface?: string;
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
    bridge_interface: ${b.bridgeInterface ?? "rob0"}
    peer_cidr: ${b.peerCidr ?? "10.99.0.0/16"}
${b.extraPeerCidrs ? `    extra_peer_cidrs: ${JSON.stringify(b.extraPeerCidrs)}\n` : ""}    status_addr: ${b.statusAddr}
    partner_url: ${b.partnerUrl}
    probe_interval: ${b.probeInterval ?? "100ms"}
    partner_status_timeout: ${b.partnerTimeout ?? "80ms"}
    partner_status_threshold_down: ${b.partnerDown ?? 2}
    partner_status_threshold_up: ${b.partnerUp ?? 2}
    probe_location: robust/${b.role}
${b.secret === undefined ? "" : `    secret: ${JSON.stringify(b.secret)}\n`}    tunnel_interfaces:
${tunnels}
    scripts_timeout: ${b.scriptsTimeout ?? "5s"}
${hooks ? `    scripts:\n${hooks}\n` : ""}`;
}

