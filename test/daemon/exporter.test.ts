import { after, test } from "node:test";
import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/index.ts";
import { startDaemon, type Daemon } from "../../src/daemon/daemon.ts";
import { waitFor } from "../../src/util/wait.ts";
import { hp, startEcho } from "../robustness/udp.ts";
import { configYaml } from "../support/bridge-yaml.ts";

/**
 * A daemon with no component is a plain exporter (docs/config.md §Sections): the config
 * loader cannot make one until a second job section exists, so the config is built here.
 */
const metricsAddr = "127.66.22.1:18000";
const echoAddr = hp("127.66.22.101", 13003);
const withBridge = () =>
  parseConfig(
    configYaml(
      [
        {
          name: "b",
          role: "active",
          bridgeInterface: "lo",
          statusAddr: "127.66.22.2:18080",
          partnerUrl: "http://127.66.22.200:18080/",
          probeInterval: "50ms",
          partnerTimeout: "20ms",
          tunnels: [{ name: "lo", role: "active", addr: "127.66.22.2:13003", probeAddr: echoAddr.text }],
        },
      ],
      metricsAddr,
    ),
  ).config;
const scrape = async () => (await fetch(`http://${metricsAddr}/metrics`)).text();

let daemon: Daemon | undefined;
let echo: Awaited<ReturnType<typeof startEcho>> | undefined;
after(async () => {
  await daemon?.stop();
  await echo?.close();
});

test("with no job it serves process and build metrics; a reload adds a bridge and removing it leaves no trace", async () => {
  echo = await startEcho(echoAddr);
  const exporterOnly = { ...withBridge(), bridges: [] };
  daemon = await startDaemon(exporterOnly);
  assert.equal(daemon.components().size, 0);
  assert.deepEqual(daemon.status(), {});
  let text = await scrape();
  assert.match(text, /^vpnham_build_info\{.*\} 1$/m);
  assert.match(text, /^process_cpu_seconds_total /m);
  assert.doesNotMatch(text, /bridge="/);

  const added = await daemon.reload(withBridge());
  assert.deepEqual(added, { started: ["b"], stopped: [], restarted: [], kept: [], failed: [] });
  assert.deepEqual([...daemon.components().keys()], ["bridge:b"]);
  await waitFor(() => daemon!.bridges().get("b")!.state.bridgeActive, { timeoutMs: 5000, what: "bridge b active" });
  assert.equal((daemon.status()["bridge:b"] as { name: string }).name, "b");
  assert.match(await scrape(), /^vpnham_bridge_active\{bridge="b"\} 1$/m);

  const removed = await daemon.reload(exporterOnly);
  assert.deepEqual(removed, { started: [], stopped: ["b"], restarted: [], kept: [], failed: [] });
  text = await scrape();
  assert.doesNotMatch(text, /bridge="b"/, "the stopped bridge's series are removed");
  assert.match(text, /^vpnham_build_info\{.*\} 1$/m);
  assert.equal(await fetch("http://127.66.22.2:18080/status").then(() => "answered", () => "refused"), "refused", "its status server is closed");
});
