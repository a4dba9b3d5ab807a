import { test } from "node:test";
import assert from "node:assert/strict";
import { configModel } from "../../src/config/index.ts";
import { assertProblem, base, load, problemsOf } from "../config/support.ts";

function withChecks(checks: Record<string, unknown>) {
  const data = base();
  data.checks = checks;
  return data;
}

test("checks: every kind loads into the model with its defaults", () => {
  const { config } = load(
    withChecks({
      db: { kind: "tcp", address: "10.0.0.6:5432" },
      web: { kind: "http", url: "http://10.0.0.5:8080/health", body_match: "ok", interval: "10s", timeout: "1s", threshold_down: 4, threshold_up: 3 },
      api: { kind: "https", url: "https://10.0.0.5/", expected_status: [200, "300-308"], body_regex: "^ok", max_body_bytes: 100, tls_skip_verify: true },
      gw: { kind: "icmp", host: "10.0.0.1" },
      script: { kind: "exec", command: ["/usr/local/bin/check", "--quiet", 3] },
      lvs: { kind: "ipvs", service: "TCP 10.0.0.100:80", min_servers: 2, path: "/tmp/ip_vs" },
      fwm: { kind: "ipvs", service: "fwm 5" },
      ha: { kind: "bridge_active", bridge: "b" },
    }),
  );
  configModel.parse(config);
  const checks = config.checks!;
  assert.deepEqual(Object.keys(checks), ["db", "web", "api", "gw", "script", "lvs", "fwm", "ha"]);
  const common = { intervalMs: 5000, timeoutMs: 2000, thresholdDown: 3, thresholdUp: 2 };
  assert.deepEqual(checks.db, { ...common, kind: "tcp", address: { host: "10.0.0.6", port: 5432, family: 4, text: "10.0.0.6:5432" } });
  assert.deepEqual(checks.web, {
    intervalMs: 10_000,
    timeoutMs: 1000,
    thresholdDown: 4,
    thresholdUp: 3,
    kind: "http",
    url: "http://10.0.0.5:8080/health",
    expectedStatus: [{ min: 200, max: 399 }],
    bodyMatch: "ok",
    maxBodyBytes: 65536,
    tlsSkipVerify: false,
  });
  assert.deepEqual(checks.api, {
    ...common,
    kind: "https",
    url: "https://10.0.0.5/",
    expectedStatus: [{ min: 200, max: 200 }, { min: 300, max: 308 }],
    bodyRegex: "^ok",
    maxBodyBytes: 100,
    tlsSkipVerify: true,
  });
  assert.deepEqual(checks.gw, { ...common, kind: "icmp", host: "10.0.0.1" });
  assert.deepEqual(checks.script, { ...common, kind: "exec", command: ["/usr/local/bin/check", "--quiet", "3"] });
  assert.deepEqual(checks.lvs, { ...common, kind: "ipvs", service: { protocol: "TCP", host: "10.0.0.100", port: 80 }, minServers: 2, path: "/tmp/ip_vs" });
  assert.deepEqual(checks.fwm, { ...common, kind: "ipvs", service: { protocol: "FWM", fwmark: 5 }, minServers: 1, path: "/proc/net/ip_vs" });
  assert.deepEqual(checks.ha, { ...common, kind: "bridge_active", bridge: "b" });
});

test("checks: absent section leaves the model unchanged", () => {
  assert.equal("checks" in load(base()).config, false);
});

const problemTable: Array<{ name: string; check: Record<string, unknown>; path: string; fragments: string[] }> = [
  { name: "unknown kind", check: { kind: "smtp" }, path: "checks.c.kind", fragments: ['"smtp"', "tcp, http"] },
  { name: "missing kind", check: { address: "10.0.0.1:1" }, path: "checks.c.kind", fragments: ["missing"] },
  { name: "target missing for the kind", check: { kind: "tcp" }, path: "checks.c.address", fragments: ["missing", "kind tcp"] },
  { name: "key of another kind", check: { kind: "tcp", address: "10.0.0.1:1", body_match: "x" }, path: "checks.c.body_match", fragments: ["not used by kind tcp"] },
  { name: "defaulted key of another kind", check: { kind: "tcp", address: "10.0.0.1:1", min_servers: 2 }, path: "checks.c.min_servers", fragments: ["not used by kind tcp"] },
  { name: "tls_skip_verify on http", check: { kind: "http", url: "http://10.0.0.1/", tls_skip_verify: true }, path: "checks.c.tls_skip_verify", fragments: ["not used by kind http"] },
  { name: "bad address (names are not resolved)", check: { kind: "tcp", address: "db.example:5432" }, path: "checks.c.address", fragments: ["not an IP address"] },
  { name: "scheme does not match the kind", check: { kind: "https", url: "http://10.0.0.1/" }, path: "checks.c.url", fragments: ["not an https:// URL"] },
  { name: "not a URL", check: { kind: "http", url: "10.0.0.1" }, path: "checks.c.url", fragments: ["not a URL"] },
  { name: "bad status", check: { kind: "http", url: "http://10.0.0.1/", expected_status: "2xx" }, path: "checks.c.expected_status", fragments: ["not a status code"] },
  { name: "bad regex", check: { kind: "http", url: "http://10.0.0.1/", body_regex: "(" }, path: "checks.c.body_regex", fragments: ["not a regular expression"] },
  { name: "body limit out of range", check: { kind: "http", url: "http://10.0.0.1/", max_body_bytes: 0 }, path: "checks.c.max_body_bytes", fragments: ["out of range"] },
  { name: "ping host that is an option", check: { kind: "icmp", host: "-f" }, path: "checks.c.host", fragments: ["neither an IP address nor a host name"] },
  { name: "empty command", check: { kind: "exec", command: [] }, path: "checks.c.command", fragments: ["empty command"] },
  { name: "command as a string", check: { kind: "exec", command: "check --quiet" }, path: "checks.c.command", fragments: ["not a command"] },
  { name: "bad ipvs service", check: { kind: "ipvs", service: "ICMP 10.0.0.1:1" }, path: "checks.c.service", fragments: ["TCP, UDP, SCTP, FWM"] },
  { name: "bridge_active of an unknown bridge", check: { kind: "bridge_active", bridge: "nope" }, path: "checks.c.bridge", fragments: ['no bridge named "nope"', "have b"] },
  { name: "timeout not shorter than interval", check: { kind: "tcp", address: "10.0.0.1:1", interval: "1s", timeout: "1s" }, path: "checks.c.timeout", fragments: ["not shorter than interval 1s"] },
  { name: "threshold below 2", check: { kind: "tcp", address: "10.0.0.1:1", threshold_down: 1 }, path: "checks.c.threshold_down", fragments: ["out of range 2..100"] },
  { name: "bare number interval", check: { kind: "tcp", address: "10.0.0.1:1", interval: 5 }, path: "checks.c.interval", fragments: ["bare number"] },
  { name: "interval too short", check: { kind: "tcp", address: "10.0.0.1:1", interval: "10ms", timeout: "10ms" }, path: "checks.c.interval", fragments: ["too short"] },
  { name: "empty body_match", check: { kind: "http", url: "http://10.0.0.1/", body_match: "" }, path: "checks.c.body_match", fragments: ["empty (expected a string)"] },
  { name: "bridge name not a string", check: { kind: "bridge_active", bridge: 5 }, path: "checks.c.bridge", fragments: ["5 is not a bridge name"] },
  { name: "typo in a key", check: { kind: "tcp", adress: "10.0.0.1:1" }, path: "checks.c.adress", fragments: ["unknown key", "did you mean address?"] },
];

for (const row of problemTable) {
  test(`checks: ${row.name} is named by its key path`, () => {
    assertProblem(problemsOf(withChecks({ c: row.check })), row.path, ...row.fragments);
  });
}

test("checks: a bad check name is refused", () => {
  const problems = problemsOf(withChecks({ "a b": { kind: "tcp", address: "10.0.0.1:1" } }));
  assert.ok(problems.some((line) => line.startsWith("checks.a b: ") && line.includes('check name "a b"')), problems.join("\n"));
});
