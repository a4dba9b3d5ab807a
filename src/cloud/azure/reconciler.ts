/**
 * One Azure route table as a reconcile target (docs/cloud-routes.md §Azure): read the table,
 * consult the split-brain rule, then plan.ts's steps as ARM calls, each followed to the end of its
 * long-running operation.
 */
import type { Action } from "../../reconcile/action.ts";
import type { Reconciler } from "../../reconcile/engine.ts";
import type { ClaimDecision, ClaimView } from "../claim.ts";
import type { ArmClient, AzureRoute, RouteTableRef } from "./arm.ts";
import { describeAzureStep, planAzureRoutes, viewAzureRoutes, type AzureDesired } from "./plan.ts";

export const AZURE_ROUTE_KIND = "azure_route";

export interface AzureActual {
  readonly routes: readonly AzureRoute[];
  readonly hold?: string;
}

export function azureTableReconciler(options: { target: string; table: RouteTableRef; arm: ArmClient; desired: AzureDesired; decide: (view: ClaimView) => ClaimDecision }): Reconciler<AzureDesired, AzureActual> {
  return {
    kind: AZURE_ROUTE_KIND,
    target: options.target,
    async read(signal) {
      const routes = await options.arm.routes(options.table, signal);
      const decision = options.decide(viewAzureRoutes(options.desired, routes));
      return { routes, ...(decision.claim ? {} : { hold: decision.reason }) };
    },
    plan(desired, actual): Action[] {
      if (actual.hold !== undefined) return [];
      return planAzureRoutes(desired, actual.routes).map((step) => ({
        kind: `azure.routes.${step.action}`,
        describe: () => describeAzureStep(options.table.routeTable, step),
        apply: (signal) =>
          step.action === "put"
            ? options.arm.putRoute(options.table, step.name, step.addressPrefix, step.nextHopIpAddress, signal)
            : options.arm.deleteRoute(options.table, step.name, signal),
      }));
    },
  };
}
