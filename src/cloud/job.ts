/**
 * Cloud route tables as a job (src/daemon/jobs.ts; docs/cloud-routes.md): one component per
 * bridge and cloud, key `cloud:<bridge>/aws`. While the daemon's bridge is active, one reconcile
 * loop per route table points every destination at this host and repairs drift; when the bridge
 * stops being active the loops stop (the partner takes over; nothing is removed). Nothing here
 * reaches the cloud before the first activation, and then only lazily (context.ts).
 */
import { readFileSync } from "node:fs";
import type { Config } from "../config/index.ts";
import type { Component, ComponentSpec, Job, JobContext } from "../daemon/component.ts";
import { startReconcileLoop, type ReconcileLoop, type ReconcileStatus } from "../reconcile/engine.ts";
import { reconcileMetricsFor } from "../reconcile/metrics.ts";
import type { RetryPolicy } from "../reconcile/retry.ts";
import { errorMessage } from "../util/errors.ts";
import { logger } from "../util/log.ts";
import { createAwsContext, type AwsContext } from "./aws/context.ts";
import type { LocalAddresses } from "./aws/eni.ts";
import { destinationsOf, type Destination } from "./aws/plan.ts";
import { AWS_ROUTE_KIND, awsTableReconciler } from "./aws/reconciler.ts";
import type { Env } from "./aws/settings.ts";
import { decideClaim, initialClaimState, type ClaimState } from "./claim.ts";
import { createHttpClient, type HttpClientOptions, type HttpFetch } from "./http.ts";
import { proxySettings, type ProxySettings } from "./proxy.ts";
import { cloudMetrics, removeCloudSeries } from "./metrics.ts";
import type { CloudAws } from "./schema.ts";

export const CLOUD_KEY_PREFIX = "cloud:";

export interface AwsRoutesSettings {
  readonly bridge: string;
  readonly role: "active" | "standby";
  readonly peerCidrs: readonly string[];
  /** bridge_interface, then secondary_interfaces. */
  readonly interfaces: readonly string[];
  readonly aws: CloudAws;
}

/** What tests (and the bench) replace; the daemon uses the defaults. */
export interface CloudJobOptions {
  readonly env?: Env;
  readonly fetch?: HttpFetch;
  /** How often the bridge's state is looked at; default 100 ms. */
  readonly watchIntervalMs?: number;
  readonly localAddresses?: (ifname: string) => LocalAddresses;
  readonly retry?: RetryPolicy;
}

interface TableRun {
  readonly routeTableId: string;
  readonly loop: ReconcileLoop<readonly Destination[]>;
  claim: ClaimState;
  hold?: string;
}

export interface AwsRoutesStatus {
  readonly cloud: "aws";
  readonly bridge: string;
  readonly active: boolean;
  readonly region?: string;
  readonly endpoint?: string;
  readonly networkInterfaces?: ReadonlyArray<{ interface: string; eni: string; vpcId?: string }>;
  readonly credentials?: string;
  readonly tables: Record<string, Partial<ReconcileStatus> & { hold?: string }>;
}

export class AwsRoutesComponent implements Component {
  readonly key: string;
  private readonly log;
  private readonly labels;
  private readonly destinations: Destination[];
  private http: ReturnType<typeof createHttpClient> | undefined;
  private aws: AwsContext | undefined;
  private watch: ReturnType<typeof setInterval> | undefined;
  private runs: TableRun[] | undefined;
  private readonly stopping = new Set<Promise<void>>();

  constructor(
    readonly settings: AwsRoutesSettings,
    private readonly context: JobContext,
    private readonly options: CloudJobOptions,
  ) {
    this.key = `${CLOUD_KEY_PREFIX}${settings.bridge}/aws`;
    this.log = logger.withTag(`cloud ${settings.bridge}/aws`);
    this.labels = { bridge: settings.bridge, cloud: "aws" };
    this.destinations = destinationsOf(settings.peerCidrs);
  }

  private target(routeTableId: string): string {
    return `${this.settings.bridge}/${routeTableId}`;
  }

  async start(): Promise<void> {
    const env = this.options.env ?? process.env;
    const fetch = this.options.fetch ?? (this.http = createHttpClient(this.httpOptions(env))).fetch;
    const { aws } = this.settings;
    this.aws = createAwsContext({
      places: {
        ...(aws.region ? { region: aws.region } : {}),
        ...(aws.endpoint ? { endpoint: aws.endpoint } : {}),
        ...(aws.metadataEndpoint ? { metadataEndpoint: aws.metadataEndpoint } : {}),
      },
      ...(aws.networkInterfaceId ? { networkInterfaceId: aws.networkInterfaceId } : {}),
      interfaces: this.settings.interfaces,
      env,
      fetch,
      ...(this.options.localAddresses ? { localAddresses: this.options.localAddresses } : {}),
    });
    cloudMetrics(this.context.metrics.registry).tablesHeld.set(this.labels, 0);
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
    } catch (error) {
      this.log.error(`watching the bridge failed: ${errorMessage(error)}`);
    }
  }

  private activate(): void {
    const { aws } = this.settings;
    const metrics = cloudMetrics(this.context.metrics.registry);
    this.log.info(`bridge active: pointing ${this.destinations.length} destination(s) in ${aws.routeTables.length} route table(s) at this host`, {
      tables: aws.routeTables,
      destinations: this.settings.peerCidrs,
      dry_run: this.context.dryRun,
    });
    this.runs = aws.routeTables.map((routeTableId) => {
      const run: Partial<TableRun> & { claim: ClaimState } = { routeTableId, claim: initialClaimState };
      const reconciler = awsTableReconciler({
        routeTableId,
        target: this.target(routeTableId),
        aws: this.aws!,
        destinations: this.destinations,
        decide: (view) => {
          const wasHolding = run.claim.holding;
          const decision = decideClaim(run.claim, view, {
            configuredActive: this.settings.role === "active",
            partnerActive: this.context.partnerActive?.(this.settings.bridge),
            nowMs: Date.now(),
            driftIntervalMs: aws.driftIntervalMs,
            maxHoldMs: aws.partnerClaimHoldMaxMs,
          });
          run.claim = decision.state;
          const hold = decision.claim ? undefined : decision.reason;
          if (decision.conflict) {
            metrics.conflicts.inc(this.labels);
            this.log.warn(`${routeTableId}: ${decision.reason}`, { route_table: routeTableId });
          } else if (hold !== undefined && hold.split(";")[0] !== run.hold?.split(";")[0]) this.log.info(`${routeTableId}: ${hold}`, { route_table: routeTableId });
          run.hold = hold;
          if (wasHolding !== decision.state.holding) this.publishHeld();
          return decision;
        },
      });
      const loop = startReconcileLoop(reconciler, {
        dryRun: this.context.dryRun,
        callTimeoutMs: aws.timeoutMs,
        driftIntervalMs: aws.driftIntervalMs,
        metrics: reconcileMetricsFor(this.context.metrics.registry),
        ...(this.options.retry ? { retry: this.options.retry } : {}),
      });
      const full = Object.assign(run, { loop }) as TableRun;
      loop.setDesired(this.destinations);
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
    this.deactivate("stopping");
    await Promise.all([...this.stopping]);
    this.http?.close();
    removeCloudSeries(cloudMetrics(this.context.metrics.registry), reconcileMetricsFor(this.context.metrics.registry), this.labels, AWS_ROUTE_KIND, this.settings.aws.routeTables.map((t) => this.target(t)));
  }

  status(): AwsRoutesStatus {
    const known = this.aws?.known() ?? {};
    const tables: AwsRoutesStatus["tables"] = {};
    for (const routeTableId of this.settings.aws.routeTables) {
      const run = this.runs?.find((r) => r.routeTableId === routeTableId);
      tables[routeTableId] = run ? { ...run.loop.status(), ...(run.hold ? { hold: run.hold } : {}) } : {};
    }
    return {
      cloud: "aws",
      bridge: this.settings.bridge,
      active: this.runs !== undefined,
      ...(known.region ? { region: known.region, endpoint: known.endpoint } : {}),
      ...(known.enis ? { networkInterfaces: known.enis } : {}),
      ...(known.credentials ? { credentials: known.credentials } : {}),
      tables,
    };
  }
}

/** The job, with its edges replaceable (tests); `cloudJob` is the daemon's. */
export function makeCloudJob(options: CloudJobOptions = {}): Job {
  return (context: JobContext) =>
    (config: Config): ComponentSpec[] =>
      config.bridges.flatMap((bridge) => {
        const aws = bridge.hooks.bridge_activate?.cloud?.aws;
        if (!aws || aws.routeTables.length === 0) return [];
        const settings: AwsRoutesSettings = {
          bridge: bridge.name,
          role: bridge.role,
          peerCidrs: bridge.peerCidrs,
          interfaces: [bridge.bridgeInterface, ...bridge.secondaryInterfaces],
          aws,
        };
        return [{ key: `${CLOUD_KEY_PREFIX}${bridge.name}/aws`, settings, create: () => new AwsRoutesComponent(settings, context, options) }];
      });
}

export const cloudJob: Job = makeCloudJob();
