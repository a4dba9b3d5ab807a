/**
 * One DNS name as a reconcile target (docs/reconcile.md, docs/dns-failover.md §RFC 2136): read =
 * the name's A/AAAA records at the provider, plan = plan.ts, one action = one UPDATE with every
 * change. Logs each change with the record sets before → after, counts it, and reports (once per
 * change of it) a deletion left out to keep the last address.
 */
import { removeSeries } from "../metrics/series.ts";
import type { Action } from "../reconcile/action.ts";
import type { Reconciler } from "../reconcile/engine.ts";
import { logger } from "../util/log.ts";
import type { DnsMetrics } from "./metrics.ts";
import { describeChange, planRecords, type DnsRecord, type NameDesired, type RecordChange, type RecordPlan } from "./plan.ts";
import type { ChangeStep, DnsProviderClient } from "./provider.ts";

const log = logger.withTag("dns");

export interface NameReconcilerOptions {
  readonly name: string;
  /** The provider's name in the config (a metric label). */
  readonly provider: string;
  readonly client: DnsProviderClient;
  readonly metrics: DnsMetrics;
  readonly dryRun: boolean;
  /** The addresses configured for the name (the record_present series). */
  readonly addresses: readonly string[];
}

export interface NameReconciler extends Reconciler<NameDesired, DnsRecord[]> {
  /** What the last read found; undefined before the first. */
  lastRead(): readonly DnsRecord[] | undefined;
  /** Deletions the last plan left out to keep the last address. */
  kept(): RecordPlan["kept"];
  /** Drops the name's series (the component stops). */
  removeSeries(): void;
}

/** `A 192.0.2.1 192.0.2.2 → 192.0.2.1`, per type that changes. */
export function beforeAfter(actual: readonly DnsRecord[], changes: readonly RecordChange[]): string {
  const parts: string[] = [];
  for (const type of ["A", "AAAA"] as const) {
    const ofType = changes.filter((c) => c.type === type);
    if (ofType.length === 0) continue;
    const before = actual.filter((r) => r.type === type).map((r) => r.address);
    const after = [...before.filter((a) => !ofType.some((c) => c.action === "delete" && c.address === a))];
    for (const c of ofType) if (c.action === "add" && !after.includes(c.address)) after.push(c.address);
    parts.push(`${type} ${before.join(" ") || "(none)"} → ${after.join(" ") || "(none)"}`);
  }
  return parts.join("; ");
}

export function createNameReconciler(options: NameReconcilerOptions): NameReconciler {
  const { name, metrics, provider } = options;
  let read: readonly DnsRecord[] | undefined;
  let kept: RecordPlan["kept"] = [];
  let keptKey = "[]";

  /** The provider's step, counted and logged (before → after) when it succeeds. */
  const counted = (step: ChangeStep, before: readonly DnsRecord[]): Action => ({
    kind: step.action.kind,
    describe: () => step.action.describe(),
    async apply(signal) {
      const count = (outcome: "applied" | "failed") => {
        for (const c of step.changes) metrics.changes.inc({ provider, action: c.action, outcome });
      };
      try {
        await step.action.apply(signal);
      } catch (error) {
        count("failed");
        throw error;
      }
      count("applied");
      log.info(`${name}: ${beforeAfter(before, step.changes)}`, { name, provider, changes: step.changes.map((c) => describeChange(name, c)) });
    },
  });

  /** The records after `changes`, for the next step's "before". */
  const after = (records: readonly DnsRecord[], changes: readonly RecordChange[]): DnsRecord[] => [
    ...records.filter((r) => !changes.some((c) => c.type === r.type && c.address === r.address)),
    ...changes.filter((c) => c.action === "add").map((c): DnsRecord => ({ type: c.type, address: c.address, ttlS: c.ttlS })),
  ];

  return {
    kind: "dns_record",
    target: name,
    async read(signal) {
      const records = await options.client.read(name, signal);
      read = records;
      for (const address of options.addresses) metrics.recordPresent.set({ name, address }, records.some((r) => r.address === address) ? 1 : 0);
      return records;
    },
    plan(desired, actual) {
      const result = planRecords(desired, actual);
      const key = JSON.stringify(result.kept);
      if (key !== keptKey && result.kept.length > 0) {
        metrics.lastAddressKept.inc({ name });
        const which = result.kept.map((k) => `${k.type} ${k.addresses.join(" ")}`).join("; ");
        log.warn(`${name}: every address of the record set is judged dead; keeping ${which} (never the last address: fail open)`, { name });
      }
      kept = result.kept;
      keptKey = key;
      if (result.changes.length === 0) return [];
      if (options.dryRun) for (const c of result.changes) metrics.changes.inc({ provider, action: c.action, outcome: "dry_run" });
      let before = actual;
      return options.client.steps(name, result.changes, actual).map((step) => {
        const action = counted(step, before);
        before = after(before, step.changes);
        return action;
      });
    },
    lastRead: () => read,
    kept: () => kept,
    removeSeries() {
      removeSeries(metrics.recordPresent, { name }, { address: options.addresses });
      removeSeries(metrics.lastAddressKept, { name });
    },
  };
}
