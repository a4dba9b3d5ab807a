/**
 * CPU time to reject hostile configs (issue 10 item 4: 100 000 unknown keys took 15 s before
 * the checks became linear; docs/hardening.md §Files the daemon reads). Prints figures only.
 *
 *   bun bench/config-hostile.ts
 */
import { parseConfigWith } from "../src/config/index.ts";

const base = `bridges:
  b:
    role: active
    bridge_interface: eth0
    peer_cidr: 10.1.0.0/16
    status_addr: 10.0.0.2:8080
    partner_url: http://10.0.0.3:8080/
    tunnel_interfaces:
      eth1: { role: active, addr: "192.168.255.2:3003", probe_addr: "192.168.255.3:3003" }
      eth2: { role: standby, addr: "192.168.255.18:3003", probe_addr: "192.168.255.19:3003" }
`;
const cases: [string, string][] = [];
for (const n of [10_000, 100_000]) {
  cases.push([`${n} unknown top-level keys`, base + Array.from({ length: n }, (_, i) => `k${i}: 1`).join("\n")]);
  cases.push([`${n} duplicate keys`, "bridges: {}\n" + "k: 1\n".repeat(n)]);
}
cases.push(["a 1 MiB unknown key", base.replace("    role: active", `    ${"x".repeat(1 << 20)}: 1\n    role: active`)]);

const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
for (const [name, text] of cases) {
  const before = process.cpuUsage();
  try {
    parseConfigWith(text, { interfaceNames: new Set(["eth0", "eth1", "eth2"]) });
  } catch {
    /* refused, as expected */
  }
  const used = process.cpuUsage(before);
  console.log(`${runtime}: ${name}: refused in ${Math.round((used.user + used.system) / 1000)} ms of CPU`);
}
