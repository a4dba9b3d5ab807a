/**
 * The CHILD_SA states the strongSwan collector last read, for the tunnels tied to them
 * (docs/collectors.md §IPsec-aware failover). One per daemon: the collectors publish after every
 * strongSwan run (an event from charon triggers one within ~50 ms), the bridges' tunnels
 * subscribe. A failed run or stopped collectors publish "unknown": the probes alone decide then.
 */
import type { IpsecInput } from "../monitor/tunnel-health.ts";
import type { Sample } from "./types.ts";

export interface IpsecTie {
  readonly conn: string;
  /** Without it: any child of the connection. */
  readonly child?: string | undefined;
}

/** The state of a tie in `vpnham_ipsec_child_sa_up` samples (undefined samples: unknown). Pure. */
export function ipsecStateOf(samples: readonly Sample[] | undefined, tie: IpsecTie): IpsecInput {
  if (samples === undefined) return "unknown";
  const mine = samples.filter((s) => s.name === "vpnham_ipsec_child_sa_up" && s.labels["conn"] === tie.conn && (tie.child === undefined || s.labels["child"] === tie.child));
  // A connection or child charon has not loaded (a typo, a config not loaded yet) is unknown, not
  // down: a wrong name must not take a tunnel down for good. The tunnel logs it.
  if (mine.length === 0) return "unknown";
  return mine.some((s) => s.value === 1) ? "up" : "down";
}

export class IpsecStates {
  private samples: readonly Sample[] | undefined;
  private readonly listeners = new Set<() => void>();

  /** After a strongSwan run: its child_sa_up samples, or undefined when charon could not be read. */
  publish(samples: readonly Sample[] | undefined): void {
    this.samples = samples?.filter((s) => s.name === "vpnham_ipsec_child_sa_up");
    for (const listener of [...this.listeners]) {
      try {
        listener();
      } catch {
        // a listener's bug must not stop the others (nor the collector's run)
      }
    }
  }

  state(tie: IpsecTie): IpsecInput {
    return ipsecStateOf(this.samples, tie);
  }

  /** Whether charon has the tie's connection (and child) loaded; undefined while charon is not read. */
  loaded(tie: IpsecTie): boolean | undefined {
    if (this.samples === undefined) return undefined;
    return this.samples.some((s) => s.labels["conn"] === tie.conn && (tie.child === undefined || s.labels["child"] === tie.child));
  }

  /** Calls `listener` after every publish; returns the unsubscribe. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

const perDaemon = new WeakMap<object, IpsecStates>();

/** The daemon's IpsecStates, keyed by an object it has once (its metrics registry). */
export function ipsecStatesFor(owner: object): IpsecStates {
  let states = perDaemon.get(owner);
  if (!states) {
    states = new IpsecStates();
    perDaemon.set(owner, states);
  }
  return states;
}
