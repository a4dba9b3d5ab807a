/**
 * FRR's `show bgp vrf all summary json` → samples (docs/collectors.md §FRR), pure and tolerant:
 * every VRF and AFI/SAFI, old and new field names (`pfxRcd` / `prefixReceivedCount`), the
 * single-VRF shape of `show bgp summary json` too. Every neighbour FRR has configured is listed,
 * down ones included, so a peer that is down reads 0 and never vanishes.
 */
import { bgpPeerFamilies, bgpPeerSamples, type BgpPeer } from "../bgp.ts";

export type { BgpPeer } from "../bgp.ts";

const AFI_SAFI: Readonly<Record<string, string>> = {
  ipv4Unicast: "ipv4_unicast",
  ipv4Multicast: "ipv4_multicast",
  ipv4LabeledUnicast: "ipv4_labeled_unicast",
  ipv4Vpn: "ipv4_vpn",
  ipv4Flowspec: "ipv4_flowspec",
  ipv6Unicast: "ipv6_unicast",
  ipv6Multicast: "ipv6_multicast",
  ipv6LabeledUnicast: "ipv6_labeled_unicast",
  ipv6Vpn: "ipv6_vpn",
  ipv6Flowspec: "ipv6_flowspec",
  l2VpnEvpn: "l2vpn_evpn",
};

/** FRR's camelCase AFI/SAFI key as a label value. */
export function afiSafiLabel(key: string): string {
  return AFI_SAFI[key] ?? key.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const count = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : undefined);

/** 0 down, 1 established, 2 admin down — frr_exporter's numbering. */
export function bgpStateValue(state: string, peerState: unknown): 0 | 1 | 2 {
  if (peerState === "Admin" || /\(Admin\)/.test(state)) return 2;
  return state === "Established" ? 1 : 0;
}

function peersOf(vrf: string, afiKey: string, afi: Json): BgpPeer[] {
  const peers = afi["peers"];
  if (!isObject(peers)) return [];
  return Object.entries(peers).flatMap(([peer, raw]): BgpPeer[] => {
    if (!isObject(raw)) return [];
    const state = typeof raw["state"] === "string" ? raw["state"] : "Unknown";
    const stateValue = bgpStateValue(state, raw["peerState"]);
    const uptimeMs = count(raw["peerUptimeMsec"]);
    return [
      {
        vrf,
        afiSafi: afiSafiLabel(afiKey),
        peer,
        peerAs: String(count(raw["remoteAs"]) ?? (typeof raw["remoteAs"] === "string" ? raw["remoteAs"] : "")),
        state,
        stateValue,
        prefixesReceived: count(raw["pfxRcd"]) ?? count(raw["prefixReceivedCount"]),
        prefixesAdvertised: count(raw["pfxSnt"]),
        establishedSeconds: stateValue === 1 && uptimeMs !== undefined ? uptimeMs / 1000 : 0,
        establishedTransitions: count(raw["connectionsEstablished"]),
        dropped: count(raw["connectionsDropped"]),
        messagesReceived: count(raw["msgRcvd"]),
        messagesSent: count(raw["msgSent"]),
      },
    ];
  });
}

/** Every peer of every VRF and AFI/SAFI. Accepts `vrf all` (VRF → AFI/SAFI) and single-VRF output. */
export function parseBgpSummary(json: unknown): BgpPeer[] {
  if (!isObject(json)) throw new Error("vtysh answered something other than a JSON object");
  const afiLevel = (value: unknown) => isObject(value) && ("peers" in value || "routerId" in value || "vrfName" in value);
  const out: BgpPeer[] = [];
  for (const [key, value] of Object.entries(json)) {
    if (!isObject(value)) continue;
    if (afiLevel(value)) {
      // single-VRF shape: key is the AFI/SAFI
      out.push(...peersOf(typeof value["vrfName"] === "string" ? value["vrfName"] : "default", key, value));
    } else {
      for (const [afiKey, afi] of Object.entries(value)) if (isObject(afi)) out.push(...peersOf(key, afiKey, afi));
    }
  }
  return out;
}

/** FRR exports the shared BGP peer series (src/collectors/bgp.ts). */
export const frrFamilies = bgpPeerFamilies;
export const frrSamples = bgpPeerSamples;
