import { networkInterfaces } from "node:os";

/**
 * Substituting `${name}` placeholders in hook argv elements. The vocabulary
 * and the scanning rule (lower-case names only: `${HOME}` or `${X:-y}` are
 * shell syntax and stay as written) are the config module's, which rejects
 * unknown names at load.
 */
import { placeholderNames, placeholderPattern } from "../config/placeholders.ts";

export { placeholderNames };
export type PlaceholderName = (typeof placeholderNames)[number];

/**
 * Replace `${name}` in every element. An unknown lower-case name throws: the
 * config loader rejects those up front, so reaching one here is a bug.
 */
export function substitute(argv: readonly string[], values: Readonly<Record<string, string>>): string[] {
  return argv.map((element) =>
    element.replace(placeholderPattern, (_whole, name: string) => {
      const value = Object.hasOwn(values, name) ? values[name] : undefined;
      if (value === undefined) throw new Error(`unknown placeholder \${${name}} in ${JSON.stringify(element)}`);
      return value;
    }),
  );
}

/** 4 or 6: the address family of a CIDR or address (IPv6 always contains a colon). */
export function addressFamily(cidrOrAddress: string): 4 | 6 {
  return cidrOrAddress.includes(":") ? 6 : 4;
}

export type PlaceholderInput = {
  bridgeInterface: string;
  /** peer_cidr first, then extra_peer_cidrs. */
  peerCidrs: readonly string[];
  bridgeInterfaceIp?: string;
  tunnelInterface?: string;
  tunnelInterfaceIp?: string;
};

/** Placeholder values for one hook run. Pure: interface addresses are resolved by the caller. */
export function placeholderValues(input: PlaceholderInput): Record<PlaceholderName, string> {
  const first = input.peerCidrs[0];
  // Each family gets only its own CIDRs (Go v0.0.18 appends v6 ones to the v4 list).
  const ipv4 = input.peerCidrs.filter((cidr) => addressFamily(cidr) === 4);
  const ipv6 = input.peerCidrs.filter((cidr) => addressFamily(cidr) === 6);
  return {
    proto: first === undefined ? "" : String(addressFamily(first)),
    bridge_interface: input.bridgeInterface,
    bridge_interface_ip: input.bridgeInterfaceIp ?? "",
    bridge_peer_cidr: first ?? "",
    bridge_peer_cidrs_ipv4: ipv4.join(" "),
    bridge_peer_cidrs_ipv6: ipv6.join(" "),
    tunnel_interface: input.tunnelInterface ?? "",
    tunnel_interface_ip: input.tunnelInterfaceIp ?? "",
  };
}

type InterfaceAddress = { address: string; family: string | number };

/**
 * First address of an interface on this host (of `family` when given; a global
 * IPv6 address before a link-local one), else `fallback` (the configured
 * address, so the loopback demo works on any host), else "".
 */
export function interfaceIp(
  name: string,
  fallback?: string,
  family?: 4 | 6,
  interfaces: () => Record<string, InterfaceAddress[] | undefined> = networkInterfaces,
): string {
  let addresses: InterfaceAddress[] = [];
  try {
    addresses = interfaces()[name] ?? [];
  } catch {
    // Some sandboxes deny interface listing: the configured address still works.
  }
  const wanted = addresses.filter((a) => family === undefined || familyOf(a) === family);
  const global = wanted.find((a) => !a.address.toLowerCase().startsWith("fe80:"));
  return (global ?? wanted[0])?.address ?? fallback ?? "";
}

// Node < 18.4 reported family as a number; Bun and Deno as "IPv4"/"IPv6".
function familyOf(a: InterfaceAddress): 4 | 6 {
  return a.family === 6 || a.family === "IPv6" ? 6 : 4;
}
