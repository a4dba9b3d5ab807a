/**
 * IP literals, `ip:port` socket addresses and CIDRs — parsed by hand so no name is ever resolved
 * and so the rules match Go's `net.ParseIP` (no zones, no leading zeros in IPv4).
 */

import type { HostPort } from "./model.ts";

export type { HostPort };
export type IpFamily = 4 | 6;
export type Cidr = {
  /** Network address (host bits cleared), canonical, e.g. "10.1.0.0/16". */
  text: string;
  /** As written. */
  written: string;
  family: IpFamily;
  prefixLength: number;
  hostBitsSet: boolean;
};
type Ip = { family: IpFamily; bytes: number[] };
export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

const ipv4Part = /^(0|[1-9]\d{0,2})$/;

function parseIpv4(text: string): number[] | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const bytes: number[] = [];
  for (const part of parts) {
    if (!ipv4Part.test(part)) return undefined;
    const value = Number(part);
    if (value > 255) return undefined;
    bytes.push(value);
  }
  return bytes;
}

function parseGroups(text: string): number[] | undefined {
  if (text === "") return [];
  const groups = text.split(":");
  const bytes: number[] = [];
  for (const [index, group] of groups.entries()) {
    if (index === groups.length - 1 && group.includes(".")) {
      const v4 = parseIpv4(group);
      if (!v4) return undefined;
      bytes.push(...v4);
      continue;
    }
    if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return undefined;
    const value = parseInt(group, 16);
    bytes.push(value >> 8, value & 0xff);
  }
  return bytes;
}

function parseIpv6(text: string): number[] | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const head = parseGroups(halves[0] ?? "");
  if (!head) return undefined;
  if (halves.length === 1) return head.length === 16 ? head : undefined;
  const tail = parseGroups(halves[1] ?? "");
  if (!tail || head.length + tail.length > 14) return undefined;
  return [...head, ...new Array<number>(16 - head.length - tail.length).fill(0), ...tail];
}

const v4MappedPrefix = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

/** Parses an IP literal. IPv4-mapped IPv6 (`::ffff:a.b.c.d`) counts as IPv4, as in Go. */
export function parseIp(text: string): Ip | undefined {
  const v4 = parseIpv4(text);
  if (v4) return { family: 4, bytes: v4 };
  if (!text.includes(":")) return undefined;
  const v6 = parseIpv6(text);
  if (!v6) return undefined;
  if (v4MappedPrefix.every((byte, i) => v6[i] === byte)) return { family: 4, bytes: v6.slice(12) };
  return { family: 6, bytes: v6 };
}

/** Canonical text: dotted quad, or RFC 5952 IPv6 (lower case, longest zero run compressed). */
export function formatIp(ip: Ip): string {
  if (ip.family === 4) return ip.bytes.join(".");
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((ip.bytes[i] ?? 0) << 8) | (ip.bytes[i + 1] ?? 0));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLength).join(":")}`;
}

/**
 * `ip:port` or `[ipv6]:port`, port 1..65535. Like Go, an unbracketed IPv6 address is split at
 * its last colon (`::1:8080` is `[::1]:8080`); see {@link isUnbracketedIpv6}.
 */
export function parseHostPort(text: string): Parsed<HostPort> {
  const input = text.trim();
  const colon = input.lastIndexOf(":");
  if (colon < 0) return { ok: false, error: "missing port (expected ip:port, e.g. 10.0.0.2:8080)" };
  let hostText = input.slice(0, colon);
  const portText = input.slice(colon + 1);
  if (hostText.startsWith("[") && hostText.endsWith("]")) hostText = hostText.slice(1, -1);
  if (!/^\d{1,5}$/.test(portText)) return { ok: false, error: `port "${portText}" is not a number 1..65535` };
  const port = Number(portText);
  if (port < 1 || port > 65535) return { ok: false, error: `port ${port} is out of range 1..65535` };
  if (hostText === "") return { ok: false, error: "missing IP address (use 0.0.0.0 for all IPv4 addresses)" };
  if (hostText.includes("%")) return { ok: false, error: "IPv6 zones (%iface) are not supported" };
  const ip = parseIp(hostText);
  if (!ip) return { ok: false, error: `"${hostText}" is not an IP address (names are not resolved)` };
  return { ok: true, value: { host: formatIp(ip), port, family: ip.family, text: input } };
}

/** True when an IPv6 address was written without brackets (accepted, but ambiguous to read). */
export function isUnbracketedIpv6(address: HostPort): boolean {
  return address.family === 6 && !address.text.startsWith("[");
}

/** `ip/prefix`; `text` is the network address (host bits cleared) in canonical form. */
export function parseCidr(text: string): Parsed<Cidr> {
  const input = text.trim();
  const slash = input.indexOf("/");
  if (slash < 0) return { ok: false, error: "missing /prefix (expected e.g. 10.1.0.0/16)" };
  const ipText = input.slice(0, slash);
  const prefixText = input.slice(slash + 1);
  const ip = ipText.includes(":") ? v6Only(ipText) : parseIp(ipText);
  if (!ip) return { ok: false, error: `"${ipText}" is not an IP address` };
  const bits = ip.family === 4 ? 32 : 128;
  if (!/^(0|[1-9]\d{0,2})$/.test(prefixText) || Number(prefixText) > bits) {
    return { ok: false, error: `prefix length "${prefixText}" is out of range 0..${bits}` };
  }
  const prefixLength = Number(prefixText);
  const masked = ip.bytes.map((byte, i) => {
    const keep = Math.min(8, Math.max(0, prefixLength - i * 8));
    return byte & ((0xff << (8 - keep)) & 0xff);
  });
  const hostBitsSet = masked.some((byte, i) => byte !== ip.bytes[i]);
  const network = formatIp({ family: ip.family, bytes: masked });
  return { ok: true, value: { text: `${network}/${prefixLength}`, written: input, family: ip.family, prefixLength, hostBitsSet } };
}

// In a CIDR an IPv6 literal stays IPv6 (prefix lengths count 128 bits).
function v6Only(text: string): Ip | undefined {
  if (text.includes("%")) return undefined;
  const bytes = parseIpv6(text);
  return bytes ? { family: 6, bytes } : undefined;
}

function isUnspecified(address: HostPort): boolean {
  return address.host === "0.0.0.0" || address.host === "::";
}

/**
 * Whether two listening sockets of the same protocol would collide: same port and the same IP,
 * or a wildcard of the same family. `::` also covers IPv4 because Bun, Deno and Node open
 * dual-stack sockets on it.
 */
export function bindsConflict(a: HostPort, b: HostPort): boolean {
  if (a.port !== b.port) return false;
  if (a.host === b.host) return true;
  if (a.host === "::" || b.host === "::") return true;
  return a.family === b.family && (isUnspecified(a) || isUnspecified(b));
}
