import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { assertProblem, load, problemsOf } from "../config/support.ts";

type Data = Record<string, any>;
const KEY = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTAxMjM0NTY3";

/** A valid section as plain data; tests change it. */
function section(): Data {
  return {
    agent: "a",
    check: { kind: "tcp", port: 443, interval: "1s", timeout: "500ms" },
    addresses: {
      "192.0.2.1": { names: ["vpn.example.test", "www.example.test"] },
      "2001:DB8:0::1": { names: ["VPN.example.test."], check: { port: 8443 } },
    },
    names: { "vpn.example.test": { ttl: 30 } },
    providers: { bind: { kind: "rfc2136", server: "127.0.0.1:53", zone: "example.test", tsig_key: "ha-key", tsig_secret: KEY } },
    peers: { b: "http://127.0.0.2:9180/", c: "http://127.0.0.3:9180/" },
    listen: "127.0.0.1:9180",
    secret: "a-shared-secret-of-the-agents",
  };
}
const dns = (s: Data) => load({ dns_failover: s }).config.dnsFailover!;
const problems = (s: Data) => problemsOf({ dns_failover: s });

describe("dns_failover: section (docs/dns-failover.md §Configuration)", () => {
  test("a full section: canonical addresses and names, per-name TTL, checks from the template, defaults", () => {
    const config = dns(section());
    assert.equal(config.dryRun, true, "dry_run is true unless set false");
    assert.deepEqual(config.addresses.map((a) => [a.address, a.family, a.names]), [
      ["192.0.2.1", 4, ["vpn.example.test", "www.example.test"]],
      ["2001:db8::1", 6, ["vpn.example.test"]],
    ]);
    assert.deepEqual(config.addresses.map((a) => a.check.kind === "tcp" && a.check.address.text), ["192.0.2.1:443", "[2001:db8::1]:8443"]);
    assert.deepEqual(config.names, [
      { name: "vpn.example.test", ttlS: 30, provider: "bind" },
      { name: "www.example.test", ttlS: 60, provider: "bind" },
    ]);
    assert.deepEqual(config.providers.bind, {
      kind: "rfc2136",
      server: { host: "127.0.0.1", port: 53, family: 4, text: "127.0.0.1:53" },
      zone: "example.test",
      timeoutMs: 5000,
      tsig: { keyName: "ha-key", algorithm: "hmac-sha256", secretBase64: KEY },
    });
    assert.equal(config.minPeersAgree, 1);
    assert.equal(config.voteMaxAgeMs, 3000);
    assert.equal(config.maxChangesPerInterval, 2);
    assert.equal(config.secret, "a-shared-secret-of-the-agents");
    assert.equal(dns({ ...section(), dry_run: false }).dryRun, false);
  });

  test("check kinds: icmp by default, http with {address} (IPv6 in brackets)", () => {
    const plain = section();
    delete plain.addresses["2001:DB8:0::1"].check;
    const icmp = dns({ ...plain, check: undefined });
    assert.deepEqual(icmp.addresses.map((a) => a.check.kind === "icmp" && a.check.host), ["192.0.2.1", "2001:db8::1"]);
    const http = dns({ ...plain, check: { kind: "http", url: "http://{address}:8080/health", expected_status: 204 } });
    assert.deepEqual(http.addresses.map((a) => a.check.kind === "http" && [a.check.url, a.check.expectedStatus]), [
      ["http://192.0.2.1:8080/health", [{ min: 204, max: 204 }]],
      ["http://[2001:db8::1]:8080/health", [{ min: 204, max: 204 }]],
    ]);
  });

  test("an address with a check of another kind inherits only the timing", () => {
    const s = section();
    s.addresses["2001:DB8:0::1"].check = { kind: "https", url: "https://{address}/health", threshold_up: 3 };
    const check = dns(s).addresses[1]!.check;
    assert.deepEqual(check.kind === "https" && [check.url, check.intervalMs, check.timeoutMs, check.thresholdUp], ["https://[2001:db8::1]/health", 1000, 500, 3]);
  });

  test("standalone: no peers, no secret, min_peers_agree 0", () => {
    const { peers: _p, listen: _l, secret: _s, agent: _a, ...alone } = section();
    const config = dns(alone);
    assert.equal(config.minPeersAgree, 0);
    assert.deepEqual(config.peers, []);
  });

  test("problems, each at its key path", () => {
    const cases: Array<[change: (s: Data) => void, path: string, fragment: string]> = [
      [(s) => (s.addresses = {}), "dns_failover.addresses", "at least one address"],
      [(s) => (s.addresses["10.0.0.300"] = { names: ["vpn.example.test"] }), "dns_failover.addresses.10.0.0.300", "not an IP address"],
      [(s) => (s.addresses["::ffff:192.0.2.9"] = { names: ["vpn.example.test"] }), "dns_failover.addresses.::ffff:192.0.2.9", "write 192.0.2.9"],
      [(s) => (s.addresses["192.0.2.1"].names = []), "dns_failover.addresses.192.0.2.1.names", "at least one name"],
      [(s) => (s.addresses["192.0.2.1"].names = ["bad name"]), "dns_failover.addresses.192.0.2.1.names[0]", "not a DNS name"],
      [(s) => (s.addresses["192.0.2.1"].names = ["vpn.example.org"]), "dns_failover.names.vpn.example.org", "not in zone example.test"],
      [(s) => (s.names["other.example.test"] = {}), "dns_failover.names.other.example.test", "no address serves"],
      [(s) => (s.names["vpn.example.test"].provider = "nope"), "dns_failover.names.vpn.example.test.provider", 'no provider named "nope"'],
      [(s) => (s.names["vpn.example.test"].ttl = 0), "dns_failover.names.vpn.example.test.ttl", "out of range"],
      [(s) => delete s.check.port, "dns_failover.check.port", "missing (kind tcp needs it)"],
      [(s) => (s.check.url = "http://x/"), "dns_failover.check.url", "not used by kind tcp"],
      [(s) => (s.check = { kind: "http", url: "http://10.0.0.1/" }), "dns_failover.check.url", "must contain {address}"],
      [(s) => (s.check.timeout = "2s"), "dns_failover.check.timeout", "not shorter than interval"],
      [(s) => (s.addresses["192.0.2.1"].check = { port: 0 }), "dns_failover.addresses.192.0.2.1.check.port", "not a port"],
      [(s) => (s.providers.bind.kind = "cloudfoo"), "dns_failover.providers.bind.kind", ""],
      [(s) => delete s.providers.bind.tsig_secret, "dns_failover.providers.bind.tsig_secret_file", "needs its secret"],
      [(s) => (s.providers.bind.tsig_secret = "not base64!"), "dns_failover.providers.bind.tsig_secret", "no base64 secret"],
      [(s) => (s.min_peers_agree = 3), "dns_failover.min_peers_agree", "more than the 2 peers"],
      [(s) => delete s.secret, "dns_failover.secret_file", "only with a shared secret"],
      [(s) => delete s.agent, "dns_failover.agent", "missing"],
      [(s) => (s.peers.a = "http://127.0.0.9:1/"), "dns_failover.peers.a", "own name"],
      [(s) => (s.peers.b = "ftp://x/"), "dns_failover.peers.b", "not an http(s) URL"],
      [(s) => (s.providers.other = { ...s.providers.bind }), "dns_failover.names.www.example.test.provider", "needs a provider (there are 2)"],
    ];
    for (const [change, path, fragment] of cases) {
      const s = section();
      change(s);
      assertProblem(problems(s), path, fragment);
    }
  });

  test("a cloudflare provider: zone id, token, proxied, API base", () => {
    const s = section();
    s.providers = { cf: { kind: "cloudflare", zone: "example.test", zone_id: "023e105f4ecef8ad9ca31a8372d0c353", token: "tok", proxied: true, api_base: "http://127.0.0.1:9/client/v4/" } };
    assert.deepEqual(dns(s).providers.cf, {
      kind: "cloudflare",
      zone: "example.test",
      timeoutMs: 5000,
      zoneId: "023e105f4ecef8ad9ca31a8372d0c353",
      apiBase: "http://127.0.0.1:9/client/v4",
      proxied: true,
      token: "tok",
    });
    delete s.providers.cf.api_base;
    assert.equal((dns(s).providers.cf as { apiBase: string }).apiBase, "https://api.cloudflare.com/client/v4");
    const cases: Array<[change: (p: Data) => void, key: string, fragment: string]> = [
      [(p) => delete p.zone_id, "zone_id", "missing (kind cloudflare needs it)"],
      [(p) => delete p.token, "token_file", "needs an API token"],
      [(p) => (p.token_file = "x"), "token_file", "cannot be combined with token"],
      [(p) => (p.server = "127.0.0.1:53"), "server", "not used by kind cloudflare"],
      [(p) => (p.tsig_key = "k"), "tsig_key", "not used by kind cloudflare"],
      [(p) => (p.zone_id = "a/b"), "zone_id", "not a Cloudflare zone id"],
    ];
    for (const [change, key, fragment] of cases) {
      const bad = section();
      bad.providers = { cf: { kind: "cloudflare", zone: "example.test", zone_id: "abc", token: "tok" } };
      change(bad.providers.cf);
      assertProblem(problems(bad), `dns_failover.providers.cf.${key}`, fragment);
    }
    const rfc = section();
    rfc.providers.bind.proxied = true;
    assertProblem(problems(rfc), "dns_failover.providers.bind.proxied", "not used by kind rfc2136");
    delete rfc.providers.bind.proxied;
    delete rfc.providers.bind.server;
    assertProblem(problems(rfc), "dns_failover.providers.bind.server", "missing (kind rfc2136 needs it)");
  });

  test("a template problem shared by every address is reported once", () => {
    const s = section();
    s.check.interval = "1";
    assert.equal(problems(s).filter((p) => p.startsWith("dns_failover.check.interval")).length, 1);
  });

  test("secret files: read relative to the config, trailing newline dropped, BIND key file accepted", () => {
    const files: Record<string, string> = { "/etc/vpnham/peers.secret": "a-shared-secret-of-the-agents\n", "/etc/vpnham/ha-key.conf": `key "ha-key" { algorithm hmac-sha256; secret "${KEY}"; };\n` };
    const s = section();
    delete s.secret;
    delete s.providers.bind.tsig_secret;
    s.secret_file = "peers.secret";
    s.providers.bind.tsig_secret_file = "ha-key.conf";
    const readSecretFile = (path: string) => {
      const text = files[path];
      if (text === undefined) throw Object.assign(new Error("no"), { code: "ENOENT" });
      return { text, worldReadable: path.endsWith(".conf") };
    };
    const { config, warnings } = load({ dns_failover: s }, { baseDir: "/etc/vpnham", readSecretFile });
    assert.equal(config.dnsFailover!.secret, "a-shared-secret-of-the-agents");
    const bind = config.dnsFailover!.providers.bind!;
    assert.equal(bind.kind === "rfc2136" && bind.tsig!.secretBase64, KEY);
    assert.deepEqual(warnings, ["dns_failover.providers.bind.tsig_secret_file: /etc/vpnham/ha-key.conf is readable by everyone; chmod 600 it"]);
    s.secret_file = "missing";
    assertProblem(problemsOf({ dns_failover: s }, { baseDir: "/etc/vpnham", readSecretFile }), "dns_failover.secret_file", "cannot read /etc/vpnham/missing (ENOENT)");
  });
});
