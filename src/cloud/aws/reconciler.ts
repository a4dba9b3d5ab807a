/**
 * One AWS route table as a reconcile target (docs/cloud-routes.md §What it changes): read the
 * table (and, lazily, our ENI for its VPC), decide whether to claim (src/cloud/claim.ts), plan
 * with Go's rules (plan.ts), apply each step as one EC2 call. The engine (src/reconcile/engine.ts)
 * owns timeouts, retries, dry-run, read-back and drift.
 */
import type { Action } from "../../reconcile/action.ts";
import type { Reconciler } from "../../reconcile/engine.ts";
import type { AdoptedTable } from "../adopt.ts";
import type { ClaimDecision, ClaimView } from "../claim.ts";
import type { AwsContext } from "./context.ts";
import type { Ec2RouteTable } from "./ec2.ts";
import { describeStep, planRoutes, viewTable, type Destination } from "./plan.ts";

export interface AwsTableActual {
  readonly table: Ec2RouteTable;
  readonly eni: string;
  /** Why we hold back this run (split-brain rule); undefined = claim. */
  readonly hold?: string;
}

export interface AwsTableOptions {
  readonly routeTableId: string;
  /** Metric label: a name from the config. */
  readonly target: string;
  readonly aws: AwsContext;
  /** What the claim rule looks at (the same the loop is given as desired). */
  readonly desired: AwsDesired;
  /** Called with each read's view; keeps the claim state (one per table and activation). */
  readonly decide: (view: ClaimView) => ClaimDecision;
}

/** The configured destinations, and with adopt_partner_routes what was learned for this table. */
export interface AwsDesired {
  readonly destinations: readonly Destination[];
  readonly adopted?: AdoptedTable;
}

export const AWS_ROUTE_KIND = "aws_route";

export function awsTableReconciler(options: AwsTableOptions): Reconciler<AwsDesired, AwsTableActual> {
  return {
    kind: AWS_ROUTE_KIND,
    target: options.target,
    async read(signal) {
      const table = await options.aws.ec2.describeRouteTable(options.routeTableId, signal);
      const eni = await options.aws.eniFor(table.vpcId, signal);
      const decision = options.decide(viewTable(options.desired.destinations, eni, table, options.desired.adopted));
      return { table, eni, ...(decision.claim ? {} : { hold: decision.reason }) };
    },
    plan(desired, actual): Action[] {
      if (actual.hold !== undefined) return [];
      return planRoutes(desired.destinations, actual.eni, actual.table, desired.adopted).map((step) => ({
        kind: `aws.${step.action}`,
        describe: () => describeStep(step),
        apply: (signal) => options.aws.ec2.call(step.action, step.change, signal),
      }));
    },
  };
}
