/**
 * Cloud route tables as a job (src/daemon/jobs.ts; docs/cloud-routes.md): one component per
 * bridge and cloud, key `cloud:<bridge>/<aws|gcp|azure>`. While the daemon's bridge is active,
 * one reconcile loop per target (AWS and Azure: per route table; GCP: the bridge's routes)
 * points every destination at this host and repairs drift; when the bridge stops being active the
 * loops stop (the partner takes over; nothing is removed). Nothing here reaches the cloud before
 * the first activation, and then only lazily (providers.ts) — except a standby with
 * adopt_partner_routes, which reads (docs/cloud-routes.md §Adopting the partner's routes).
 */
import { readFileSync } from "node:fs";
import type { Config } from "../config/index.ts";
import type { Component, ComponentSpec, Job, JobContext } from "../daemon/component.ts";
import { startReconcileLoop, type ReconcileLoop, type ReconcileStatus } from "../reconcile/engine.ts";
import { createReconcileMetrics } from "../reconcile/metrics.ts";
import type { RetryPolicy } from "../reconcile/retry.ts";
import { errorMessage } from "../util/errors.ts";
import { logger } from "../util/log.ts";
import type { LocalAddresses } from "./aws/eni.ts";
import { destinationsOf, type Destination } from "./aws/plan.ts";
import type { Env } from "./aws/settings.ts";
import { decideClaim, initialClaimState, type ClaimState } from "./claim.ts";
import { createHttpClient, type HttpClientOptions, type HttpFetch } from "./http.ts";
import { proxySettings, type ProxySettings } from "./proxy.ts";
import { cloudMetrics, removeCloudSeries } from "./metrics.ts";
import { awsProvider, azureProvider, gcpProvider, type CloudName, type CloudProvider, type CloudTiming, type ProviderInput } from "./providers.ts";
import type { CloudAws, CloudAzure, CloudGcp } from "./schema.ts";

export const CLOUD_KEY_PREFIX = "cloud:";

interface CommonSettings {
  readonly bridge: string;
  readonly role: "active" | "standby";
  readonly peerCidrs: readonly string[];
  /** bridge_interface, then secondary_interfaces. */
  readonly interfaces: readonly string[];
  /** Every bridge's peer_cidr and extra_peer_cidrs of this daemon: adopt_partner_routes never takes them. */
  readonly reservedCidrs?: readonly string[];
}
export interface AwsRoutesSettings extends CommonSettings {
  readonly aws: CloudAws;
}
export interface GcpRoutesSettings extends CommonSettings {
  readonly gcp: CloudGcp;
}
export interface AzureRoutesSettings extends CommonSettings {
  readonly azure: CloudAzure;
}

/** What tests (and the bench) replace; the daemon uses the defaults. */
export interface CloudJobOptions {
  readonly env?: Env;
  readonly fetch?: HttpFetch;
  /** How often the bridge's state is looked at; default 100 ms. */
  readonly watchIntervalMs?: number;
  readonly localAddresses?: (ifname: string) => LocalAddresses;
  readonly retry?: RetryPolicy;
  /** GCP Operation and Azure long-running operation polling; default 500 ms / 1 s. */
  readonly pollIntervalMs?: number;
  /** How often a standby learns the partner's routes (adopt_partner_routes); default drift_interval, else 1 min. */
  readonly learnIntervalMs?: number;
}

interface TableRun {
  readonly name: string;
  readonly loop: ReconcileLoop<unknown>;
  claim: ClaimState;
  hold?: string;
}

export interface CloudRoutesStatus {
  readonly cloud: CloudName;
  readonly bridge: string;
  readonly active: boolean;
  /** AWS: region, endpoint, networkInterfaces, credentials; GCP: project, instance, networks. */
  readonly [found: string]: unknown;
  /** By route table (AWS) or `routes` (GCP). */
  readonly tables: Record<string, Partial<ReconcileStatus> & { hold?: string }>;
}
/** The AWS component's status, with the fields it fills. */
export type AwsRoutesStatus = CloudRoutesStatus & {
  readonly region?: string;
  readonly endpoint?: string;
  readonly networkInterfaces?: ReadonlyArray<{ interface: string; eni: string; vpcId?: string }>;
  readonly credentials?: string;
};

/** One bridge's routes in one cloud: the loops while the bridge is active. */
export class CloudRoutesComponent implements Component {
  readonly key: string;
  private readonly log;
  private readonly labels;
  private readonly destinations: Destination[];
  private http: ReturnType<typeof createHttpClient> | undefined;
  private provider: CloudProvider | undefined;
  private watch: ReturnType<typeof setInterval> | undefined;
  private runs: TableRun[] | undefined;
  private learning: { abort: AbortController; done: Promise<void> } | undefined;
  private lastLearnMs = -Infinity;
  private learnError = "";
  private readonly stopping = new Set<Promise<void>>();

  constructor(
    readonly settings: CommonSettings,
    private readonly cloud: CloudName,
    private readonly timing: CloudTiming & { routeTables?: readonly string[] },
    private readonly makeProvider: (input: ProviderInput) => CloudProvider,
    private readonly context: JobContext,
    private readonly options: CloudJobOptions,
  ) {
    this.key = `${CLOUD_KEY_PREFIX}${settings.bridge}/${cloud}`;
    this.log = logger.withTag(`cloud ${settings.bridge}/${cloud}`);
    this.labels = { bridge: settings.bridge, cloud };
    this.destinations = destinationsOf(settings.peerCidrs);
  }

  async start(): Promise<void> {
    const env = this.options.env ?? process.env;
    const fetch = this.options.fetch ?? (this.http = createHttpClient(this.httpOptions(env))).fetch;
    const metrics = cloudMetrics(this.context.metrics.registry);
    this.provider = this.makeProvider({
      bridge: this.settings.bridge,
      destinations: this.destinations,
      reserved: destinationsOf(this.settings.reservedCidrs ?? []),
      // A refused read is also in learn's error (logged when it changes); a dropped entry only here, once.
      reportAdopt: (reason, message) => {
        metrics.adoptIgnored.inc({ ...this.labels, reason });
        if (reason === "invalid_entry") this.log.warn(message);
      },
      interfaces: this.settings.interfaces,
      env,
      fetch,
      ...(this.options.localAddresses ? { localAddresses: this.options.localAddresses } : {}),
    });
    metrics.tablesHeld.set(this.labels, 0);
    this.watch = setInterval(() => this.check(), this.options.watchIntervalMs ?? 100);
    this.check();
  }

  /** Proxy and extra CA from the environment (docs/cloud-routes.md §Endpoints); a bad one is logged, not fatal. */
  private httpOptions(env: Env): HttpClientOptions {
    let proxy: ProxySettings | undefined;
    let ca: Buffer | undefined;
    try {
      proxy = proxySettings(env);
    } catch (error) {
      this.log.error(`${errorMessage(error)}; going without a proxy`);
    }
    if (env.AWS_CA_BUNDLE) {
      try {
        ca = readFileSync(env.AWS_CA_BUNDLE);
      } catch (error) {
        this.log.error(`AWS_CA_BUNDLE ${env.AWS_CA_BUNDLE}: ${errorMessage(error)}; using the default trust store`);
      }
    }
    return { ...(proxy ? { proxy } : {}), ...(ca ? { ca } : {}) };
  }

  /** Start or stop the loops as the bridge's state says; never throws (a timer calls it). */
  private check(): void {
    try {
      const active = this.context.bridgeActive(this.settings.bridge) === true;
      if (active && !this.runs) this.activate();
      else if (!active && this.runs) this.deactivate("the bridge is no longer active");
      if (!active) this.maybeLearn();
    } catch (error) {
      this.log.error(`watching the bridge failed: ${errorMessage(error)}`);
    }
  }

  /** Standby: let the provider learn (docs/cloud-routes.md §Adopting the partner's routes), one read at a time. */
  private maybeLearn(): void {
    const learn = this.provider?.learn;
    const intervalMs = this.options.learnIntervalMs ?? (this.timing.driftIntervalMs || 60_000);
    if (!learn || this.learning || Date.now() - this.lastLearnMs < intervalMs) return;
    this.lastLearnMs = Date.now();
    const abort = new AbortController();
    const done = learn
      .call(this.provider, abort.signal)
      .then(() => {
        if (this.learnError) this.log.info("learning the partner's routes works again");
        this.learnError = "";
      })
      .catch((error: unknown) => {
        const message = errorMessage(error);
        if (message !== this.learnError && !abort.signal.aborted) this.log.warn(message);
        this.learnError = message;
      })
      .finally(() => (this.learning = undefined));
    this.learning = { abort, done };
  }

  private activate(): void {
    const timing = this.timing;
    const provider = this.provider!;
    const metrics = cloudMetrics(this.context.metrics.registry);
    this.log.info(`bridge active: pointing ${this.destinations.length} destination(s) at this host`, {
      targets: provider.targets.map((t) => t.name),
      destinations: this.settings.peerCidrs,
      dry_run: this.context.dryRun,
    });
    this.runs = provider.targets.map((target) => {
      const run: Partial<TableRun> & { claim: ClaimState; hold?: string } = { name: target.name, claim: initialClaimState };
      const reconciler = target.reconciler((view) => {
        const wasHolding = run.claim.holding;
        const decision = decideClaim(run.claim, view, {
          configuredActive: this.settings.role === "active",
          partnerActive: this.context.partnerActive?.(this.settings.bridge),
          nowMs: Date.now(),
          driftIntervalMs: timing.driftIntervalMs,
          maxHoldMs: timing.partnerClaimHoldMaxMs,
        });
        run.claim = decision.state;
        const hold = decision.claim ? undefined : decision.reason;
        if (decision.conflict) {
          metrics.conflicts.inc(this.labels);
          this.log.warn(`${target.name}: ${decision.reason}`, { target: target.name });
        } else if (hold !== undefined && hold.split(";")[0] !== run.hold?.split(";")[0]) this.log.info(`${target.name}: ${hold}`, { target: target.name });
        run.hold = hold;
        if (wasHolding !== decision.state.holding) this.publishHeld();
        return decision;
      });
      const loop = startReconcileLoop(reconciler, {
        dryRun: this.context.dryRun,
        callTimeoutMs: timing.timeoutMs,
        driftIntervalMs: timing.driftIntervalMs,
        metrics: createReconcileMetrics(this.context.metrics.registry),
        ...(this.options.retry ? { retry: this.options.retry } : {}),
      });
      const full = Object.assign(run, { loop }) as TableRun;
      loop.setDesired(target.desired());
      return full;
    });
  }

  private publishHeld(): void {
    const held = (this.runs ?? []).filter((r) => r.claim.holding).length;
    cloudMetrics(this.context.metrics.registry).tablesHeld.set(this.labels, held);
  }

  private deactivate(why: string): void {
    const runs = this.runs ?? [];
    this.runs = undefined;
    this.publishHeld();
    if (runs.length > 0) this.log.info(`${why}: leaving the route tables to the partner`);
    const done = Promise.all(runs.map((r) => r.loop.stop()))
      .then(() => {})
      .catch((error: unknown) => this.log.error(`stopping a route-table loop: ${errorMessage(error)}`));
    this.stopping.add(done);
    void done.finally(() => this.stopping.delete(done));
  }

  /** Wait until every table's loop is idle (tests, bench). */
  async settled(): Promise<void> {
    await Promise.all((this.runs ?? []).map((r) => r.loop.settled()));
  }

  async stop(): Promise<void> {
    if (this.watch) clearInterval(this.watch);
    this.watch = undefined;
    this.learning?.abort.abort();
    await this.learning?.done;
    this.deactivate("stopping");
    await Promise.all([...this.stopping]);
    this.http?.close();
    if (this.provider) {
      const { kind, targets } = this.provider;
      removeCloudSeries(cloudMetrics(this.context.metrics.registry), createReconcileMetrics(this.context.metrics.registry), this.labels, kind, targets.map((t) => t.target));
    }
  }

  status(): CloudRoutesStatus {
    const tables: CloudRoutesStatus["tables"] = {};
    for (const target of this.provider?.targets ?? []) {
      const run = this.runs?.find((r) => r.name === target.name);
      tables[target.name] = run ? { ...run.loop.status(), ...(run.hold ? { hold: run.hold } : {}) } : {};
    }
    return { cloud: this.cloud, bridge: this.settings.bridge, active: this.runs !== undefined, ...(this.provider?.known() ?? {}), tables };
  }
}

export class AwsRoutesComponent extends CloudRoutesComponent {
  constructor(
    override readonly settings: AwsRoutesSettings,
    context: JobContext,
    options: CloudJobOptions,
  ) {
    super(settings, "aws", settings.aws, (input) => awsProvider(settings.aws, input), context, options);
  }

  override status(): AwsRoutesStatus {
    return super.status();
  }
}

export class GcpRoutesComponent extends CloudRoutesComponent {
  constructor(
    override readonly settings: GcpRoutesSettings,
    context: JobContext,
    options: CloudJobOptions,
  ) {
    super(settings, "gcp", settings.gcp, (input) => gcpProvider(settings.gcp, { ...input, ...(options.pollIntervalMs ? { pollIntervalMs: options.pollIntervalMs } : {}) }), context, options);
  }
}

export class AzureRoutesComponent extends CloudRoutesComponent {
  constructor(
    override readonly settings: AzureRoutesSettings,
    context: JobContext,
    options: CloudJobOptions,
  ) {
    super(settings, "azure", settings.azure, (input) => azureProvider(settings.azure, { ...input, ...(options.pollIntervalMs ? { pollIntervalMs: options.pollIntervalMs } : {}) }), context, options);
  }
}

/** The job, with its edges replaceable (tests); `cloudJob` is the daemon's. */
export function makeCloudJob(options: CloudJobOptions = {}): Job {
  return (context: JobContext) =>
    (config: Config): ComponentSpec[] => {
      const reservedCidrs = [...new Set(config.bridges.flatMap((bridge) => bridge.peerCidrs))];
      return config.bridges.flatMap((bridge) => {
        const cloud = bridge.hooks.bridge_activate?.cloud;
        const common: CommonSettings = {
          bridge: bridge.name,
          role: bridge.role,
          peerCidrs: bridge.peerCidrs,
          interfaces: [bridge.bridgeInterface, ...bridge.secondaryInterfaces],
          reservedCidrs,
        };
        const specs: ComponentSpec[] = [];
        if (cloud?.aws && cloud.aws.routeTables.length > 0) {
          const settings: AwsRoutesSettings = { ...common, aws: cloud.aws };
          specs.push({ key: `${CLOUD_KEY_PREFIX}${bridge.name}/aws`, settings, create: () => new AwsRoutesComponent(settings, context, options) });
        }
        if (cloud?.gcp) {
          const settings: GcpRoutesSettings = { ...common, gcp: cloud.gcp };
          specs.push({ key: `${CLOUD_KEY_PREFIX}${bridge.name}/gcp`, settings, create: () => new GcpRoutesComponent(settings, context, options) });
        }
        if (cloud?.azure && cloud.azure.routeTables.length > 0) {
          const settings: AzureRoutesSettings = { ...common, azure: cloud.azure };
          specs.push({ key: `${CLOUD_KEY_PREFIX}${bridge.name}/azure`, settings, create: () => new AzureRoutesComponent(settings, context, options) });
        }
        return specs;
      });
    };
}

export const cloudJob: Job = makeCloudJob();
