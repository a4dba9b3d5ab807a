/**
 * DNS failover's series (docs/dns-failover.md §Metrics), on the daemon's registry, get-or-create
 * per registry so restarted components (reload) reuse them. Label values come from the config
 * (addresses, names, peers, providers) or fixed sets, never from the network.
 */
import { Counter, Gauge, type Registry } from "../metrics/prom.ts";
import { perRegistry } from "../metrics/series.ts";
import { createReconcileMetrics, type ReconcileMetrics } from "../reconcile/metrics.ts";

export const PEER_POLL_OUTCOMES = ["ok", "refused", "unreachable", "invalid"] as const;
export type PeerPollOutcome = (typeof PEER_POLL_OUTCOMES)[number];
export const CHANGE_OUTCOMES = ["applied", "failed", "dry_run"] as const;

export function createDnsMetrics(registry: Registry) {
  const registers = [registry];
  return {
    addressUp: new Gauge({
      name: "vpnham_dns_address_up",
      help: "This agent's verdict on the address: 1 up, 0 down or no verdict yet.",
      labelNames: ["address"],
      registers,
    }),
    addressRemoved: new Gauge({
      name: "vpnham_dns_address_removed",
      help: "1 while this agent wants the address out of DNS (down here and agreed by enough peers), else 0.",
      labelNames: ["address"],
      registers,
    }),
    recordPresent: new Gauge({
      name: "vpnham_dns_record_present",
      help: "1 when the last read of the name found the address's A/AAAA record, else 0.",
      labelNames: ["name", "address"],
      registers,
    }),
    changes: new Counter({
      name: "vpnham_dns_changes_total",
      help: "Record changes by provider, action (add, delete) and outcome (applied, failed, dry_run: would have been made).",
      labelNames: ["provider", "action", "outcome"],
      registers,
    }),
    peerVotes: new Gauge({
      name: "vpnham_dns_peer_votes",
      help: "Fresh peer votes on the address by vote (down, up).",
      labelNames: ["address", "vote"],
      registers,
    }),
    peerPolls: new Counter({
      name: "vpnham_dns_peer_polls_total",
      help: "Requests for a peer's verdicts by outcome: ok, refused (401, or an answer not MACed with our secret: spoofed or another secret), unreachable (no answer in time), invalid (a body we cannot read).",
      labelNames: ["peer", "outcome"],
      registers,
    }),
    verdictRequests: new Counter({
      name: "vpnham_dns_verdict_requests_total",
      help: "Requests to this agent's GET /dns/verdicts by outcome: ok, refused (no valid X-Vpnham-Auth), not_found, bad_method.",
      labelNames: ["outcome"],
      registers,
    }),
    lastAddressKept: new Counter({
      name: "vpnham_dns_last_address_kept_total",
      help: "Times a deletion was left out because it would have emptied the name's A or AAAA record set (fail open).",
      labelNames: ["name"],
      registers,
    }),
    rateLimited: new Counter({
      name: "vpnham_dns_removals_held_total",
      help: "Removals held back because max_changes_per_interval was reached.",
      registers,
    }),
  };
}

export type DnsMetrics = ReturnType<typeof createDnsMetrics>;

export const dnsMetrics: (registry: Registry) => DnsMetrics = perRegistry(createDnsMetrics);

/** The reconcile engine's series (one set per registry, shared with every other job). */
export function reconcileMetricsOf(registry: Registry): ReconcileMetrics {
  return createReconcileMetrics(registry);
}
