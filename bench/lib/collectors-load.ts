/**
 * The load of bench/collectors.ts: N IPsec tunnels and N BGP peers, as charon's VICI messages,
 * FRR's `show bgp vrf all summary json`, and the text a cron script parses (`swanctl --list-sas`,
 * `show ip bgp summary`). Shapes follow the captures in test/collectors/fixtures/. Every 10th
 * tunnel and peer is down, so both code paths (an SA present, an expected tunnel absent) run.
 */
import type { ViciSection } from "../../src/vici/message.ts";

const down = (i: number): boolean => i % 10 === 9;
const conn = (i: number): string => `gw-${i}`;
const remote = (i: number): string => `10.98.${Math.floor(i / 250)}.${(i % 250) + 2}`;
const peer = (i: number): string => `10.99.${Math.floor(i / 250)}.${(i % 250) + 2}`;
const bytesIn = (i: number): number => 1_000_000 + i * 4099;
const bytesOut = (i: number): number => 700_000 + i * 3001;

/** One `list-conn` event per connection (one child `net` each). */
export function listConnEvents(n: number): ViciSection[] {
  return Array.from({ length: n }, (_, i) => ({
    [conn(i)]: {
      local_addrs: ["10.98.0.1"],
      remote_addrs: [remote(i)],
      version: "IKEv2",
      reauth_time: "0",
      rekey_time: "14400",
      unique: "UNIQUE_NO",
      dpd_delay: "2",
      "local-1": { id: "10.98.0.1", class: "pre-shared key", groups: [], cert_policy: [], certs: [], cacerts: [] },
      "remote-1": { id: remote(i), class: "pre-shared key", groups: [], cert_policy: [], certs: [], cacerts: [] },
      children: {
        net: { mode: "TUNNEL", rekey_time: "3600", rekey_bytes: "0", rekey_packets: "0", dpd_action: "none", close_action: "none", "local-ts": ["10.10.1.0/24"], "remote-ts": [`10.${20 + Math.floor(i / 250)}.${i % 250}.0/24`] },
      },
    },
  }));
}

/** One `list-sa` event per IKE_SA that is up (every 10th tunnel has none). */
export function listSaEvents(n: number): ViciSection[] {
  const out: ViciSection[] = [];
  for (let i = 0; i < n; i++) {
    if (down(i)) continue;
    out.push({
      [conn(i)]: {
        uniqueid: String(2 * i + 1),
        version: "2",
        state: "ESTABLISHED",
        "local-host": "10.98.0.1",
        "local-port": "4500",
        "local-id": "10.98.0.1",
        "remote-host": remote(i),
        "remote-port": "4500",
        "remote-id": remote(i),
        initiator: "yes",
        "initiator-spi": "23ac4b3e60024db8",
        "responder-spi": "1c883b75702cc5dc",
        "encr-alg": "AES_CBC",
        "encr-keysize": "256",
        "integ-alg": "HMAC_SHA2_256_128",
        "prf-alg": "PRF_HMAC_SHA2_256",
        "dh-group": "MODP_2048",
        established: "3600",
        "rekey-time": "13022",
        "child-sas": {
          [`net-${2 * i + 2}`]: {
            name: "net",
            uniqueid: String(2 * i + 2),
            reqid: String(i + 1),
            state: "INSTALLED",
            mode: "TUNNEL",
            protocol: "ESP",
            "spi-in": "7fbfbc1b",
            "spi-out": "7c91f1b3",
            "encr-alg": "AES_CBC",
            "encr-keysize": "256",
            "integ-alg": "HMAC_SHA2_256_128",
            "bytes-in": String(bytesIn(i)),
            "packets-in": String(Math.floor(bytesIn(i) / 100)),
            "use-in": "1",
            "bytes-out": String(bytesOut(i)),
            "packets-out": String(Math.floor(bytesOut(i) / 100)),
            "use-out": "1",
            "rekey-time": "3502",
            "life-time": "3959",
            "install-time": "98",
            "local-ts": ["10.10.1.0/24"],
            "remote-ts": [`10.${20 + Math.floor(i / 250)}.${i % 250}.0/24`],
          },
        },
      },
    });
  }
  return out;
}

/** `show bgp vrf all summary json` with N IPv4 unicast peers in the default VRF. */
export function frrSummaryJson(n: number): string {
  const peers: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) {
    peers[peer(i)] = {
      hostname: `r${i}`,
      remoteAs: 65100 + i,
      localAs: 65001,
      version: 4,
      msgRcvd: 1000 + i,
      msgSent: 900 + i,
      tableVersion: 0,
      outq: 0,
      inq: 0,
      peerUptime: down(i) ? "never" : "01:00:00",
      peerUptimeMsec: down(i) ? 0 : 3_600_000,
      peerUptimeEstablishedEpoch: 1796220876,
      pfxRcd: down(i) ? 0 : 10 + (i % 7),
      pfxSnt: down(i) ? 0 : 3,
      state: down(i) ? "Active" : "Established",
      peerState: "OK",
      connectionsEstablished: 1,
      connectionsDropped: 0,
      idType: "ipv4",
    };
  }
  const afi = { routerId: "10.99.0.1", as: 65001, vrfId: 0, vrfName: "default", tableVersion: 2, ribCount: 3, ribMemory: 576, peerCount: n, peerMemory: 741464 * n, peers, failedPeers: Math.floor(n / 10), displayedPeers: n, totalPeers: n, dynamicPeers: 0, bestPath: { multiPathRelax: "false" } };
  return JSON.stringify({ default: { ipv4Unicast: afi } }, null, 1);
}

/** What `swanctl --list-sas` prints for the SAs of listSaEvents(n) (test/../list-sas.txt's shape). */
export function swanctlListSasText(n: number): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    if (down(i)) continue;
    lines.push(
      `${conn(i)}: #${2 * i + 1}, ESTABLISHED, IKEv2, 23ac4b3e60024db8_i* 1c883b75702cc5dc_r`,
      `  local  '10.98.0.1' @ 10.98.0.1[4500]`,
      `  remote '${remote(i)}' @ ${remote(i)}[4500]`,
      `  AES_CBC-256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048`,
      `  established 3600s ago, rekeying in 13022s`,
      `  net: #${2 * i + 2}, reqid ${i + 1}, INSTALLED, TUNNEL, ESP:AES_CBC-256/HMAC_SHA2_256_128`,
      `    installed 98s ago, rekeying in 3502s, expires in 3959s`,
      `    in  7fbfbc1b, ${String(bytesIn(i)).padStart(8)} bytes, ${String(Math.floor(bytesIn(i) / 100)).padStart(6)} packets,     1s ago`,
      `    out 7c91f1b3, ${String(bytesOut(i)).padStart(8)} bytes, ${String(Math.floor(bytesOut(i) / 100)).padStart(6)} packets,     1s ago`,
      `    local  10.10.1.0/24`,
      `    remote 10.${20 + Math.floor(i / 250)}.${i % 250}.0/24`,
    );
  }
  return lines.join("\n") + "\n";
}

/** What `swanctl --list-conns` names (the cron script's list of expected tunnels): `conn remote` per line. */
export function expectedTunnelsText(n: number): string {
  return Array.from({ length: n }, (_, i) => `${conn(i)} ${remote(i)}`).join("\n") + "\n";
}

/** `show ip bgp summary` text (FRR's, test/../summary.txt's shape) with N neighbours. */
export function bgpSummaryText(n: number): string {
  const rows = Array.from({ length: n }, (_, i) => {
    const state = down(i) ? "Active" : String(10 + (i % 7));
    const sent = down(i) ? "0" : "3";
    return `${peer(i).padEnd(15)} 4 ${String(65100 + i).padStart(10)} ${String(1000 + i).padStart(9)} ${String(900 + i).padStart(9)}        0    0    0 ${down(i) ? "   never" : "01:00:00"} ${state.padStart(12)} ${sent.padStart(8)} N/A`;
  });
  return [
    "",
    "IPv4 Unicast Summary (VRF default):",
    "BGP router identifier 10.99.0.1, local AS number 65001 vrf-id 0",
    "BGP table version 2",
    "RIB entries 3, using 576 bytes of memory",
    `Peers ${n}, using ${724 * n} KiB of memory`,
    "",
    "Neighbor        V         AS   MsgRcvd   MsgSent   TblVer  InQ OutQ  Up/Down State/PfxRcd   PfxSnt Desc",
    ...rows,
    "",
    `Total number of neighbors ${n}`,
  ].join("\n") + "\n";
}
