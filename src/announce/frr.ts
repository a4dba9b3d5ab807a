/**
 * FRR through vtysh, pure (docs/announce.md §FRR): FRR's running config → the `network` lines of
 * the default BGP instance; desired vs actual → the vtysh commands, one call per address family.
 * Only prefixes of the allow-list (the desired list) are ever named; every other `network` line
 * stays as it is.
 */
import type { DesiredPrefix } from "./decide.ts";
import type { Family, FrrBackend } from "./model.ts";
import { parseAnnouncePrefix } from "./schema.ts";

export interface FrrNetwork {
  readonly family: Family;
  readonly routeMap?: string;
}

export interface FrrActual {
  /** `router bgp <asn>` of the default VRF; undefined when FRR has no BGP instance. */
  readonly asn?: number;
  /** Every unicast `network` line of that instance, by canonical prefix. */
  readonly networks: ReadonlyMap<string, FrrNetwork>;
}

/**
 * `show running-config` → the default BGP instance's unicast networks. Lines under `router bgp`
 * (Quagga style, IPv4) and under `address-family ipv4|ipv6 unicast` count; VRF instances and other
 * address families (multicast, vpn, …) are not ours.
 */
export function parseFrrRunningConfig(text: string): FrrActual {
  let asn: number | undefined;
  const networks = new Map<string, FrrNetwork>();
  let inBgp = false;
  let family: Family | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.trimEnd();
    const router = /^router bgp (\d+)(\s+.*)?$/.exec(line);
    if (router) {
      inBgp = router[2] === undefined || router[2].trim() === "";
      if (inBgp && asn === undefined) asn = Number(router[1]);
      family = inBgp ? 4 : undefined;
      continue;
    }
    if (/^\S/.test(line)) {
      // Any other top-level line (`exit`, `!`, `route-map …`) ends the block.
      inBgp = false;
      continue;
    }
    if (!inBgp) continue;
    const trimmed = line.trim();
    const af = /^address-family (\S+)(?: (\S+))?$/.exec(trimmed);
    if (af) {
      family = af[2] === "unicast" || af[2] === undefined ? (af[1] === "ipv4" ? 4 : af[1] === "ipv6" ? 6 : undefined) : undefined;
      continue;
    }
    if (trimmed === "exit-address-family") {
      family = 4;
      continue;
    }
    const network = /^network (\S+)(?: route-map (\S+))?/.exec(trimmed);
    if (!network || family === undefined) continue;
    const parsed = parseAnnouncePrefix(network[1]!);
    if (!parsed.ok || parsed.value.family !== family) continue;
    networks.set(parsed.value.prefix, network[2] === undefined ? { family } : { family, routeMap: network[2] });
  }
  return asn === undefined ? { networks } : { asn, networks };
}

/** The commands of one address family, in the order they run inside `router bgp`. */
export interface FrrChange {
  readonly family: Family;
  readonly commands: readonly string[];
}

/** `network P [route-map R]` where missing or with another route-map; `no network P` where present but withdrawn. */
export function planFrr(desired: readonly DesiredPrefix[], actual: FrrActual): FrrChange[] {
  const byFamily = new Map<Family, string[]>();
  const add = (family: Family, command: string) => byFamily.set(family, [...(byFamily.get(family) ?? []), command]);
  for (const want of desired) {
    const have = actual.networks.get(want.prefix);
    if (want.announce) {
      if (have && have.routeMap === want.routeMap) continue;
      add(want.family, want.routeMap === undefined ? `network ${want.prefix}` : `network ${want.prefix} route-map ${want.routeMap}`);
    } else if (have) {
      add(want.family, `no network ${want.prefix}`);
    }
  }
  return ([4, 6] as const).filter((f) => byFamily.has(f)).map((family) => ({ family, commands: byFamily.get(family)! }));
}

/** vtysh with the instance's namespace and socket directory. */
export function vtyshBase(backend: FrrBackend): string[] {
  return [
    ...backend.vtysh,
    ...(backend.namespace === undefined ? [] : ["-N", backend.namespace]),
    ...(backend.socketDir === undefined ? [] : ["--vty_socket", backend.socketDir]),
  ];
}

export function vtyshReadArgv(backend: FrrBackend): string[] {
  return [...vtyshBase(backend), "-c", "show running-config"];
}

/** One vtysh call: `configure terminal`, `router bgp <asn>`, the family, its commands, `end`. */
export function vtyshChangeArgv(backend: FrrBackend, asn: number, change: FrrChange): string[] {
  const lines = ["configure terminal", `router bgp ${asn}`, `address-family ipv${change.family} unicast`, ...change.commands, "end"];
  return [...vtyshBase(backend), ...lines.flatMap((line) => ["-c", line])];
}

/** FRR's answer to `no network` of a prefix it does not have: the goal is reached. */
export const frrAbsentNetwork = "Can't find static route specified";
/** FRR's answer to `router bgp <asn>` with another AS running. */
export const frrOtherAsn = /BGP is already running; AS is (\d+)/;
