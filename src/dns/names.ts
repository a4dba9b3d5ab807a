/**
 * DNS names and addresses as the `dns_failover:` section takes them (docs/dns-failover.md
 * §Configuration): canonical text so that comparisons, metric labels and the wire codec agree.
 */
import { formatIp, parseIp, type Parsed } from "../config/address.ts";

const label = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/;

/** A host or zone name: lower case, no trailing dot, labels of letters, digits, "-" and "_". */
export function parseDnsName(text: string): Parsed<string> {
  const name = text.toLowerCase().replace(/\.$/, "");
  if (name === "") return { ok: false, error: `${JSON.stringify(text)} is not a DNS name (the root cannot be managed)` };
  if (name.length > 253) return { ok: false, error: `${JSON.stringify(text.slice(0, 40))}… is longer than 253 characters` };
  const bad = name.split(".").find((part) => !label.test(part));
  if (bad !== undefined) {
    return { ok: false, error: `${JSON.stringify(text)} is not a DNS name: label ${JSON.stringify(bad)} must be 1..63 letters, digits, "-" or "_"` };
  }
  return { ok: true, value: name };
}

/** Whether `name` is `zone` or below it (both canonical). */
export function inZone(name: string, zone: string): boolean {
  return name === zone || name.endsWith(`.${zone}`);
}

/** An IPv4 or IPv6 address literal, canonical (RFC 5952 for IPv6). */
export function parseAddress(text: string): Parsed<{ address: string; family: 4 | 6 }> {
  const ip = parseIp(text);
  if (!ip || text.includes("%")) return { ok: false, error: `${JSON.stringify(text)} is not an IP address` };
  // ::ffff:a.b.c.d is IPv4 to parseIp (as Go); as a record it would be AAAA: refuse the ambiguity.
  if (ip.family === 4 && text.includes(":")) return { ok: false, error: `${JSON.stringify(text)} is an IPv4-mapped IPv6 address; write ${formatIp(ip)}` };
  return { ok: true, value: { address: formatIp(ip), family: ip.family } };
}

/** How an address goes into a URL or host:port: IPv6 in brackets. */
export function hostForUrl(address: string): string {
  return address.includes(":") ? `[${address}]` : address;
}
