/**
 * What the DNS failover components share within one daemon (docs/dns-failover.md §Components):
 * this agent's verdicts, the peers' votes, the decision state and the names waiting for their
 * target. It lives as long as the daemon, so a reload that restarts one component (a name added,
 * a check changed) keeps every verdict and vote the others hold. Each input change re-runs the
 * pure decision (decide.ts) and hands each name its new target when it changed.
 */
import { isDeepStrictEqual } from "node:util";
import { removeSeries } from "../metrics/series.ts";
import { errorMessage } from "../util/errors.ts";
import { logger } from "../util/log.ts";
import { decide, initialDecisionState, nameTarget, type AddressDecision, type DecisionParams, type DecisionState, type LocalVerdict, type PeerVote } from "./decide.ts";
import type { DnsMetrics } from "./metrics.ts";
import type { NameDesired } from "./plan.ts";

const log = logger.withTag("dns");

export interface LocalState {
  readonly verdict: LocalVerdict;
  readonly lastError?: string;
}

export interface NameSink {
  readonly ttlS: number;
  readonly addresses: readonly string[];
  setDesired(desired: NameDesired): void;
  status(): unknown;
}

export interface HubConfig {
  readonly params: DecisionParams;
  /** In config order: the order removals take the rate limit's budget. */
  readonly addresses: readonly { readonly address: string; readonly names: readonly string[] }[];
  readonly peers: readonly string[];
  /** Only for the log lines: nothing is changed in a dry run (the reconcile loops know it too). */
  readonly dryRun?: boolean;
}

export interface DnsHub {
  setLocal(address: string, state: LocalState): void;
  clearLocal(address: string): void;
  setVotes(peer: string, verdicts: ReadonlyMap<string, boolean>, receivedMs: number): void;
  clearPeer(peer: string): void;
  /** The decision's parameters; undefined while the decision component is not running (nothing is decided). */
  configure(config: HubConfig | undefined): void;
  /** A name component takes its targets from now on; returns the way to stop. */
  registerName(name: string, sink: NameSink): () => void;
  /** Re-runs the decision (the decision component's timer: votes age, the rate-limit window moves). */
  evaluate(): void;
  /** This agent's decided verdicts, for its peers. */
  publishedVerdicts(): [string, "up" | "down"][];
  status(): unknown;
}

export function createDnsHub(metrics: DnsMetrics, now: () => number = Date.now): DnsHub {
  const local = new Map<string, LocalState>();
  const votes = new Map<string, { receivedMs: number; verdicts: ReadonlyMap<string, boolean> }>();
  const names = new Map<string, NameSink>();
  const sent = new Map<string, NameDesired>();
  let config: HubConfig | undefined;
  let state: DecisionState = initialDecisionState;
  let last: readonly AddressDecision[] = [];
  let seriesOf: readonly string[] = [];

  const votesOn = (address: string): Record<string, PeerVote> => {
    const result: Record<string, PeerVote> = {};
    for (const [peer, entry] of votes) {
      const down = entry.verdicts.get(address);
      if (down !== undefined && config?.peers.includes(peer)) result[peer] = { down, receivedMs: entry.receivedMs };
    }
    return result;
  };

  const dropSeries = (addresses: readonly string[]) => {
    for (const address of addresses) {
      removeSeries(metrics.addressUp, { address });
      removeSeries(metrics.addressRemoved, { address });
      removeSeries(metrics.peerVotes, { address }, { vote: ["down", "up"] });
    }
  };

  const push = () => {
    const byAddress = new Map(last.map((d) => [d.address, d]));
    for (const [name, sink] of names) {
      if (!config) continue;
      const target = nameTarget(sink.addresses, byAddress);
      const desired: NameDesired = { name, ttlS: sink.ttlS, ...target };
      if (isDeepStrictEqual(sent.get(name), desired)) continue;
      sent.set(name, desired);
      try {
        sink.setDesired(desired);
      } catch (error) {
        log.error(`${name}: cannot take its new target: ${errorMessage(error)}`);
      }
    }
  };

  const evaluate = () => {
    if (!config) return;
    const inputs = config.addresses.map(({ address }) => ({ address, local: local.get(address)?.verdict ?? "unknown", votes: votesOn(address) }));
    const decision = decide(state, inputs, config.params, now());
    state = decision.state;
    last = decision.addresses;
    for (const d of decision.addresses) {
      metrics.addressUp.set({ address: d.address }, d.local === "up" ? 1 : 0);
      metrics.addressRemoved.set({ address: d.address }, state.removed.includes(d.address) ? 1 : 0);
      metrics.peerVotes.set({ address: d.address, vote: "down" }, d.votesDown);
      metrics.peerVotes.set({ address: d.address, vote: "up" }, d.votesUp);
    }
    const would = config.dryRun ? "dry run, would be " : "";
    for (const event of decision.events) {
      const fields = { address: event.address, event: event.kind };
      if (event.kind === "remove") log.warn(`${event.address}: ${would || "taking it "}out of DNS: ${event.why}`, fields);
      else if (event.kind === "restore") log.info(`${event.address}: ${would || "putting it "}back into DNS: ${event.why}`, fields);
      else {
        metrics.rateLimited.inc();
        log.warn(`${event.address}: ${event.why}`, fields);
      }
    }
    push();
  };

  return {
    setLocal(address, next) {
      local.set(address, next);
      evaluate();
    },
    clearLocal(address) {
      if (local.delete(address)) evaluate();
    },
    setVotes(peer, verdicts, receivedMs) {
      votes.set(peer, { receivedMs, verdicts });
      evaluate();
    },
    clearPeer(peer) {
      if (votes.delete(peer)) evaluate();
    },
    configure(next) {
      config = next;
      const keep = new Set(next?.addresses.map((a) => a.address) ?? []);
      dropSeries(seriesOf.filter((address) => !keep.has(address)));
      seriesOf = [...keep];
      if (!next) last = [];
      sent.clear(); // a new configuration: every name gets its target again
      evaluate();
    },
    registerName(name, sink) {
      names.set(name, sink);
      sent.delete(name);
      push();
      return () => {
        if (names.get(name) === sink) names.delete(name);
        sent.delete(name);
      };
    },
    evaluate,
    publishedVerdicts() {
      const result: [string, "up" | "down"][] = [];
      for (const [address, entry] of local) if (entry.verdict !== "unknown") result.push([address, entry.verdict]);
      return result;
    },
    status() {
      const byAddress = new Map(last.map((d) => [d.address, d]));
      const nowMs = now();
      return {
        addresses: (config?.addresses ?? []).map(({ address, names: served }) => {
          const d = byAddress.get(address);
          const peerVotes = Object.fromEntries(
            (config?.peers ?? []).map((peer) => {
              const entry = votes.get(peer);
              const vote = entry?.verdicts.get(address);
              if (!entry || vote === undefined) return [peer, "none"];
              const ageMs = nowMs - entry.receivedMs;
              return [peer, ageMs > (config?.params.voteMaxAgeMs ?? 0) ? `stale (${vote ? "down" : "up"}, ${Math.round(ageMs / 1000)} s old)` : vote ? "down" : "up"];
            }),
          );
          const lastError = local.get(address)?.lastError;
          return { address, names: served, local: local.get(address)?.verdict ?? "unknown", ...(lastError ? { lastError } : {}), votes: peerVotes, target: d?.target ?? "hold", why: d?.why ?? "not decided yet" };
        }),
        names: Object.fromEntries([...names].map(([name, sink]) => [name, sink.status()])),
      };
    },
  };
}
