/**
 * The blog's metric names, for `collectors.compat_names: true`
 * (docs/collectors.md §Drop-in for the cron script): the series a cron job wrote into node_exporter's textfile directory by
 * parsing `show vpn ipsec sa` and `show ip bgp neighbors`, so its IPSecDown and BGPDown alerts
 * (`node_ipsec_peer_status == 0`, `node_bgp_neighbor_status == 0`, for 1m) keep working
 * unchanged. Derived, purely, from the collectors' own samples.
 */
import type { FamilyDef, Sample } from "./types.ts";

export const ipsecCompatFamilies: readonly FamilyDef[] = [
  { name: "node_ipsec_peer_status", type: "gauge", labelNames: ["peer", "name"], help: "compat_names: 1 when the tunnel (CHILD_SA) is up, else 0; peer = the remote address, name = the tunnel (the cron script's IPSecDown series)." },
  { name: "node_ipsec_peer_bytes_in", type: "gauge", labelNames: ["peer", "name"], help: "compat_names: bytes received through the tunnel (vpnham_ipsec_child_sa_bytes_total{direction=\"in\"})." },
  { name: "node_ipsec_peer_bytes_out", type: "gauge", labelNames: ["peer", "name"], help: "compat_names: bytes sent through the tunnel (vpnham_ipsec_child_sa_bytes_total{direction=\"out\"})." },
];

export const bgpCompatFamilies: readonly FamilyDef[] = [
  { name: "node_bgp_neighbor_status", type: "gauge", labelNames: ["neighbor"], help: "compat_names: 1 when the BGP session with the neighbour is Established, else 0 (admin down too; the cron script's BGPDown series)." },
  { name: "node_bgp_neighbor_prefixes_in", type: "gauge", labelNames: ["neighbor"], help: "compat_names: prefixes accepted from the neighbour, summed over its AFI/SAFIs and VRFs." },
  { name: "node_bgp_neighbor_prefixes_out", type: "gauge", labelNames: ["neighbor"], help: "compat_names: prefixes advertised to the neighbour, summed over its AFI/SAFIs and VRFs." },
];

export const compatFamilies: readonly FamilyDef[] = [...ipsecCompatFamilies, ...bgpCompatFamilies];

/**
 * From `vpnham_ipsec_child_sa_*{conn,child}`: one series per tunnel, `name` = the child (on VyOS
 * the tunnel's name, `<peer>-tunnel-<n>`), `peer` = `peerOf(conn)` (the remote address; "" when
 * unknown). Two tunnels with the same (peer, name) read as one: down if either is.
 */
export function ipsecCompatSamples(samples: readonly Sample[], peerOf: (conn: string) => string): Sample[] {
  const pair = (l: Readonly<Record<string, string>>) => JSON.stringify([l["conn"], l["child"]]);
  const bytesIn = new Map<string, number>();
  const bytesOut = new Map<string, number>();
  for (const s of samples) {
    if (s.name !== "vpnham_ipsec_child_sa_bytes_total") continue;
    if (s.labels["direction"] === "in") bytesIn.set(pair(s.labels), s.value);
    else if (s.labels["direction"] === "out") bytesOut.set(pair(s.labels), s.value);
  }
  const tunnels = new Map<string, { labels: { peer: string; name: string }; up: number; in: number; out: number }>();
  for (const s of samples) {
    if (s.name !== "vpnham_ipsec_child_sa_up") continue;
    const labels = { peer: peerOf(s.labels["conn"] ?? ""), name: s.labels["child"] ?? "" };
    const id = JSON.stringify(labels);
    const known = tunnels.get(id);
    const k = pair(s.labels);
    const t = { labels, up: s.value, in: bytesIn.get(k) ?? 0, out: bytesOut.get(k) ?? 0 };
    tunnels.set(id, known ? { labels, up: Math.min(known.up, t.up), in: known.in + t.in, out: known.out + t.out } : t);
  }
  return [...tunnels.values()].flatMap((t) => [
    { name: "node_ipsec_peer_status", labels: t.labels, value: t.up },
    { name: "node_ipsec_peer_bytes_in", labels: t.labels, value: t.in },
    { name: "node_ipsec_peer_bytes_out", labels: t.labels, value: t.out },
  ]);
}

/**
 * From `vpnham_bgp_peer_*{vrf,afi_safi,peer,peer_as}`: one series per neighbour address. Status 1
 * only when every session with that address is Established (an admin-down session reads 0, as
 * `show ip bgp neighbors` said `Idle (Admin)` to the cron script); prefixes summed.
 */
export function bgpCompatSamples(samples: readonly Sample[]): Sample[] {
  const neighbors = new Map<string, { up: number; in: number; out: number }>();
  const entry = (neighbor: string) => {
    const known = neighbors.get(neighbor) ?? { up: 1, in: 0, out: 0 };
    neighbors.set(neighbor, known);
    return known;
  };
  for (const s of samples) {
    const neighbor = s.labels["peer"];
    if (neighbor === undefined) continue;
    if (s.name === "vpnham_bgp_peer_up") entry(neighbor).up = Math.min(entry(neighbor).up, s.value);
    else if (s.name === "vpnham_bgp_peer_prefixes_received") entry(neighbor).in += s.value;
    else if (s.name === "vpnham_bgp_peer_prefixes_advertised") entry(neighbor).out += s.value;
  }
  return [...neighbors].flatMap(([neighbor, n]) => [
    { name: "node_bgp_neighbor_status", labels: { neighbor }, value: n.up },
    { name: "node_bgp_neighbor_prefixes_in", labels: { neighbor }, value: n.in },
    { name: "node_bgp_neighbor_prefixes_out", labels: { neighbor }, value: n.out },
  ]);
}
