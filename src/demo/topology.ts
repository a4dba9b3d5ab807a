/**
 * The user's 2×2 picture (docs/operations.md §The reference topology) on loopback: each host's
 * 192.168.255.N tunnel address becomes 127.168.255.N, its VPC address
 * 10.x.0.N becomes 127.10.x.N, and every tunnel sends its probes through a
 * relay socket 127.168.254.<far end's N> so a link can be cut without root.
 * Interfaces are named after their links (wg00…, vpc0) so they exist on no
 * host and the ip placeholders fall back to the configured addresses.
 */
import type { UdpLinkEnd } from "./udp-link.ts";

export type HostName = "left-active" | "left-standby" | "right-active" | "right-standby";
export const hostNames: readonly HostName[] = ["left-active", "left-standby", "right-active", "right-standby"];

interface HostPlan {
  bridge: string;
  role: "active" | "standby";
  vpcIp: string;
  partnerIp: string;
  peerCidr: string;
  location: string;
  /** tunnel name → [own N, far N, role] */
  tunnels: [string, number, number, "active" | "standby"][];
}

export const hosts: Record<HostName, HostPlan> = {
  "left-active": {
    bridge: "vpnham-demo-lft", role: "active", vpcIp: "127.10.0.2", partnerIp: "127.10.0.3", peerCidr: "10.1.0.0/16",
    location: "left/active", tunnels: [["wg00", 2, 3, "active"], ["wg01", 18, 19, "standby"]],
  },
  "left-standby": {
    bridge: "vpnham-demo-lft", role: "standby", vpcIp: "127.10.0.3", partnerIp: "127.10.0.2", peerCidr: "10.1.0.0/16",
    location: "left/standby", tunnels: [["wg11", 50, 51, "active"], ["wg10", 34, 35, "standby"]],
  },
  "right-active": {
    bridge: "vpnham-demo-rgt", role: "active", vpcIp: "127.10.1.2", partnerIp: "127.10.1.3", peerCidr: "10.0.0.0/16",
    location: "right/active", tunnels: [["wg00", 3, 2, "active"], ["wg10", 35, 34, "standby"]],
  },
  "right-standby": {
    bridge: "vpnham-demo-rgt", role: "standby", vpcIp: "127.10.1.3", partnerIp: "127.10.1.2", peerCidr: "10.0.0.0/16",
    location: "right/standby", tunnels: [["wg01", 19, 18, "active"], ["wg11", 51, 50, "standby"]],
  },
};

/** The four links of the picture, by their WireGuard names, as pairs of tunnel ends (own N). */
export const links: Record<string, [number, number]> = { wg00: [2, 3], wg01: [18, 19], wg10: [34, 35], wg11: [50, 51] };

export const TUNNEL_PORT = 3003;
export const tunnelIp = (n: number) => `127.168.255.${n}`;
export const relayIp = (n: number) => `127.168.254.${n}`;

export function linkEnd(n: number, far: number): UdpLinkEnd {
  return { host: tunnelIp(n), port: TUNNEL_PORT, relayHost: relayIp(far), relayPort: TUNNEL_PORT };
}

export interface DemoTiming {
  probeInterval: string;
  thresholdDown: number;
  thresholdUp: number;
}

/** One host's config as YAML, so the demo goes through the real config loader. */
export function hostConfigYaml(name: HostName, timing: DemoTiming, hookLine: (event: string) => string): string {
  const h = hosts[name];
  const hook = (event: string) => `[["sh", "-c", ${JSON.stringify(hookLine(event))}]]`;
  const tunnels = h.tunnels
    .map(
      ([tunnel, own, far, role]) => `      ${tunnel}:
        role: ${role}
        addr: ${tunnelIp(own)}:${TUNNEL_PORT}
        probe_addr: ${relayIp(far)}:${TUNNEL_PORT}
        threshold_down: ${timing.thresholdDown}
        threshold_up: ${timing.thresholdUp}`,
    )
    .join("\n");
  return `# ${name} of the loopback demo
bridges:
  ${h.bridge}:
    role: ${h.role}
    bridge_interface: vpc0
    peer_cidr: ${h.peerCidr}
    status_addr: ${h.vpcIp}:8080
    partner_url: http://${h.partnerIp}:8080/
    probe_interval: ${timing.probeInterval}
    partner_status_timeout: 150ms
    partner_status_threshold_down: ${timing.thresholdDown}
    partner_status_threshold_up: ${timing.thresholdUp}
    probe_location: ${h.location}
    tunnel_interfaces:
${tunnels}
    scripts_timeout: 5s
    scripts:
      bridge_activate: ${hook("bridge_activate ${bridge_interface} ${bridge_interface_ip} ${bridge_peer_cidr}")}
      bridge_deactivate: ${hook("bridge_deactivate ${bridge_interface} ${bridge_peer_cidr}")}
      interface_activate: ${hook("interface_activate ${tunnel_interface} ${tunnel_interface_ip}")}
      interface_deactivate: ${hook("interface_deactivate ${tunnel_interface} ${tunnel_interface_ip}")}
metrics:
  listen_addr: ${h.vpcIp}:8000
`;
}
