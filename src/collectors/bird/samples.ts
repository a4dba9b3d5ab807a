/**
 * BIRD protocols → samples (docs/collectors.md §BIRD), pure. BGP protocols become the shared BGP
 * peer series (src/collectors/bgp.ts), one per channel (AFI/SAFI), with frr_exporter's state
 * numbering; every protocol also reads in `vpnham_bird_protocol_up`. Every BGP protocol BIRD has
 * configured is listed, down and disabled ones included, so a peer never vanishes.
 */
import { bgpPeerFamilies, bgpPeerSamples, type BgpPeer } from "../bgp.ts";
import type { FamilyDef, Sample } from "../types.ts";
import { secondsSince, type BirdProtocol, type BirdTime } from "./parse.ts";

/** BIRD's channel names as the FRR collector's `afi_safi` values. */
const CHANNEL_AFI_SAFI: Readonly<Record<string, string>> = {
  ipv4: "ipv4_unicast",
  ipv6: "ipv6_unicast",
  "ipv4-mc": "ipv4_multicast",
  "ipv6-mc": "ipv6_multicast",
  "ipv4-mpls": "ipv4_labeled_unicast",
  "ipv6-mpls": "ipv6_labeled_unicast",
  "vpn4-mpls": "ipv4_vpn",
  "vpn6-mpls": "ipv6_vpn",
  "vpn4-mc": "ipv4_vpn_multicast",
  "vpn6-mc": "ipv6_vpn_multicast",
  flow4: "ipv4_flowspec",
  flow6: "ipv6_flowspec",
};

export function channelAfiSafi(channel: string): string {
  return CHANNEL_AFI_SAFI[channel] ?? channel.toLowerCase().replace(/[^a-z0-9]+/g, "_");
}

/**
 * 0 down, 1 established, 2 admin down (frr_exporter's numbering). A protocol in state `down` is
 * disabled — by `disabled` in the config or `birdc disable` — since BIRD restarts a failed
 * BGP protocol (state `start`) on its own.
 */
export function birdBgpStateValue(protocol: Pick<BirdProtocol, "state" | "bgpState" | "info">): 0 | 1 | 2 {
  if (protocol.state === "down") return 2;
  const bgp = protocol.bgpState ?? protocol.info.split(/\s+/)[0] ?? "";
  return protocol.state === "up" && bgp === "Established" ? 1 : 0;
}

/** The BGP protocols as peers: one per channel (a BGP protocol without channels reads as ipv4_unicast). */
export function birdBgpPeers(protocols: readonly BirdProtocol[], serverNow: BirdTime | undefined, localNow: { epoch: number; naive: number }): BgpPeer[] {
  return protocols
    .filter((p) => p.proto === "BGP")
    .flatMap((p) => {
      const stateValue = birdBgpStateValue(p);
      const established = stateValue === 1 ? secondsSince(p.since, serverNow, localNow) : 0;
      const channels = p.channels.length > 0 ? p.channels : [{ name: "ipv4", state: undefined, imported: undefined, exported: undefined }];
      return channels.map(
        (c): BgpPeer => ({
          vrf: p.vrf ?? "default",
          afiSafi: channelAfiSafi(c.name),
          // Without a neighbour address (a dynamic BGP template) the protocol name stands in.
          peer: p.neighborAddress ?? p.name,
          peerAs: p.neighborAs ?? "",
          state: p.bgpState ?? p.state,
          stateValue,
          // A channel that is not up has no Routes line: nothing received or sent.
          prefixesReceived: c.imported ?? 0,
          prefixesAdvertised: c.exported ?? 0,
          establishedSeconds: established,
          establishedTransitions: undefined,
          dropped: undefined,
          messagesReceived: undefined,
          messagesSent: undefined,
        }),
      );
    });
}

export const birdProtocolFamilies: readonly FamilyDef[] = [
  { name: "vpnham_bird_protocol_up", type: "gauge", labelNames: ["protocol", "proto"], help: "1 when the BIRD protocol's state is up, else 0; every protocol BIRD has configured is listed (proto: BGP, OSPF, Static, …)." },
];

export const birdFamilies: readonly FamilyDef[] = [...bgpPeerFamilies, ...birdProtocolFamilies];

export function birdSamples(protocols: readonly BirdProtocol[], serverNow: BirdTime | undefined, localNow: { epoch: number; naive: number }): Sample[] {
  const samples = bgpPeerSamples(birdBgpPeers(protocols, serverNow, localNow));
  const seen = new Set<string>();
  for (const p of protocols) {
    if (seen.has(p.name)) continue;
    seen.add(p.name);
    samples.push({ name: "vpnham_bird_protocol_up", labels: { protocol: p.name, proto: p.proto }, value: p.state === "up" ? 1 : 0 });
  }
  return samples;
}

/** Our clock as `secondsSince` wants it: epoch seconds and local wall time as naive seconds. */
export function localClock(nowMs: number = Date.now()): { epoch: number; naive: number } {
  const offsetMs = new Date(nowMs).getTimezoneOffset() * 60_000;
  return { epoch: nowMs / 1000, naive: (nowMs - offsetMs) / 1000 };
}
