import { readdirSync } from "node:fs";
import { Counter, Gauge, type Registry } from "./prom.ts";

/**
 * The process_* series Prometheus users expect, computed at scrape time with APIs that
 * Bun, Deno and Node all implement. prom-client's collectDefaultMetrics is not used: its
 * GC and active-handle collectors are absent on Bun/Deno (docs/development.md §Portability across Bun and Deno).
 * A collector that fails leaves its previous value; a scrape never fails because of it.
 */
export function registerProcessMetrics(registry: Registry): void {
  const registers = [registry];
  const startTimeSeconds = Math.round(Date.now() / 1000 - process.uptime());

  new Counter({
    name: "process_cpu_seconds_total",
    help: "Total user and system CPU time spent in seconds.",
    registers,
    collect() {
      try {
        const usage = process.cpuUsage();
        this.reset();
        this.inc((usage.user + usage.system) / 1e6);
      } catch {
        // keep the previous value
      }
    },
  });
  new Gauge({
    name: "process_resident_memory_bytes",
    help: "Resident memory size in bytes.",
    registers,
    collect() {
      try {
        this.set(process.memoryUsage().rss);
      } catch {
        // keep the previous value
      }
    },
  });
  new Gauge({
    name: "process_start_time_seconds",
    help: "Start time of the process since unix epoch in seconds.",
    registers,
  }).set(startTimeSeconds);
  new Gauge({
    name: "process_open_fds",
    help: "Number of open file descriptors (read from /proc/self/fd; stays 0 where unreadable).",
    registers,
    collect() {
      try {
        // readdir opens one descriptor of its own.
        this.set(Math.max(0, readdirSync("/proc/self/fd").length - 1));
      } catch {
        // not Linux, or no permission: keep the previous value
      }
    },
  });
  // The JS heap as prom-client's default collector names it: RSS minus these is the runtime
  // itself (docs/performance.md §Memory).
  for (const [name, help, field] of [
    ["nodejs_heap_size_total_bytes", "Process heap size from the JS runtime in bytes.", "heapTotal"],
    ["nodejs_heap_size_used_bytes", "Process heap size used from the JS runtime in bytes.", "heapUsed"],
    ["nodejs_external_memory_bytes", "JS runtime external memory size in bytes (buffers outside the heap).", "external"],
  ] as const) {
    new Gauge({
      name,
      help,
      registers,
      collect() {
        try {
          this.set(process.memoryUsage()[field]);
        } catch {
          // keep the previous value
        }
      },
    });
  }
}
