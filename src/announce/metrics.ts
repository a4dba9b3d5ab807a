/**
 * The announce job's series (docs/announce.md §Metrics), on the daemon's registry; get-or-create
 * per registry so a restarted component (reload) reuses them. Labels are names from the config
 * (service, prefix), so the series stay few and stable.
 */
import { Counter, Gauge, type Registry } from "../metrics/prom.ts";
import { perRegistry, removeSeries } from "../metrics/series.ts";

export interface AnnounceMetrics {
  /** 1 announce, 0 withdraw; no series while the prefix's health was never known (held). */
  readonly desired: Gauge<"service" | "prefix">;
  /** 1 when the routing daemon had the prefix at the last read, else 0. */
  readonly announced: Gauge<"service" | "prefix">;
  /** 1 while drained (the service or the prefix). */
  readonly drained: Gauge<"service" | "prefix">;
  /** Changes of the decision, by the new one (announce, withdraw). */
  readonly changes: Counter<"service" | "prefix" | "to">;
  /** 1 healthy, 0 not (or not known yet). */
  readonly healthy: Gauge<"service">;
  /** 1 when the last read of the routing daemon succeeded. */
  readonly backendUp: Gauge<"backend">;
  /** Failed or empty answers for a service's dns_name (the last good set was kept). */
  readonly dnsFailures: Counter<"service">;
}

export const announceMetrics = perRegistry((registry): AnnounceMetrics => {
  const registers = [registry];
  return {
    desired: new Gauge({
      name: "vpnham_announce_desired",
      help: "1 when the prefix should be announced, 0 when withdrawn (health, damping and drains); absent while its health was never known.",
      labelNames: ["service", "prefix"],
      registers,
    }),
    announced: new Gauge({
      name: "vpnham_announce_announced",
      help: "1 when the routing daemon announced the prefix at the last read, else 0.",
      labelNames: ["service", "prefix"],
      registers,
    }),
    drained: new Gauge({
      name: "vpnham_announce_drained",
      help: "1 while the prefix is drained by hand (vpnham drain), its service or itself.",
      labelNames: ["service", "prefix"],
      registers,
    }),
    changes: new Counter({
      name: "vpnham_announce_changes_total",
      help: "Changes of a prefix's decision, by the new one (to: announce, withdraw).",
      labelNames: ["service", "prefix", "to"],
      registers,
    }),
    healthy: new Gauge({
      name: "vpnham_announce_service_healthy",
      help: "1 when every check of the service is up (and its IPVS rule holds), 0 otherwise or not known yet.",
      labelNames: ["service"],
      registers,
    }),
    backendUp: new Gauge({
      name: "vpnham_announce_backend_up",
      help: "1 when the last read of the routing daemon (vtysh, birdc, ip, ExaBGP's pipes) succeeded, else 0.",
      labelNames: ["backend"],
      registers,
    }),
    dnsFailures: new Counter({
      name: "vpnham_announce_dns_failures_total",
      help: "Failed or empty resolutions of a service's dns_name; its last good set of prefixes was kept.",
      labelNames: ["service"],
      registers,
    }),
  };
});

/** Drops every series of a configuration (the component stopped). */
export function removeAnnounceSeries(metrics: AnnounceMetrics, prefixes: readonly { service: string; prefix: string }[], backend: string): void {
  const services = new Set(prefixes.map((p) => p.service));
  for (const labels of prefixes) {
    for (const gauge of [metrics.desired, metrics.announced, metrics.drained]) removeSeries(gauge, labels);
    removeSeries(metrics.changes, labels, { to: ["announce", "withdraw"] });
  }
  removeSeries(metrics.healthy, {}, { service: [...services] });
  removeSeries(metrics.dnsFailures, {}, { service: [...services] });
  removeSeries(metrics.backendUp, { backend });
}
