// Shared by the collector tests against real daemons (bird-, frr- and strongswan-live.test.ts).
import type { Registry } from "prom-client";
import type { CollectorsRuntime } from "../../src/collectors/index.ts";
import { waitFor } from "../../src/util/wait.ts";
import { sampleValue, scrapeFamilies } from "../metrics/support.ts";

/** The scraped value of `name{labels}` (the scrape must parse cleanly), or undefined. */
export async function scrapedValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  return sampleValue(await scrapeFamilies(registry), name, labels);
}

/** Collects (a daemon without an event stream: this is what the interval does) until `name{labels}` reads `expected`. */
export async function collectUntil(
  collectors: CollectorsRuntime,
  registry: Registry,
  name: string,
  labels: Record<string, string>,
  expected: number,
  { timeoutMs, intervalMs }: { timeoutMs: number; intervalMs: number },
): Promise<void> {
  await waitFor(
    async () => {
      await collectors.runNow();
      return (await scrapedValue(registry, name, labels)) === expected;
    },
    { timeoutMs, intervalMs, what: `${name} == ${expected}` },
  );
}
