/**
 * prom-client's four classes, loaded from their own files. Its index also loads the push
 * gateway (node:http, node:https), the default collectors (perf_hooks, v8) and cluster support,
 * none of which vpnham uses: about 9 MiB of resident memory in the compiled binary
 * (docs/performance.md §Memory). The index's types describe the same classes.
 */
import type * as Prom from "prom-client";
// @ts-ignore -- prom-client's files have no type declarations of their own; typed below.
import CounterClass from "prom-client/lib/counter.js";
// @ts-ignore -- as above
import GaugeClass from "prom-client/lib/gauge.js";
// @ts-ignore -- as above
import HistogramClass from "prom-client/lib/histogram.js";
// @ts-ignore -- as above
import RegistryClass from "prom-client/lib/registry.js";

export const Counter = CounterClass as unknown as typeof Prom.Counter;
export type Counter<T extends string = string> = Prom.Counter<T>;
export const Gauge = GaugeClass as unknown as typeof Prom.Gauge;
export type Gauge<T extends string = string> = Prom.Gauge<T>;
export const Histogram = HistogramClass as unknown as typeof Prom.Histogram;
export type Histogram<T extends string = string> = Prom.Histogram<T>;
export const Registry = RegistryClass as unknown as typeof Prom.Registry;
export type Registry = Prom.Registry;
