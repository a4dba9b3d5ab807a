/**
 * Target values of checks that need more than one field builder: expected HTTP status codes,
 * IPVS virtual services, ping hosts (docs/checks.md). Pure parsers, table-tested.
 */
import { formatIp, parseHostPort, parseIp, type Parsed } from "../config/address.ts";

/** Inclusive range of HTTP status codes. */
export type StatusRange = { readonly min: number; readonly max: number };

export const defaultExpectedStatus = "200-399";
export const defaultStatusRanges: readonly StatusRange[] = [{ min: 200, max: 399 }];

/**
 * `200`, `"200-399"`, `"200,204"` or a list of those (`[200, "300-308"]`) → ranges.
 * Codes are 100..599.
 */
export function parseStatusRanges(value: unknown): Parsed<StatusRange[]> {
  const items: unknown[] = Array.isArray(value) ? value : typeof value === "string" ? value.split(",") : [value];
  if (items.length === 0) return { ok: false, error: "an empty list accepts no status (expected e.g. 200-399)" };
  const ranges: StatusRange[] = [];
  for (const item of items) {
    const text = typeof item === "number" ? String(item) : typeof item === "string" ? item.trim() : undefined;
    const match = text === undefined ? null : /^(\d{3})(?:\s*-\s*(\d{3}))?$/.exec(text);
    if (!match) return { ok: false, error: `${JSON.stringify(item)} is not a status code or range (expected e.g. 200, 200-399)` };
    const min = Number(match[1]);
    const max = match[2] === undefined ? min : Number(match[2]);
    if (min < 100 || max > 599) return { ok: false, error: `${text} is outside 100..599` };
    if (max < min) return { ok: false, error: `${text} is an empty range` };
    ranges.push({ min, max });
  }
  return { ok: true, value: ranges };
}

export function statusExpected(ranges: readonly StatusRange[], status: number): boolean {
  return ranges.some((range) => status >= range.min && status <= range.max);
}

/** An IPVS virtual service as /proc/net/ip_vs lists it. Addresses are canonical IP text. */
export type IpvsService =
  | { readonly protocol: "TCP" | "UDP" | "SCTP"; readonly host: string; readonly port: number }
  | { readonly protocol: "FWM"; readonly fwmark: number };

/** `TCP 10.0.0.100:80`, `udp [2001:db8::1]:53`, `FWM 5` (as ipvsadm -L names them). */
export function parseIpvsService(text: string): Parsed<IpvsService> {
  const match = /^\s*(\S+)\s+(\S+)\s*$/.exec(text);
  if (!match) return { ok: false, error: `expected "PROTOCOL address:port" or "FWM mark", e.g. "TCP 10.0.0.100:80"` };
  const protocol = match[1]!.toUpperCase();
  const rest = match[2]!;
  if (protocol === "FWM") {
    if (!/^\d{1,10}$/.test(rest) || Number(rest) < 1 || Number(rest) > 0xffffffff) {
      return { ok: false, error: `firewall mark ${JSON.stringify(rest)} is not a number 1..4294967295` };
    }
    return { ok: true, value: { protocol, fwmark: Number(rest) } };
  }
  if (protocol !== "TCP" && protocol !== "UDP" && protocol !== "SCTP") {
    return { ok: false, error: `protocol ${JSON.stringify(match[1])} is not one of TCP, UDP, SCTP, FWM` };
  }
  const address = parseHostPort(rest);
  if (!address.ok) return address;
  return { ok: true, value: { protocol, host: address.value.host, port: address.value.port } };
}

export function formatIpvsService(service: IpvsService): string {
  if (service.protocol === "FWM") return `FWM ${service.fwmark}`;
  const host = service.host.includes(":") ? `[${service.host}]` : service.host;
  return `${service.protocol} ${host}:${service.port}`;
}

const dnsLabel = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/**
 * A host for `ping`: an IP literal (canonicalised) or a DNS name. Never starts with "-", so it
 * cannot be taken for an option of ping.
 */
export function parsePingHost(text: string): Parsed<string> {
  const ip = parseIp(text);
  if (ip) return { ok: true, value: formatIp(ip) };
  // Looks like an address but is not one we accept (zones, leading zeros ping would read as octal).
  if (text.includes(":") || /^[\d.]+$/.test(text)) return { ok: false, error: `${JSON.stringify(text)} is not an IP address` };
  const name = text.endsWith(".") ? text.slice(0, -1) : text;
  if (name.length === 0 || name.length > 253 || !name.split(".").every((label) => dnsLabel.test(label))) {
    return { ok: false, error: `${JSON.stringify(text)} is neither an IP address nor a host name` };
  }
  return { ok: true, value: text };
}

/** Check names become metric label values and log fields: keep them plain. */
export function checkNameProblem(name: string): string | undefined {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(name)) {
    return `check name ${JSON.stringify(name)} must be 1..64 letters, digits, "_", "." or "-", starting with a letter or digit`;
  }
  return undefined;
}
