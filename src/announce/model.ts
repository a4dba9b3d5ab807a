/**
 * The `announce:` section as the runtime sees it (docs/announce.md): services with their
 * prefixes and health, one routing-daemon backend, flap damping and the drain state file.
 * Types only; src/announce/schema.ts turns the YAML into these.
 */
import type { IpvsService } from "../checks/targets.ts";

export type Family = 4 | 6;

/** One prefix of the allow-list: canonical network text ("192.0.2.10/32", "2001:db8::10/128"). */
export interface AnnouncePrefix {
  readonly prefix: string;
  readonly family: Family;
  /** FRR: `network <prefix> route-map <routeMap>`. */
  readonly routeMap?: string;
}

/**
 * vip_watchdog's rule on IPVS real servers (weight > 0): withdraw when the count falls to
 * `withdrawAtOrBelow`, announce again only when it reaches `announceAtOrAbove`.
 */
export interface IpvsThreshold {
  readonly service: IpvsService;
  readonly withdrawAtOrBelow: number;
  readonly announceAtOrAbove: number;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly thresholdDown: number;
  readonly thresholdUp: number;
  readonly path: string;
}

export interface AnnounceService {
  readonly prefixes: readonly AnnouncePrefix[];
  /** Names in `checks:`; every one must be up (anycastd's rule). */
  readonly checks: readonly string[];
  readonly ipvs?: IpvsThreshold;
  /** A/AAAA of this name, re-resolved every `interval`, are prefixes too (/32, /128): docs/announce.md §DNS names. */
  readonly dnsName?: string;
  /** The server asked for dnsName ("ip" or "ip:port", "[v6]:port"); else the system resolver. */
  readonly resolver?: string;
  /** FRR route-map of the resolved prefixes (the service's route_map). */
  readonly routeMap?: string;
}

export interface FrrBackend {
  readonly kind: "frr";
  /** argv prefix of vtysh, e.g. ["vtysh"] or ["/usr/bin/vtysh"]. */
  readonly vtysh: readonly string[];
  /** FRR pathspace (`vtysh -N <namespace>`): one set of FRR daemons per network namespace. */
  readonly namespace?: string;
  /** `vtysh --vty_socket <dir>`. */
  readonly socketDir?: string;
  /** Else read from `router bgp <asn>` in the running config. */
  readonly asn?: number;
}

export interface BirdBackend {
  readonly kind: "bird";
  readonly birdc: readonly string[];
  /** `birdc -s <socket>`. */
  readonly socket?: string;
  /** The file vpnham owns; bird.conf includes it. */
  readonly includeFile: string;
  /** Static protocol names: `<protocol>4` and `<protocol>6`. */
  readonly protocol: string;
}

export interface KernelBackend {
  readonly kind: "kernel";
  /** argv prefix of iproute2's `ip`. */
  readonly ip: readonly string[];
  /** `ip -n <namespace>`. */
  readonly namespace?: string;
  /** Routing table of the blackhole routes. */
  readonly table: number;
  /** Route protocol number that marks vpnham's routes (only those are read and deleted). */
  readonly protocol: number;
}

/** ExaBGP 4 through the named pipes of its api.cli (docs/announce.md §ExaBGP). */
export interface ExabgpBackend {
  readonly kind: "exabgp";
  /** ExaBGP reads commands from this FIFO (`<pipename>.in`). */
  readonly pipeIn: string;
  /** ExaBGP writes the answers to this FIFO (`<pipename>.out`). */
  readonly pipeOut: string;
}

export type AnnounceBackend = FrrBackend | BirdBackend | KernelBackend | ExabgpBackend;

export interface DampingConfig {
  /** Least time between two changes (announce ↔ withdraw) of one prefix. */
  readonly minIntervalMs: number;
  /** Re-announce hold-down from the second flap on, doubling per flap. */
  readonly holdDownMs: number;
  /** Cap of the hold-down; a prefix stable this long starts its flap count again. */
  readonly maxHoldDownMs: number;
}

export interface AnnounceConfig {
  readonly backend: AnnounceBackend;
  /** Drains live here (JSON), written atomically. */
  readonly stateFile: string;
  /** Drift re-reads of the backend (an FRR restart forgets runtime `network` lines). */
  readonly intervalMs: number;
  /** Each backend command. */
  readonly timeoutMs: number;
  readonly damping: DampingConfig;
  /** In YAML order. */
  readonly services: Readonly<Record<string, AnnounceService>>;
}
