/** One bridge `vpn` on loopback whose bridge_activate carries the given cloud lines (indented under it). */
export function cloudBridgeYaml(cloud: string): string {
  return `bridges:
  vpn:
    role: active
    bridge_interface: eth0
    peer_cidr: 10.99.0.0/16
    status_addr: 127.0.0.1:8080
    partner_url: http://127.0.0.2:8080/
    probe_location: a
    tunnel_interfaces:
      t0: { role: active, addr: 127.0.0.1:3003, probe_addr: 127.0.0.2:3003 }
    reconcile:
      bridge_activate:
${cloud
  .trim()
  .split("\n")
  .map((line) => `        ${line}`)
  .join("\n")}
`;
}
