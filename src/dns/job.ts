/**
 * DNS failover as a job (src/daemon/jobs.ts, docs/dns-failover.md §Components): one component per
 * address check (`dns_failover:check:<address>`), one for the peers (`dns_failover:peers`), one per
 * name (`dns_failover:name:<name>`) and the decision (`dns_failover:decision`). They share the
 * daemon's hub (hub.ts), so a reload restarts only what changed and keeps every verdict and vote.
 */
import { checkMetrics } from "../checks/metrics.ts";
import { startChecks, type ChecksRuntime } from "../checks/runtime.ts";
import type { CheckSpec } from "../checks/schema.ts";
import type { Config } from "../config/index.ts";
import type { Component, ComponentSpec, Job, JobContext } from "../daemon/component.ts";
import { startReconcileLoop, type ReconcileLoop } from "../reconcile/engine.ts";
import { logger } from "../util/log.ts";
import type { DnsFailoverConfig, DnsProvider } from "./config.ts";
import type { DecisionParams } from "./decide.ts";
import { createDnsHub, type DnsHub, type HubConfig } from "./hub.ts";
import { dnsMetrics, reconcileMetricsOf } from "./metrics.ts";
import { PeersRuntime, type PeersSettings } from "./peers.ts";
import type { NameDesired } from "./plan.ts";
import { createNameReconciler, type NameReconciler } from "./reconciler.ts";
import { createProviderClient, type DnsProviderClient } from "./provider.ts";

export const DNS_KEY_PREFIX = "dns_failover:";
const log = logger.withTag("dns");

/** A component from three functions; start/stop wrap them so stop() never throws. */
function component(key: string, settings: unknown, parts: { start(): Promise<void> | void; stop(): Promise<void> | void; status(): unknown }): Component {
  return {
    key,
    settings,
    start: async () => parts.start(),
    async stop() {
      try {
        await parts.stop();
      } catch (error) {
        log.error(`${key}: stopping failed: ${(error as Error).message}`);
      }
    },
    status: () => parts.status(),
  };
}

function checkComponent(key: string, settings: { address: string; check: CheckSpec }, hub: DnsHub, context: JobContext): Component {
  let runtime: ChecksRuntime | undefined;
  const checkName = `dns:${settings.address}`;
  return component(key, settings, {
    start() {
      hub.setLocal(settings.address, { verdict: "unknown" });
      runtime = startChecks(
        { [checkName]: settings.check },
        {
          metrics: checkMetrics(context.metrics.registry),
          bridgeActive: (bridge) => context.bridgeActive(bridge),
          onChange: (_, status) => hub.setLocal(settings.address, { verdict: status.up ? "up" : "down", ...(status.lastError ? { lastError: status.lastError } : {}) }),
        },
      );
    },
    async stop() {
      await runtime?.stop();
      hub.clearLocal(settings.address);
    },
    status: () => runtime?.status()[checkName],
  });
}

interface NameSettings {
  name: string;
  ttlS: number;
  providerName: string;
  provider: DnsProvider;
  addresses: string[];
  dryRun: boolean;
  driftIntervalMs: number;
}

function nameComponent(key: string, settings: NameSettings, hub: DnsHub, context: JobContext): Component {
  let loop: ReconcileLoop<NameDesired> | undefined;
  let reconciler: NameReconciler | undefined;
  let client: DnsProviderClient | undefined;
  let unregister: (() => void) | undefined;
  let desired: NameDesired | undefined;
  const metrics = dnsMetrics(context.metrics.registry);
  return component(key, settings, {
    start() {
      const { provider } = settings;
      reconciler = createNameReconciler({
        name: settings.name,
        provider: settings.providerName,
        client: (client = createProviderClient(provider)),
        metrics,
        dryRun: settings.dryRun,
        addresses: settings.addresses,
      });
      loop = startReconcileLoop(reconciler, {
        dryRun: settings.dryRun,
        // A Route 53 change waits for INSYNC inside its call (docs/dns-failover.md §Route 53).
        callTimeoutMs: provider.kind === "route53" ? provider.timeoutMs * 2 + provider.insyncTimeoutMs : provider.timeoutMs,
        driftIntervalMs: settings.driftIntervalMs,
        metrics: reconcileMetricsOf(context.metrics.registry),
      });
      unregister = hub.registerName(settings.name, {
        ttlS: settings.ttlS,
        addresses: settings.addresses,
        setDesired: (next) => {
          desired = next;
          loop?.setDesired(next);
        },
        status: () => ({
          provider: settings.providerName,
          ttl: settings.ttlS,
          wanted: desired ? { present: desired.present, absent: desired.absent } : "not decided yet",
          dns: reconciler?.lastRead()?.map((r) => `${r.type} ${r.address} (TTL ${r.ttlS})`) ?? "not read yet",
          ...(reconciler && reconciler.kept().length > 0 ? { keptLastAddress: reconciler.kept() } : {}),
          reconcile: loop?.status(),
        }),
      });
    },
    async stop() {
      unregister?.();
      await loop?.stop();
      client?.close?.();
      reconciler?.removeSeries();
    },
    status: () => ({ dns: reconciler?.lastRead(), wanted: desired, reconcile: loop?.status() }),
  });
}

interface DecisionSettings extends HubConfig {
  dryRun: boolean;
}

function decisionComponent(key: string, settings: DecisionSettings, hub: DnsHub, tickMs: number): Component {
  let timer: ReturnType<typeof setInterval> | undefined;
  return component(key, settings, {
    start() {
      if (settings.dryRun) {
        log.warn("dns_failover: DRY RUN — DNS is read and every change is logged as 'dry run, would …', none is made (set dns_failover.dry_run: false to act)");
      } else {
        log.warn("dns_failover: LIVE — DNS records will be changed when addresses are judged down and enough peers agree");
      }
      hub.configure(settings);
      timer = setInterval(() => {
        try {
          hub.evaluate();
        } catch (error) {
          log.error(`decision failed: ${(error as Error).message}`); // a bug; the next tick tries again
        }
      }, tickMs);
    },
    stop() {
      clearInterval(timer);
      hub.configure(undefined);
    },
    status: () => ({ mode: settings.dryRun ? "dry_run" : "live", minPeersAgree: settings.params.minPeersAgree, ...(hub.status() as object) }),
  });
}

/** The components one `dns_failover:` section wants, in start order. */
export function dnsSpecs(section: DnsFailoverConfig, hub: DnsHub, context: JobContext): ComponentSpec[] {
  const dryRun = section.dryRun || context.dryRun;
  const specs: ComponentSpec[] = section.addresses.map(({ address, check }) => {
    const key = `${DNS_KEY_PREFIX}check:${address}`;
    const settings = { address, check };
    return { key, settings, create: () => checkComponent(key, settings, hub, context) };
  });
  const peers: PeersSettings = {
    ...(section.agent === undefined ? {} : { agent: section.agent }),
    peers: section.peers,
    ...(section.listen ? { listen: section.listen } : {}),
    ...(section.secret === undefined ? {} : { secret: section.secret }),
    pollIntervalMs: section.pollIntervalMs,
    pollTimeoutMs: section.pollTimeoutMs,
  };
  if (section.peers.length > 0 || section.listen) {
    const key = `${DNS_KEY_PREFIX}peers`;
    specs.push({ key, settings: peers, create: () => component(key, peers, runtimeParts(new PeersRuntime(peers, hub, dnsMetrics(context.metrics.registry)))) });
  }
  for (const name of section.names) {
    const key = `${DNS_KEY_PREFIX}name:${name.name}`;
    const settings: NameSettings = {
      name: name.name,
      ttlS: name.ttlS,
      providerName: name.provider,
      provider: section.providers[name.provider]!,
      addresses: section.addresses.filter((a) => a.names.includes(name.name)).map((a) => a.address),
      dryRun,
      driftIntervalMs: section.driftIntervalMs,
    };
    specs.push({ key, settings, create: () => nameComponent(key, settings, hub, context) });
  }
  const params: DecisionParams = {
    minPeersAgree: section.minPeersAgree,
    voteMaxAgeMs: section.voteMaxAgeMs,
    maxChangesPerInterval: section.maxChangesPerInterval,
    changeIntervalMs: section.changeIntervalMs,
  };
  const decision: DecisionSettings = {
    params,
    addresses: section.addresses.map(({ address, names }) => ({ address, names })),
    peers: section.peers.map((p) => p.name),
    dryRun,
  };
  const key = `${DNS_KEY_PREFIX}decision`;
  const tickMs = Math.min(1000, section.pollIntervalMs);
  specs.push({ key, settings: decision, create: () => decisionComponent(key, decision, hub, tickMs) });
  return specs;
}

const runtimeParts = (runtime: PeersRuntime) => ({ start: () => runtime.start(), stop: () => runtime.stop(), status: () => runtime.status() });

export const dnsFailoverJob: Job = (context) => {
  let hub: DnsHub | undefined;
  return (config: Config): ComponentSpec[] => {
    if (!config.dnsFailover) return [];
    hub ??= createDnsHub(dnsMetrics(context.metrics.registry));
    return dnsSpecs(config.dnsFailover, hub, context);
  };
};
