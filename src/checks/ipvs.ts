/**
 * `/proc/net/ip_vs` → virtual services and their real servers, pure (docs/checks.md §ipvs).
 *
 * The kernel (net/netfilter/ipvs/ip_vs_ctl.c, ip_vs_info_seq_show) writes three header lines,
 * then per virtual service one line and one `  -> ` line per real server:
 *
 *     TCP  0A000064:0050 rr 
 *       -> 0A000002:0050      Masq    1      0          0
 *     TCP  [2001:0db8:0000:0000:0000:0000:0000:0064]:0050 wlc 
 *       -> [2001:0db8:0000:0000:0000:0000:0000:0002]:0050      Route   1      0          0
 *     FWM  00000005 sh persistent 300 FFFFFFFF
 *
 * IPv4 addresses are 8 hex digits in host order after ntohl (so they read left to right),
 * ports 4 hex digits, IPv6 addresses full-length groups in brackets.
 */
import { formatIp, parseIp } from "../config/address.ts";
import type { IpvsService } from "./targets.ts";

export type IpvsRealServer = {
  readonly host: string;
  readonly port: number;
  /** Masq, Local, Tunnel, Route, Bypass. */
  readonly forward: string;
  readonly weight: number;
  readonly activeConns: number;
  readonly inactiveConns: number;
};

export type IpvsEntry = { readonly service: IpvsService; readonly scheduler: string; readonly realServers: IpvsRealServer[] };

const address = String.raw`([0-9A-Fa-f]{8}|\[[0-9A-Fa-f:]+\]):([0-9A-Fa-f]{4})`;
const serviceLine = new RegExp(String.raw`^(TCP|UDP|SCTP|[A-Z]+)\s+${address}\s+(\S+)`);
const fwmarkLine = /^FWM\s+([0-9A-Fa-f]{8})\s+(\S+)/;
const realServerLine = new RegExp(String.raw`^\s+->\s+${address}\s+(\S+)\s+(-?\d+)\s+(\d+)\s+(\d+)\s*$`);

/** Hex address as the kernel prints it → canonical IP text; undefined when malformed. */
function hexAddress(text: string): string | undefined {
  if (text.startsWith("[")) {
    const ip = parseIp(text.slice(1, -1));
    return ip?.family === 6 ? formatIp(ip) : undefined;
  }
  const value = parseInt(text, 16);
  return [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff].join(".");
}

/**
 * Every virtual service with its real servers, in file order. Header and unknown lines are
 * skipped; real-server lines before any service, or under one we cannot read, are dropped.
 */
export function parseIpvs(text: string): IpvsEntry[] {
  const entries: IpvsEntry[] = [];
  let current: IpvsEntry | undefined;
  for (const line of text.split("\n")) {
    const real = realServerLine.exec(line);
    if (real) {
      const host = hexAddress(real[1]!);
      if (current && host !== undefined) {
        current.realServers.push({
          host,
          port: parseInt(real[2]!, 16),
          forward: real[3]!,
          weight: Number(real[4]),
          activeConns: Number(real[5]),
          inactiveConns: Number(real[6]),
        });
      }
      continue;
    }
    current = undefined;
    const fwm = fwmarkLine.exec(line);
    if (fwm) {
      current = { service: { protocol: "FWM", fwmark: parseInt(fwm[1]!, 16) }, scheduler: fwm[2]!, realServers: [] };
      entries.push(current);
      continue;
    }
    const service = serviceLine.exec(line);
    if (service) {
      const protocol = service[1]!;
      const host = hexAddress(service[2]!);
      // AH/ESP services exist in old kernels only; we cannot be asked about them.
      if ((protocol === "TCP" || protocol === "UDP" || protocol === "SCTP") && host !== undefined) {
        current = { service: { protocol, host, port: parseInt(service[3]!, 16) }, scheduler: service[4]!, realServers: [] };
        entries.push(current);
      }
    }
  }
  return entries;
}

export function sameService(a: IpvsService, b: IpvsService): boolean {
  if (a.protocol === "FWM" || b.protocol === "FWM") {
    return a.protocol === "FWM" && b.protocol === "FWM" && a.fwmark === b.fwmark;
  }
  return a.protocol === b.protocol && a.host === b.host && a.port === b.port;
}

/** Real servers of `service` with weight > 0, or undefined when the service is not listed. */
export function activeRealServers(entries: readonly IpvsEntry[], service: IpvsService): number | undefined {
  const entry = entries.find((e) => sameService(e.service, service));
  return entry?.realServers.filter((server) => server.weight > 0).length;
}
