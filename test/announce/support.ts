/** Configs for the announce tests: YAML through the real loader, so tests use what users write. */
import { parseConfigWith } from "../../src/config/index.ts";
import type { AnnounceConfig } from "../../src/announce/model.ts";

export function announceConfig(yaml: string): AnnounceConfig {
  const { config } = parseConfigWith(yaml, { sourceName: "test.yaml" });
  if (!config.announce) throw new Error("no announce: section");
  return config.announce;
}

/** Two services (web: /32 + /128 with route-maps, db: a /24) behind FRR, checks web_http and db_tcp. */
export const twoServices = `
checks:
  web_http: { kind: http, url: "http://127.0.0.1:1/" }
  db_tcp: { kind: tcp, address: "127.0.0.1:1" }
announce:
  frr: { asn: 65001 }
  damping: { min_interval: 0s, hold_down: 0s, max_hold_down: 0s }
  services:
    web:
      prefixes: [192.0.2.10/32, "2001:db8::10/128"]
      route_map: BGP1
      route_maps: { "2001:db8::10/128": BGP6 }
      checks: [web_http]
    db:
      prefixes: [198.51.100.0/24]
      checks: [db_tcp]
`;
