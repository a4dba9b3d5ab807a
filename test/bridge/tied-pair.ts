import { bridgeYaml } from "../robustness/support.ts";

/**
 * One active bridge on 127.88.<net>.x with two tunnels (t0 to .2, t1 to .18) whose t0 is tied to
 * an outside state (`tie`: an `ipsec:` or `bgp:` line), plus the collectors' section that feeds it.
 */
export function tiedBridgeYaml(net: number, tie: string, collectors: string): string {
  return (
    bridgeYaml(
      {
        name: "tied",
        role: "active",
        statusAddr: `127.88.${net}.1:8080`,
        partnerUrl: `http://127.88.${net}.3:8080/`,
        probeInterval: "100ms",
        tunnels: [
          { name: "t0", role: "active", addr: `127.88.${net}.1:3003`, probeAddr: `127.88.${net}.2:3003` },
          { name: "t1", role: "standby", addr: `127.88.${net}.17:3003`, probeAddr: `127.88.${net}.18:3003` },
        ],
      },
      `127.88.${net}.1:8000`,
    ).replace("\n        threshold_up: 2\n", `\n        threshold_up: 2\n        ${tie}\n`) + `collectors:\n${collectors}`
  );
}
