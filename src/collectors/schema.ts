/**
 * The `collectors:` section and `metrics.textfile_path` (docs/collectors.md §Configuration). The
 * schema outputs the runtime model directly (camelCase, milliseconds), so the config loader only
 * passes it through. One optional mapping per collector; present = enabled (`strongswan: {}` for
 * all defaults — a bare `strongswan:` is YAML null, which the loader treats as absent).
 */
import { z } from "zod";
import { duration, show } from "../config/fields.ts";
import { formatDurationMs } from "../config/duration.ts";

export const collectorDefaults = {
  interval: "15s",
  timeout: "5s",
  strongswanSocketPath: "/var/run/charon.vici",
  vtyshPath: "/usr/bin/vtysh",
  birdSocketPath: "/run/bird/bird.ctl",
  ipsecPath: "/usr/sbin/ipsec",
} as const;

const absolutePath = (description: string, defaultPath?: string) => {
  const base = z.string({ error: (issue) => `${show(issue.input)} is not a path` }).regex(/^\//, { error: "must be an absolute path" });
  return defaultPath === undefined
    ? base.meta({ type: "path", description })
    : base.default(defaultPath).meta({ type: "path", default: defaultPath, description });
};

/** interval and timeout, shared by every collector. */
const timingFields = {
  interval: duration({ minMs: 1000, default: collectorDefaults.interval, meta: { description: "time between two collections (events may add some)" } }),
  timeout: duration({ minMs: 10, default: collectorDefaults.timeout, meta: { description: "time limit of one collection; longer counts as a failure" } }),
};

function timeoutWithinInterval(raw: { interval: number; timeout: number }, ctx: z.RefinementCtx): void {
  if (raw.timeout > raw.interval) {
    ctx.addIssue({
      code: "custom",
      path: ["timeout"],
      message: `${formatDurationMs(raw.timeout)} is longer than interval ${formatDurationMs(raw.interval)}`,
    });
  }
}

const strongswanFields = z.strictObject({
  socket_path: absolutePath("charon's VICI socket (root-only by default, see docs/collectors.md §Permissions)", collectorDefaults.strongswanSocketPath),
  ...timingFields,
});

export const strongswanSchema = strongswanFields
  .superRefine(timeoutWithinInterval)
  .transform((raw) => ({ socketPath: raw.socket_path, intervalMs: raw.interval, timeoutMs: raw.timeout }))
  .meta({ type: "mapping", description: "strongSwan over VICI: IKE/CHILD SA state and traffic per connection" });

export type StrongswanConfig = z.output<typeof strongswanSchema>;

const frrFields = z.strictObject({
  vtysh_path: absolutePath("vtysh to run (`show bgp vrf all summary json`; needs the frrvty group or root, see docs/collectors.md §Permissions)", collectorDefaults.vtyshPath),
  vty_socket: absolutePath("directory of the daemons' vty sockets, passed as --vty_socket (default: FRR's own)").optional(),
  ...timingFields,
});

export const frrSchema = frrFields
  .superRefine(timeoutWithinInterval)
  .transform((raw) => ({
    vtyshPath: raw.vtysh_path,
    ...(raw.vty_socket === undefined ? {} : { vtySocket: raw.vty_socket }),
    intervalMs: raw.interval,
    timeoutMs: raw.timeout,
  }))
  .meta({ type: "mapping", description: "FRR over vtysh: BGP sessions per VRF, AFI/SAFI and peer" });

export type FrrConfig = z.output<typeof frrSchema>;

const birdFields = z.strictObject({
  socket_path: absolutePath("BIRD's control socket (`bird -s`; needs the bird group or root, see docs/collectors.md §Permissions)", collectorDefaults.birdSocketPath),
  ...timingFields,
});

export const birdSchema = birdFields
  .superRefine(timeoutWithinInterval)
  .transform((raw) => ({ socketPath: raw.socket_path, intervalMs: raw.interval, timeoutMs: raw.timeout }))
  .meta({ type: "mapping", description: "BIRD 2 over its control socket (read-only): BGP sessions per protocol and channel, every protocol's state" });

export type BirdConfig = z.output<typeof birdSchema>;

const connectionName = z
  .string({ error: (issue) => `${show(issue.input)} is not a connection name` })
  .regex(/^[^"\s]{1,200}$/, { error: "must be a libreswan connection name (no quotes or spaces)" });

const libreswanFields = z.strictObject({
  ipsec_path: absolutePath("the ipsec command (`ipsec whack --trafficstatus`; needs root, see docs/collectors.md §Permissions)", collectorDefaults.ipsecPath),
  ctl_socket: absolutePath("pluto's control socket, passed as --ctlsocket (default: libreswan's own)").optional(),
  connections: z
    .array(connectionName)
    .default([])
    .meta({ type: "list of strings", default: "[]", description: "connections expected up: listed with 0 while trafficstatus has no line for them (a down tunnel has none)" }),
  ...timingFields,
});

export const libreswanSchema = libreswanFields
  .superRefine(timeoutWithinInterval)
  .transform((raw) => ({
    ipsecPath: raw.ipsec_path,
    ...(raw.ctl_socket === undefined ? {} : { ctlSocket: raw.ctl_socket }),
    connections: raw.connections,
    intervalMs: raw.interval,
    timeoutMs: raw.timeout,
  }))
  .meta({ type: "mapping", description: "Libreswan over `ipsec whack --trafficstatus`: IPsec SAs and bytes per connection" });

export type LibreswanConfig = z.output<typeof libreswanSchema>;

/**
 * `tunnel_interfaces.<if>.ipsec`: the strongSwan CHILD_SA carrying a tunnel (docs/collectors.md
 * §IPsec-aware failover). Needs `collectors.strongswan`.
 */
export const ipsecTieSchema = z
  .strictObject({
    conn: z.string({ error: (issue) => `${show(issue.input)} is not a connection name` }).min(1).meta({ description: "the swanctl connection carrying the tunnel" }),
    child: z
      .string({ error: (issue) => `${show(issue.input)} is not a child name` })
      .min(1)
      .optional()
      .meta({ description: "its CHILD_SA config; without it, any child of the connection" }),
  })
  .optional()
  .meta({
    type: "mapping",
    description: "the strongSwan CHILD_SA carrying this tunnel: while it is not installed the tunnel is down at once, before probes time out (needs collectors.strongswan)",
  });

/**
 * `tunnel_interfaces.<if>.bgp`: the BGP session run over a tunnel
 * (docs/collectors.md §BGP-aware failover). Needs `collectors.frr` or `collectors.bird`.
 */
export const bgpTieSchema = z
  .strictObject({
    peer: z
      .string({ error: (issue) => `${show(issue.input)} is not a peer` })
      .min(1)
      .meta({ description: "the neighbour as FRR or BIRD names it (its address, or its interface when unnumbered): the `peer` label of vpnham_bgp_peer_up" }),
    vrf: z
      .string({ error: (issue) => `${show(issue.input)} is not a VRF name` })
      .min(1)
      .optional()
      .meta({ description: "its VRF (`default` for the main table); without it, the peer in any VRF" }),
  })
  .optional()
  .meta({
    type: "mapping",
    description: "the BGP session over this tunnel: while FRR or BIRD lists the peer as not Established the tunnel is down at once, before probes time out (needs collectors.frr or collectors.bird)",
  });

export const collectorsSchema = z
  .strictObject({
    compat_names: z
      .boolean({ error: (issue) => `${show(issue.input)} is not true or false` })
      .default(false)
      .meta({ type: "boolean", default: "false", description: "also export the cron script's names (node_ipsec_peer_status, node_bgp_neighbor_status, …; docs/collectors.md §Drop-in for the cron script)" }),
    strongswan: strongswanSchema.optional(),
    libreswan: libreswanSchema.optional(),
    frr: frrSchema.optional(),
    bird: birdSchema.optional(),
  })
  .transform(({ compat_names, ...collectors }) => ({ ...collectors, compatNames: compat_names }))
  .meta({ type: "mapping", description: "exporters of other daemons' state on /metrics (docs/collectors.md); each present key is enabled" });

export type CollectorsConfig = z.output<typeof collectorsSchema>;

/** `metrics.textfile_path`: collected series also written here, for node_exporter's textfile collector. */
export const textfilePathSchema = z
  .string({ error: (issue) => `${show(issue.input)} is not a path` })
  .regex(/^\//, { error: "must be an absolute path" })
  .regex(/\.prom$/, { error: "must end in .prom (node_exporter's textfile collector reads only *.prom)" })
  .optional()
  .meta({ type: "path", description: "also write the collectors' series to this file, atomically (node_exporter's textfile collector; docs/collectors.md §Textfile)" });
