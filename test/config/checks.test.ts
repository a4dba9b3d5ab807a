import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { stringify } from "yaml";
import { assertProblem, base, load, problemsOf } from "./support.ts";

const B = "bridges.b";
const T1 = `${B}.tunnel_interfaces.eth1`;

describe("structure", () => {
  test("unknown key in a bridge, with a hint", () => {
    const data = base();
    data.bridges.b.probe_intervall = "1s";
    assertProblem(problemsOf(data), `${B}.probe_intervall`, "unknown key", "did you mean probe_interval?");
  });
  test("unknown keys at every level", () => {
    const data = base();
    data.foo = 1;
    data.metrics = { listen: "0.0.0.0:1" };
    data.bridges.b.tunnel_interfaces.eth1.weight = 3;
    data.bridges.b.reconcile = { bridge_activate: { scirpt: [] } };
    const problems = problemsOf(data);
    assertProblem(problems, "foo", "unknown key");
    assertProblem(problems, "metrics.listen", "unknown key");
    assertProblem(problems, `${T1}.weight`, "unknown key");
    assertProblem(problems, `${B}.reconcile.bridge_activate.scirpt`, "unknown key", "did you mean script?");
  });
  test("required key missing", () => {
    const data = base();
    delete data.bridges.b.status_addr;
    delete data.bridges.b.tunnel_interfaces.eth1.probe_addr;
    delete data.bridges.b.role;
    const problems = problemsOf(data);
    assertProblem(problems, `${B}.status_addr`, "missing", "ip:port");
    assertProblem(problems, `${T1}.probe_addr`, "missing");
    assertProblem(problems, `${B}.role`, "missing (expected one of active, standby)");
  });
  test("wrong kind of value", () => {
    const data = base();
    data.bridges.b.tunnel_interfaces.eth2 = ["x"];
    data.bridges.b.extra_peer_cidrs = "10.2.0.0/16";
    data.dry_run = "yes";
    const problems = problemsOf(data);
    assertProblem(problems, `${B}.tunnel_interfaces.eth2`, "a list is not a mapping");
    assertProblem(problems, `${B}.extra_peer_cidrs`, '"10.2.0.0/16" is not');
    assertProblem(problems, "dry_run", '"yes" is not');
  });
  test("no bridges", () => assertProblem(problemsOf({ bridges: {} }), "bridges", "at least one bridge"));
  test("bridges missing", () => assertProblem(problemsOf({ metrics: {} }), "bridges", "missing"));
  test("no tunnels", () => {
    const data = base();
    data.bridges.b.tunnel_interfaces = {};
    assertProblem(problemsOf(data), `${B}.tunnel_interfaces`, "at least one tunnel interface");
  });
  test("a null tunnel is reported, not dropped", () => {
    const text = stringify(base()).replace(/ {6}eth2:\n(?: {8}.*\n)+/, "      eth2:\n");
    assertProblem(problemsOf(text), `${B}.tunnel_interfaces.eth2`, "empty (expected a mapping)");
  });
  test("YAML syntax error names line and column", () => {
    const problems = problemsOf("bridges:\n  b: [\n");
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /^YAML: .*line \d+, column \d+/);
  });
  test("duplicate YAML keys", () => assert.match(problemsOf("bridges: {}\nbridges: {}\n")[0]!, /^YAML: .*unique/i));
  test("empty file", () => assert.deepEqual(problemsOf(""), ["the file is empty (expected a mapping with bridges:, checks:, collectors:, dns_failover: or announce:)"]));
  test("top level not a mapping", () => assert.match(problemsOf("- a\n- b\n")[0]!, /expected a mapping/));
});

describe("values", () => {
  test("bridge role", () => {
    const data = base();
    data.bridges.b.role = "primary";
    assertProblem(problemsOf(data), `${B}.role`, '"primary" is not one of active, standby');
  });
  test("tunnel role", () => {
    const data = base();
    data.bridges.b.tunnel_interfaces.eth2.role = "backup";
    assertProblem(problemsOf(data), `${B}.tunnel_interfaces.eth2.role`, '"backup" is not one of active, standby');
  });
  test("threshold 1 and 101 are out of range", () => {
    const data = base();
    data.bridges.b.tunnel_interfaces.eth1.threshold_down = 1;
    data.bridges.b.tunnel_interfaces.eth1.threshold_up = 101;
    data.bridges.b.partner_status_threshold_down = 1;
    data.bridges.b.partner_status_threshold_up = 101;
    const problems = problemsOf(data);
    assert.ok(problems.includes(`${T1}.threshold_down: 1 is out of range 2..100`), problems.join("\n"));
    assert.ok(problems.includes(`${T1}.threshold_up: 101 is out of range 2..100`));
    assert.ok(problems.includes(`${B}.partner_status_threshold_down: 1 is out of range 2..100`));
    assert.ok(problems.includes(`${B}.partner_status_threshold_up: 101 is out of range 2..100`));
  });
  test("thresholds 2 and 100 are fine; fractions and text are not", () => {
    const data = base();
    data.bridges.b.tunnel_interfaces.eth1.threshold_down = 2;
    data.bridges.b.tunnel_interfaces.eth1.threshold_up = 100;
    assert.equal(load(data).config.bridges[0]!.tunnels[0]!.thresholdUp, 100);
    data.bridges.b.tunnel_interfaces.eth1.threshold_down = 2.5;
    data.bridges.b.tunnel_interfaces.eth1.threshold_up = "5";
    const problems = problemsOf(data);
    assertProblem(problems, `${T1}.threshold_down`, "2.5 is not a whole number");
    assertProblem(problems, `${T1}.threshold_up`, '"5" is not a whole number');
  });
  test("duration as a bare number gets a hint", () => {
    const data = base();
    data.bridges.b.probe_interval = 5;
    assertProblem(problemsOf(data), `${B}.probe_interval`, "5 is a bare number", "use a unit, e.g. 5s");
  });
  test("duration with a bad unit", () => {
    const data = base();
    data.bridges.b.scripts_timeout = "5 sec";
    assertProblem(problemsOf(data), `${B}.scripts_timeout`, '"5 sec"', "unknown unit");
  });
  test("timeouts must be positive", () => {
    const data = base();
    data.bridges.b.partner_status_timeout = "-1s";
    data.bridges.b.preempt_delay = "-5s";
    const problems = problemsOf(data);
    assertProblem(problems, `${B}.partner_status_timeout`, '"-1s" is negative');
    assertProblem(problems, `${B}.preempt_delay`, '"-5s" is negative');
  });
  test("address without port / port out of range / a name", () => {
    const data = base();
    data.bridges.b.status_addr = "10.0.0.2";
    data.bridges.b.tunnel_interfaces.eth1.addr = "192.168.255.2:70000";
    data.bridges.b.tunnel_interfaces.eth1.probe_addr = "peer.example:3003";
    const problems = problemsOf(data);
    assertProblem(problems, `${B}.status_addr`, '"10.0.0.2"', "missing port");
    assertProblem(problems, `${T1}.addr`, "70000 is out of range 1..65535");
    assertProblem(problems, `${T1}.probe_addr`, "not an IP address");
  });
  test("CIDRs must parse", () => {
    const data = base();
    data.bridges.b.peer_cidr = "10.1.0.0";
    data.bridges.b.extra_peer_cidrs = ["10.2.0.0/16", "10.3.0.0/40"];
    const problems = problemsOf(data);
    assertProblem(problems, `${B}.peer_cidr`, '"10.1.0.0"', "missing /prefix");
    assertProblem(problems, `${B}.extra_peer_cidrs[1]`, "out of range 0..32");
  });
  test("partner_url must be http(s)", () => {
    const data = base();
    data.bridges.b.partner_url = "ftp://10.0.0.3/";
    assertProblem(problemsOf(data), `${B}.partner_url`, '"ftp://10.0.0.3/" is not an http(s) URL');
    data.bridges.b.partner_url = "10.0.0.3:8080";
    assertProblem(problemsOf(data), `${B}.partner_url`, "not");
  });
  test("partner_checks name checks of checks:", () => {
    const data = base() as ReturnType<typeof base> & { checks?: unknown };
    (data.bridges.b as Record<string, unknown>).partner_checks = ["ssh", "nope"];
    data.checks = { ssh: { kind: "tcp", address: "10.0.0.3:22" } };
    assertProblem(problemsOf(data), `${B}.partner_checks[1]`, "no check nope in checks:");
    (data.bridges.b as Record<string, unknown>).partner_checks = ["ssh"];
    assert.deepEqual(load(data).config.bridges[0]!.partnerChecks, ["ssh"]);
  });
  test("probe_location is at most 36 bytes of UTF-8", () => {
    const data = base();
    data.bridges.b.probe_location = "é".repeat(18);
    assert.equal(load(data).config.bridges[0]!.probeLocation.length, 18);
    data.bridges.b.probe_location = "é".repeat(19);
    assertProblem(problemsOf(data), `${B}.probe_location`, "38 bytes long (max 36");
  });
  test("interface names must be possible Linux names", () => {
    const data = base();
    data.bridges.b.bridge_interface = "eth0/1";
    data.bridges.b.tunnel_interfaces["a-very-long-interface-name"] = data.bridges.b.tunnel_interfaces.eth2;
    delete data.bridges.b.tunnel_interfaces.eth2;
    const problems = problemsOf(data);
    assertProblem(problems, `${B}.bridge_interface`, '"/" or white space');
    assertProblem(problems, `${B}.tunnel_interfaces.a-very-long-interface-name`, "longer than 15 bytes");
  });
  test("metrics numbers", () => {
    const data = base();
    data.metrics = { latency_buckets_count: 1, max_latency_us: -5 };
    const problems = problemsOf(data);
    assertProblem(problems, "metrics.latency_buckets_count", "1 is out of range 2..1000");
    assertProblem(problems, "metrics.max_latency_us", "-5 is out of range");
  });
});

describe("hooks", () => {
  test("unknown placeholder names its argv element", () => {
    const data = base();
    data.default_scripts = { bridge_activate: [["sh", "-c", "echo ${foo}"]] };
    assertProblem(problemsOf(data), "default_scripts.bridge_activate[0][2]", "unknown placeholder ${foo}");
  });
  test("tunnel placeholders only in interface hooks", () => {
    const data = base();
    data.bridges.b.scripts = { bridge_deactivate: [["echo"], ["echo", "${tunnel_interface}"]] };
    assertProblem(problemsOf(data), `${B}.scripts.bridge_deactivate[1][1]`, "${tunnel_interface} is only available in interface_");
    data.bridges.b.scripts = { interface_deactivate: [["echo", "${tunnel_interface} ${tunnel_interface_ip} ${proto} ${bridge_peer_cidrs_ipv6}"]] };
    assert.ok(load(data).config);
  });
  test("unknown placeholder in a reconcile script", () => {
    const data = base();
    data.bridges.b.reconcile = { interface_activate: { script: [["ip", "route", "replace", "${peer_cidr}"]] } };
    assertProblem(problemsOf(data), `${B}.reconcile.interface_activate.script[0][3]`, "unknown placeholder ${peer_cidr}");
  });
  test("shell expansions are not placeholders", () => {
    const data = base();
    data.default_scripts = { bridge_activate: [["sh", "-c", 'echo "${HOME} ${VPNHAM_HOOK_LOG:-/tmp/x} ${1} $foo ${#x}" >> ${LOG}']] };
    assert.ok(load(data).config);
  });
  test("a command must be a non-empty list of strings", () => {
    const data = base();
    data.default_scripts = { bridge_activate: ["echo hi", [], [["nested"]]] };
    const problems = problemsOf(data);
    assertProblem(problems, "default_scripts.bridge_activate[0]", '"echo hi" is not a command');
    assertProblem(problems, "default_scripts.bridge_activate[1]", "an empty command cannot run");
    assertProblem(problems, "default_scripts.bridge_activate[2][0]", "a list is not a string");
  });
  test("scripts and reconcile in one bridge", () => {
    const data = base();
    data.bridges.b.scripts = { bridge_activate: [["true"]] };
    data.bridges.b.reconcile = { scripts_timeout: "5s" };
    assertProblem(problemsOf(data), `${B}.scripts`, "cannot be combined with reconcile");
    delete data.bridges.b.scripts;
    data.bridges.b.scripts_timeout = "5s";
    assertProblem(problemsOf(data), `${B}.scripts_timeout`, "cannot be combined with reconcile");
  });
  test("reapply: initial_delay ≥ 1s, maximum ≥ initial, factor ≥ 1", () => {
    const data = base();
    data.bridges.b.reconcile = {
      bridge_activate: { reapply: { initial_delay: "500ms" } },
      interface_activate: { reapply: { initial_delay: "10s", maximum_delay: "5s", factor: 0.5 } },
    };
    const problems = problemsOf(data);
    assertProblem(problems, `${B}.reconcile.bridge_activate.reapply.initial_delay`, "500ms is too short (minimum 1s");
    assertProblem(problems, `${B}.reconcile.interface_activate.reapply.maximum_delay`, "5s is shorter than initial_delay 10s");
    assertProblem(problems, `${B}.reconcile.interface_activate.reapply.factor`, "0.5 is less than 1");
  });
  test("reapply factor 1 needs equal delays", () => {
    const data = base();
    data.bridges.b.reconcile = { bridge_activate: { reapply: { initial_delay: "1s", maximum_delay: "1m", factor: 1 } } };
    assertProblem(problemsOf(data), `${B}.reconcile.bridge_activate.reapply.factor`, "1 cannot grow");
  });
  test("reapply is not accepted on deactivate hooks", () => {
    const data = base();
    data.bridges.b.reconcile = { interface_deactivate: { reapply: { initial_delay: "1s" } } };
    assertProblem(problemsOf(data), `${B}.reconcile.interface_deactivate.reapply`, "unknown key");
  });
});

describe("cross-key checks", () => {
  test("exactly one active tunnel: none", () => {
    const data = base();
    data.bridges.b.tunnel_interfaces.eth1.role = "standby";
    assertProblem(problemsOf(data), `${B}.tunnel_interfaces`, "0 tunnels have role active, expected exactly 1");
  });
  test("exactly one active tunnel: two", () => {
    const data = base();
    data.bridges.b.tunnel_interfaces.eth2.role = "active";
    assertProblem(problemsOf(data), `${B}.tunnel_interfaces`, "2 tunnels have role active (eth1, eth2)");
  });
  test("partner_url missing", () => {
    const data = base();
    delete data.bridges.b.partner_url;
    assertProblem(problemsOf(data), `${B}.partner_url`, "missing");
  });
  test("partner_url and its alias together", () => {
    const data = base();
    data.bridges.b.partner_status_url = "http://10.0.0.3:8080/";
    assertProblem(problemsOf(data), `${B}.partner_status_url`, "set only one");
  });
  test("secret and secret_file together", () => {
    const data = base();
    data.bridges.b.secret = "0123456789abcdef";
    data.bridges.b.secret_file = "/etc/vpnham.secret";
    assertProblem(problemsOf(data), `${B}.secret_file`, "cannot be combined with secret");
  });
  test("empty secret", () => {
    const data = base();
    data.bridges.b.secret = "";
    assertProblem(problemsOf(data), `${B}.secret`, "empty");
  });
  test("two tunnels on the same UDP address", () => {
    const data = base();
    data.bridges.b.tunnel_interfaces.eth2.addr = "192.168.255.2:3003";
    assertProblem(problemsOf(data), `${B}.tunnel_interfaces.eth2.addr`, "conflicts with bridges.b.tunnel_interfaces.eth1.addr", "UDP port 3003");
  });
  test("status_addr on the metrics wildcard port", () => {
    const data = base();
    data.bridges.b.status_addr = "10.0.0.2:8000";
    assertProblem(problemsOf(data), "metrics.listen_addr", "0.0.0.0:8000 conflicts with bridges.b.status_addr (10.0.0.2:8000)");
  });
  test("two bridges on one status address", () => {
    const data = base();
    const other = structuredClone(data.bridges.b);
    other.tunnel_interfaces.eth1.addr = "192.168.255.2:4003";
    other.tunnel_interfaces.eth2.addr = "192.168.255.18:4003";
    data.bridges.c = other;
    assertProblem(problemsOf(data), "bridges.c.status_addr", "conflicts with bridges.b.status_addr", "TCP port 8080");
  });
  test("[::] covers IPv4 too (dual-stack)", () => {
    const data = base();
    data.metrics = { listen_addr: "[::]:8080" };
    assertProblem(problemsOf(data), "metrics.listen_addr", "conflicts with bridges.b.status_addr");
  });
  test("no conflict: different ports, or TCP and UDP on one address", () => {
    const data = base();
    data.bridges.b.status_addr = "192.168.255.2:3003"; // TCP; eth1 uses UDP on the same address
    data.metrics = { listen_addr: "0.0.0.0:8000" };
    assert.ok(load(data).config);
  });
  test("addr and probe_addr of different families", () => {
    const data = base();
    data.bridges.b.tunnel_interfaces.eth1.probe_addr = "[fd00::3]:3003";
    assertProblem(problemsOf(data), `${T1}.probe_addr`, "is IPv6 but addr 192.168.255.2:3003 is IPv4");
  });
  test("every problem is reported at once", () => {
    const data = base();
    data.bridges.b.role = "x";
    data.bridges.b.tunnel_interfaces.eth1.threshold_down = 1;
    data.bridges.b.tunnel_interfaces.eth2.role = "active";
    data.bridges.b.tunnel_interfaces.eth2.addr = "192.168.255.2:3003";
    data.bridges.b.reconcile = {};
    data.bridges.b.scripts = {};
    data.default_scripts = { bridge_activate: [["${nope}"]] };
    data.surprise = true;
    const problems = problemsOf(data);
    for (const path of [`${B}.role`, `${T1}.threshold_down`, `${B}.tunnel_interfaces`, `${B}.tunnel_interfaces.eth2.addr`, `${B}.scripts`, "default_scripts.bridge_activate[0][0]", "surprise"]) {
      assert.ok(problems.some((p) => p.startsWith(`${path}: `)), `no problem at ${path}:\n${problems.join("\n")}`);
    }
    assert.equal(problems.length, 7, problems.join("\n"));
  });
});

describe("warnings", () => {
  test("partner_status_timeout not shorter than probe_interval", () => {
    const data = base();
    data.bridges.b.partner_status_timeout = "2s";
    const { warnings } = load(data);
    assert.deepEqual(warnings, [`${B}.partner_status_timeout: 2s is not shorter than probe_interval 1s; polls may overlap`]);
  });
  test("interfaces missing on this host", () => {
    const data = base();
    data.bridges.b.secondary_interfaces = ["eth0", "ens9"];
    data.bridges.b.partner_polling_interface = "eth8";
    const { warnings } = load(data, { interfaceNames: new Set(["eth0", "eth1"]) });
    assert.deepEqual(warnings.sort(), [
      `${B}.partner_polling_interface: interface eth8 not found on this host (or it has no address)`,
      `${B}.secondary_interfaces[1]: interface ens9 not found on this host (or it has no address)`,
      `${B}.tunnel_interfaces.eth2: interface eth2 not found on this host (or it has no address)`,
    ]);
  });
  test("unbracketed IPv6 and CIDR host bits", () => {
    const data = base();
    data.bridges.b.status_addr = "fd00::2:8080";
    data.bridges.b.partner_url = "http://[fd00::3]:8080/";
    data.bridges.b.peer_cidr = "10.1.2.3/16";
    const { config, warnings } = load(data);
    assert.equal(config.bridges[0]!.statusAddr.host, "fd00::2");
    assert.deepEqual(config.bridges[0]!.peerCidrs, ["10.1.0.0/16"]);
    assert.ok(warnings.some((w) => w.startsWith(`${B}.status_addr: fd00::2:8080 is an IPv6 address without brackets`)));
    assert.ok(warnings.some((w) => w === `${B}.peer_cidr: 10.1.2.3/16 has host bits set; using 10.1.0.0/16`));
  });
});
