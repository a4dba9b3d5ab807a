import { Counter, type Registry } from "../metrics/prom.ts";

/** The control socket's own series, registered by the shell that starts it. */
export function createControlMetrics(registry: Registry) {
  return {
    requests: new Counter({
      name: "vpnham_control_requests_total",
      help: "Requests on the control socket by command (status, reload; invalid when unreadable) and outcome (ok, error, bad_request, too_large, timeout, refused).",
      labelNames: ["command", "outcome"],
      registers: [registry],
    }),
  };
}
