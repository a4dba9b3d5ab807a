/**
 * What the collectors last read of the daemons a tunnel may be tied to (docs/collectors.md
 * §IPsec-aware failover, §BGP-aware failover): strongSwan's CHILD_SAs, FRR's and BIRD's BGP
 * peers. One per daemon: each collector publishes its samples after every run (an event from
 * charon triggers one within ~50 ms), the bridges' tunnels subscribe. A failed run or stopped
 * collectors publish "not read": the probes alone decide then.
 */
import type { TieInput } from "../monitor/tunnel-health.ts";
import type { Sample } from "./types.ts";

export interface IpsecTie {
  readonly conn: string;
  /** Without it: any child of the connection. */
  readonly child?: string | undefined;
}

export interface BgpTie {
  /** The neighbour as the daemon names it (address, or interface when unnumbered). */
  readonly peer: string;
  /** Without it: the peer in any VRF. */
  readonly vrf?: string | undefined;
}

/** The family each collector publishes, by collector kind: only these reach the tunnels. */
export const tieFamilies: Readonly<Record<string, string>> = {
  strongswan: "vpnham_ipsec_child_sa_up",
  frr: "vpnham_bgp_peer_up",
  bird: "vpnham_bgp_peer_up",
};

const IPSEC_SOURCES = ["strongswan"] as const;
const BGP_SOURCES = ["frr", "bird"] as const;

/** Up when any matching sample is 1, down when all are 0, unknown without one. Pure. */
function stateOf(samples: readonly Sample[] | undefined, matches: (s: Sample) => boolean): TieInput {
  if (samples === undefined) return "unknown";
  const mine = samples.filter(matches);
  // A connection or peer the daemon does not have (a typo, a config not loaded yet) is unknown,
  // not down: a wrong name must not take a tunnel down for good. The tunnel logs it.
  if (mine.length === 0) return "unknown";
  return mine.some((s) => s.value === 1) ? "up" : "down";
}

const ipsecMatch = (tie: IpsecTie) => (s: Sample) =>
  s.name === "vpnham_ipsec_child_sa_up" && s.labels["conn"] === tie.conn && (tie.child === undefined || s.labels["child"] === tie.child);
const bgpMatch = (tie: BgpTie) => (s: Sample) => s.name === "vpnham_bgp_peer_up" && s.labels["peer"] === tie.peer && (tie.vrf === undefined || s.labels["vrf"] === tie.vrf);

/** The state of a tie in `vpnham_ipsec_child_sa_up` samples (undefined samples: unknown). Pure. */
export function ipsecStateOf(samples: readonly Sample[] | undefined, tie: IpsecTie): TieInput {
  return stateOf(samples, ipsecMatch(tie));
}

/**
 * The state of a tie in `vpnham_bgp_peer_up` samples: "up" when the session is Established
 * (under any of its AFI/SAFIs), "down" when the peer is known and not Established (Active,
 * Idle, admin down), unknown when it is not listed or the daemon not read. Pure.
 */
export function bgpStateOf(samples: readonly Sample[] | undefined, tie: BgpTie): TieInput {
  return stateOf(samples, bgpMatch(tie));
}

export class CollectorStates {
  /** By collector kind: its tie family's samples, or undefined while it is not read. */
  private readonly bySource = new Map<string, readonly Sample[] | undefined>();
  private readonly listeners = new Set<() => void>();

  /** After a run of collector `source`: its samples, or undefined when its daemon could not be read. */
  publish(source: string, samples: readonly Sample[] | undefined): void {
    const family = tieFamilies[source];
    if (family === undefined) return;
    this.bySource.set(
      source,
      samples?.filter((s) => s.name === family),
    );
    for (const listener of [...this.listeners]) {
      try {
        listener();
      } catch {
        // a listener's bug must not stop the others (nor the collector's run)
      }
    }
  }

  /** The samples of the sources that were read (joined), undefined when none was. */
  private samplesOf(sources: readonly string[]): readonly Sample[] | undefined {
    const read = sources.map((s) => this.bySource.get(s)).filter((s) => s !== undefined);
    return read.length === 0 ? undefined : read.flat();
  }

  ipsec(tie: IpsecTie): TieInput {
    return ipsecStateOf(this.samplesOf(IPSEC_SOURCES), tie);
  }

  bgp(tie: BgpTie): TieInput {
    return bgpStateOf(this.samplesOf(BGP_SOURCES), tie);
  }

  /** Whether charon has the tie's connection (and child) loaded; undefined while charon is not read. */
  ipsecLoaded(tie: IpsecTie): boolean | undefined {
    const samples = this.samplesOf(IPSEC_SOURCES);
    return samples === undefined ? undefined : samples.some((s) => s.labels["conn"] === tie.conn && (tie.child === undefined || s.labels["child"] === tie.child));
  }

  /** Whether FRR or BIRD lists the tie's peer; undefined while neither is read. */
  bgpKnown(tie: BgpTie): boolean | undefined {
    const samples = this.samplesOf(BGP_SOURCES);
    return samples === undefined ? undefined : samples.some(bgpMatch(tie));
  }

  /** Calls `listener` after every publish; returns the unsubscribe. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

const perDaemon = new WeakMap<object, CollectorStates>();

/** The daemon's CollectorStates, keyed by an object it has once (its metrics registry). */
export function collectorStatesFor(owner: object): CollectorStates {
  let states = perDaemon.get(owner);
  if (!states) {
    states = new CollectorStates();
    perDaemon.set(owner, states);
  }
  return states;
}
