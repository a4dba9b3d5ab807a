/**
 * BGP peer series shared by every routing-daemon collector (docs/collectors.md §FRR, §BIRD): FRR
 * and BIRD export the same family names with the same labels (`vrf`, `afi_safi`, `peer`,
 * `peer_as`), so one dashboard and one alert cover both. A field a daemon does not report is
 * left out of the samples rather than invented.
 */
import type { FamilyDef, Sample } from "./types.ts";

export interface BgpPeer {
  readonly vrf: string;
  /** e.g. ipv4_unicast, l2vpn_evpn. */
  readonly afiSafi: string;
  /** Address or interface (unnumbered) as the daemon names the neighbour. */
  readonly peer: string;
  readonly peerAs: string;
  /** The daemon's own state word (Established, Active, Idle (Admin), Down, …). */
  readonly state: string;
  /** frr_exporter's frr_bgp_peer_state: 0 down, 1 established, 2 admin down. */
  readonly stateValue: 0 | 1 | 2;
  readonly prefixesReceived: number | undefined;
  readonly prefixesAdvertised: number | undefined;
  /** 0 while not Established; undefined when the daemon's answer does not tell. */
  readonly establishedSeconds: number | undefined;
  readonly establishedTransitions: number | undefined;
  readonly dropped: number | undefined;
  readonly messagesReceived: number | undefined;
  readonly messagesSent: number | undefined;
}

const P = "vpnham_bgp_peer_";
const labels = ["vrf", "afi_safi", "peer", "peer_as"] as const;
export const bgpPeerFamilies: readonly FamilyDef[] = [
  { name: `${P}up`, type: "gauge", labelNames: labels, help: "1 when the BGP session is Established, else 0; every neighbour the daemon has configured is listed." },
  { name: `${P}state`, type: "gauge", labelNames: labels, help: "BGP session state as frr_exporter's frr_bgp_peer_state: 0 down, 1 established, 2 administratively down." },
  { name: `${P}prefixes_received`, type: "gauge", labelNames: labels, help: "Prefixes received from the peer and accepted (FRR's pfxRcd, BIRD's imported routes)." },
  { name: `${P}prefixes_advertised`, type: "gauge", labelNames: labels, help: "Prefixes advertised to the peer (FRR's pfxSnt, BIRD's exported routes)." },
  { name: `${P}established_seconds`, type: "gauge", labelNames: labels, help: "Seconds the session has been Established, at the last collection (0 while it is not)." },
  { name: `${P}established_transitions_total`, type: "counter", labelNames: labels, help: "Times the session reached Established since the daemon started (FRR's connectionsEstablished)." },
  { name: `${P}dropped_total`, type: "counter", labelNames: labels, help: "Times an Established session was dropped since the daemon started (FRR's connectionsDropped)." },
  { name: `${P}messages_received_total`, type: "counter", labelNames: labels, help: "BGP messages received from the peer since the daemon started (per peer, repeated under each AFI/SAFI)." },
  { name: `${P}messages_sent_total`, type: "counter", labelNames: labels, help: "BGP messages sent to the peer since the daemon started (per peer, repeated under each AFI/SAFI)." },
];

/** One sample per family and peer; a second peer with the same labels is dropped (first wins). */
export function bgpPeerSamples(peers: readonly BgpPeer[]): Sample[] {
  const samples: Sample[] = [];
  const seen = new Set<string>();
  for (const p of peers) {
    const l = { vrf: p.vrf, afi_safi: p.afiSafi, peer: p.peer, peer_as: p.peerAs };
    const id = JSON.stringify(l);
    if (seen.has(id)) continue;
    seen.add(id);
    const push = (name: string, value: number | undefined) => {
      if (value !== undefined) samples.push({ name: P + name, labels: l, value });
    };
    push("up", p.stateValue === 1 ? 1 : 0);
    push("state", p.stateValue);
    push("prefixes_received", p.prefixesReceived ?? 0);
    push("prefixes_advertised", p.prefixesAdvertised);
    push("established_seconds", p.establishedSeconds);
    push("established_transitions_total", p.establishedTransitions);
    push("dropped_total", p.dropped);
    push("messages_received_total", p.messagesReceived);
    push("messages_sent_total", p.messagesSent);
  }
  return samples;
}
