// examples/systemd/vpnham.service: the settings operators rely on, `systemd-analyze verify`,
// and proof that its capability bounding set still lets a hook run `ip route`.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { binaryPath, binarySkip, examplesDir, findTool, pairConfig, run } from "./support.ts";

const unitPath = join(examplesDir, "systemd", "vpnham.service");
const unitText = readFileSync(unitPath, "utf8");

/** section → key → values (a key may repeat, e.g. ExecReload). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = new Map();
      sections.set(header[1]!, current);
      continue;
    }
    const eq = line.indexOf("=");
    assert.ok(current && eq > 0, `unit line outside a section or without '=': ${line}`);
    const key = line.slice(0, eq).trim();
    current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return sections;
}

const unit = parseUnit(unitText);
const service = unit.get("Service") ?? new Map<string, string[]>();
const one = (key: string) => service.get(key)?.at(-1);
const capabilities = (one("CapabilityBoundingSet") ?? "").split(/\s+/).filter(Boolean);

const systemdAnalyze = findTool("systemd-analyze");
const netnsTools = ["unshare", "setpriv", "ip"].every((t) => findTool(t) !== undefined);
const isRoot = process.getuid?.() === 0;

describe("examples/systemd/vpnham.service", () => {
  test("restarts on failure, reloads with SIGHUP, stops gently", () => {
    assert.equal(one("Restart"), "on-failure");
    assert.ok(service.get("ExecReload")?.includes("/bin/kill -HUP $MAINPID"), "ExecReload=/bin/kill -HUP $MAINPID");
    assert.match(one("ExecStart") ?? "", /^\/usr\/local\/bin\/vpnham serve --config \S+$/);
    assert.equal(one("KillMode"), "mixed", "SIGTERM to vpnham only, so a running hook may finish");
    assert.equal(unit.get("Install")?.get("WantedBy")?.[0], "multi-user.target");
  });

  test("runs ahead of ordinary work: probes are time-critical on a busy host", () => {
    assert.ok(Number(one("Nice")) < 0, "Nice= below 0");
    assert.ok(Number(one("CPUWeight")) > 100, "CPUWeight= above the default 100");
  });

  test("is hardened, but hooks keep the host network and what `ip route` needs", () => {
    assert.equal(one("NoNewPrivileges"), "yes");
    assert.ok(["full", "strict"].includes(one("ProtectSystem") ?? ""), "ProtectSystem");
    assert.ok(capabilities.includes("CAP_NET_ADMIN"), "CAP_NET_ADMIN in CapabilityBoundingSet");
    const families = (one("RestrictAddressFamilies") ?? "").split(/\s+/);
    for (const family of ["AF_NETLINK", "AF_INET", "AF_INET6", "AF_UNIX"]) assert.ok(families.includes(family), family);
    assert.notEqual(one("PrivateNetwork"), "yes", "PrivateNetwork would hide the host's interfaces");
    assert.notEqual(one("MemoryDenyWriteExecute"), "yes", "the JavaScript JIT needs W+X memory");
  });

  test("systemd-analyze verify accepts it", { skip: systemdAnalyze ? binarySkip : "systemd-analyze not installed" }, async () => {
    const work = mkdtempSync(join(tmpdir(), "vpnham-systemd-"));
    try {
      // verify checks that ExecStart's binary exists: point it at the built one.
      const config = join(work, "vpnham.yaml");
      writeFileSync(config, pairConfig({ ip: "127.77.7.1", peerIp: "127.77.7.2", role: "active" }, join(work, "hooks.log")));
      const local = unitText.replaceAll("/usr/local/bin/vpnham", binaryPath).replaceAll("/etc/vpnham/vpnham.yaml", config);
      writeFileSync(join(work, "vpnham.service"), local);
      const r = await run([systemdAnalyze!, "verify", "--man=no", join(work, "vpnham.service")], { cwd: work });
      // Unknown keys are only warnings (exit 0): any line about our unit is a problem.
      const complaints = (r.stdout + r.stderr).split("\n").filter((l) => l.includes("vpnham.service"));
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.deepEqual(complaints, []);

      // The same check sees a broken unit.
      writeFileSync(join(work, "vpnham.service"), local.replace("KillMode=mixed", "KillMode=mixed\nBogusSetting=1"));
      const bad = await run([systemdAnalyze!, "verify", "--man=no", join(work, "vpnham.service")], { cwd: work });
      assert.match(bad.stdout + bad.stderr, /BogusSetting/);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  test(
    "its capability bounding set lets a hook run `ip route` (in a private network namespace)",
    { skip: !isRoot ? "needs root" : !netnsTools ? "needs unshare, setpriv and ip (util-linux, iproute2)" : false },
    async (ctx) => {
      const probe = await run(["unshare", "--net", "true"]);
      if (probe.code !== 0) {
        ctx.skip(`cannot create a network namespace here: ${probe.stderr.trim()}`);
        return;
      }
      // setpriv's spelling: -all,+net_admin,…; NoNewPrivileges=yes as --no-new-privs.
      const bounding = (caps: readonly string[]) => ["-all", ...caps.map((c) => `+${c.replace(/^CAP_/, "").toLowerCase()}`)].join(",");
      const hook = (caps: readonly string[]) =>
        run([
          "unshare", "--net", "sh", "-c",
          `ip link set lo up && setpriv --bounding-set ${bounding(caps)} --no-new-privs -- ip route replace 10.99.0.0/16 dev lo && ip route show 10.99.0.0/16`,
        ]);
      const ok = await hook(capabilities);
      assert.equal(ok.code, 0, `ip route under the unit's capabilities: ${ok.stderr}`);
      assert.match(ok.stdout, /10\.99\.0\.0\/16 dev lo/);
      // Control: without CAP_NET_ADMIN the same hook is refused.
      const denied = await hook(capabilities.filter((c) => c !== "CAP_NET_ADMIN"));
      assert.notEqual(denied.code, 0, "ip route worked without CAP_NET_ADMIN: the check proves nothing");
    },
  );
});
