export { latencyBuckets } from "./buckets.ts";
export * from "./registry.ts";
export { startMetricsServer } from "./server.ts";
export type { HttpAddr, RunningHttpServer } from "./http-server.ts";
