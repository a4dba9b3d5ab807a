import { test } from "node:test";
import assert from "node:assert/strict";
import { describeConfigSchema, hookNames } from "../../src/config/index.ts";

const bridge = "bridges.<bridge>";
const tunnel = `${bridge}.tunnel_interfaces.<ifname>`;
const reapply = (hook: string) => ["", ".initial_delay", ".maximum_delay", ".factor"].map((k) => `${bridge}.reconcile.${hook}.reapply${k}`);

const dnsCheckKeys = ["kind", "port", "url", "interval", "timeout", "threshold_down", "threshold_up", "expected_status", "body_match", "tls_skip_verify"];

const everyKey = [
  "bridges",
  bridge,
  ...[
    "role",
    "bridge_interface",
    "peer_cidr",
    "extra_peer_cidrs",
    "secondary_interfaces",
    "status_addr",
    "partner_url",
    "partner_status_url",
    "partner_polling_interface",
    "partner_checks",
    "partner_status_timeout",
    "partner_status_threshold_down",
    "partner_status_threshold_up",
    "probe_interval",
    "probe_location",
    "tunnel_interfaces",
    "scripts_timeout",
    "scripts",
    "reconcile",
    "preempt_delay",
    "secret",
    "secret_file",
  ].map((k) => `${bridge}.${k}`),
  tunnel,
  ...["role", "addr", "probe_addr", "threshold_down", "threshold_up", "ipsec", "ipsec.conn", "ipsec.child", "bgp", "bgp.peer", "bgp.vrf"].map((k) => `${tunnel}.${k}`),
  ...hookNames.map((h) => `${bridge}.scripts.${h}`),
  `${bridge}.reconcile.scripts_timeout`,
  ...hookNames.flatMap((h) => [`${bridge}.reconcile.${h}`, `${bridge}.reconcile.${h}.script`]),
  ...reapply("bridge_activate"),
  ...reapply("interface_activate"),
  ...["aws", "aws.timeout", "aws.route_tables", "aws.region", "aws.endpoint", "aws.metadata_endpoint", "aws.network_interface_id", "aws.drift_interval", "aws.partner_claim_hold_max", "aws.adopt_partner_routes", "aws.adopt_state_file", "gcp", "gcp.route_id_prefix", "gcp.route_priority", "gcp.route_tags", "gcp.timeout", "gcp.project", "gcp.endpoint", "gcp.metadata_endpoint", "gcp.drift_interval", "gcp.partner_claim_hold_max", "gcp.adopt_partner_routes", "gcp.adopt_state_file", ...["azure", ...["subscription_id", "resource_group", "route_tables", "route_name_prefix", "next_hop_ip", "api_version", "client_id", "tenant_id", "client_secret_file", "endpoint", "authority", "metadata_endpoint", "timeout", "drift_interval", "partner_claim_hold_max", "adopt_partner_routes", "adopt_state_file"].map((k) => `azure.${k}`)]].map(
    (k) => `${bridge}.reconcile.bridge_activate.${k}`,
  ),
  "metrics",
  "metrics.listen_addr",
  "metrics.latency_buckets_count",
  "metrics.max_latency_us",
  "metrics.textfile_path",
  "control",
  "control.socket_path",
  ...["", ".compat_names", ".strongswan", ".strongswan.socket_path", ".strongswan.interval", ".strongswan.timeout"].map((k) => `collectors${k}`),
  ...["", ".ipsec_path", ".ctl_socket", ".connections", ".interval", ".timeout"].map((k) => `collectors.libreswan${k}`),
  ...["", ".vtysh_path", ".vty_socket", ".interval", ".timeout"].map((k) => `collectors.frr${k}`),
  ...["", ".socket_path", ".interval", ".timeout"].map((k) => `collectors.bird${k}`),
  "default_scripts",
  ...hookNames.map((h) => `default_scripts.${h}`),
  "dry_run",
  "checks",
  "checks.<check>",
  ...[
    "kind",
    "interval",
    "timeout",
    "threshold_down",
    "threshold_up",
    "address",
    "url",
    "expected_status",
    "body_match",
    "body_regex",
    "max_body_bytes",
    "tls_skip_verify",
    "host",
    "command",
    "service",
    "min_servers",
    "path",
    "bridge",
  ].map((k) => `checks.<check>.${k}`),
  "dns_failover",
  ...["dry_run", "agent", "check"].map((k) => `dns_failover.${k}`),
  ...dnsCheckKeys.map((k) => `dns_failover.check.${k}`),
  "dns_failover.addresses",
  "dns_failover.addresses.<address>",
  "dns_failover.addresses.<address>.names",
  "dns_failover.addresses.<address>.check",
  ...dnsCheckKeys.map((k) => `dns_failover.addresses.<address>.check.${k}`),
  ...["names", "names.<name>", "names.<name>.ttl", "names.<name>.provider", "providers", "providers.<provider>"].map((k) => `dns_failover.${k}`),
  ...["kind", "zone", "timeout", "server", "tsig_key", "tsig_algorithm", "tsig_secret", "tsig_secret_file", "zone_id", "api_base", "token", "token_file", "hosted_zone_id", "endpoint", "region", "insync_timeout", "proxied"].map(
    (k) => `dns_failover.providers.<provider>.${k}`,
  ),
  ...["peers", "peers.<peer>", "min_peers_agree", "listen", "secret", "secret_file", "poll_interval", "poll_timeout", "vote_max_age"].map((k) => `dns_failover.${k}`),
  ...["max_changes_per_interval", "change_interval", "drift_interval"].map((k) => `dns_failover.${k}`),
  ...[
    "",
    ".frr",
    ...["vtysh", "namespace", "socket_dir", "asn"].map((k) => `.frr.${k}`),
    ".bird",
    ...["birdc", "socket", "include_file", "protocol"].map((k) => `.bird.${k}`),
    ".kernel",
    ...["ip", "namespace", "table", "protocol"].map((k) => `.kernel.${k}`),
    ".exabgp",
    ...["pipe_in", "pipe_out"].map((k) => `.exabgp.${k}`),
    ".state_file",
    ".interval",
    ".timeout",
    ".damping",
    ...["min_interval", "hold_down", "max_hold_down"].map((k) => `.damping.${k}`),
    ".services",
    ".services.<service>",
    ...["prefixes", "dns_name", "resolver", "route_map", "route_maps", "route_maps.<prefix>", "checks", "ipvs"].map((k) => `.services.<service>.${k}`),
    ...["service", "withdraw_at_or_below", "announce_at_or_above", "interval", "timeout", "threshold_down", "threshold_up", "path"].map(
      (k) => `.services.<service>.ipvs.${k}`,
    ),
  ].map((k) => `announce${k}`),
];

function rows(): Map<string, string[]> {
  const lines = describeConfigSchema().trimEnd().split("\n");
  assert.equal(lines[0], "| Key | Type | Default | Description |");
  assert.equal(lines[1], "|---|---|---|---|");
  const table = new Map<string, string[]>();
  for (const line of lines.slice(2)) {
    const cells = line.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim());
    assert.equal(cells.length, 4, line);
    table.set(cells[0]!.replaceAll("`", ""), cells.slice(1));
  }
  return table;
}

test("describeConfigSchema lists every key exactly once, each with a type and a description", () => {
  const table = rows();
  for (const key of everyKey) {
    const row = table.get(key);
    assert.ok(row, `missing ${key}`);
    assert.ok(row[0] !== "" && row[2] !== "", `${key} lacks a type or description`);
  }
  assert.deepEqual([...table.keys()].sort(), [...everyKey].sort());
});

test("describeConfigSchema states Go's defaults", () => {
  const table = rows();
  const defaultOf = (key: string) => table.get(key)?.[1];
  assert.equal(defaultOf(`${bridge}.probe_interval`), "15s");
  assert.equal(defaultOf(`${bridge}.partner_status_timeout`), "1s");
  assert.equal(defaultOf(`${bridge}.scripts_timeout`), "30s");
  assert.equal(defaultOf(`${tunnel}.threshold_down`), "5");
  assert.equal(defaultOf(`${tunnel}.threshold_up`), "2");
  assert.equal(defaultOf(`${bridge}.partner_status_threshold_down`), "5");
  assert.equal(defaultOf(`${bridge}.partner_status_threshold_up`), "2");
  assert.equal(defaultOf("metrics.listen_addr"), "0.0.0.0:8000");
  assert.equal(defaultOf("metrics.latency_buckets_count"), "33");
  assert.equal(defaultOf("metrics.max_latency_us"), "1000000");
  assert.equal(defaultOf(`${bridge}.role`), "required");
  assert.equal(table.get(`${bridge}.role`)?.[0], "active \\| standby");
});
