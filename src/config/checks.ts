/**
 * Checks that span several keys. They read the raw YAML data defensively (anything may have the
 * wrong type), so they run even when the schema found problems and every problem is reported
 * in one go.
 */
import { bindsConflict, parseHostPort, type HostPort } from "./address.ts";
import { defaults, jobSections } from "./schema.ts";
import { checksCrossCheck } from "../checks/schema.ts";
import { announceCrossCheck } from "../announce/schema.ts";

type Data = Record<string, unknown>;

function isData(value: unknown): value is Data {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function addressOf(value: unknown): HostPort | undefined {
  if (typeof value !== "string") return undefined;
  const parsed = parseHostPort(value);
  return parsed.ok ? parsed.value : undefined;
}

export type Socket = { path: string; address: HostPort };

export function crossCheck(raw: unknown): string[] {
  if (!isData(raw)) return [];
  const problems: string[] = [];
  const noJob = missingJobProblem(Object.keys(raw).filter((key) => raw[key] !== undefined));
  if (noJob) problems.push(noJob);
  const tcp: Socket[] = [];
  const udp: Socket[] = [];
  const bridges = isData(raw.bridges) ? raw.bridges : {};
  for (const [name, bridge] of Object.entries(bridges)) {
    if (!isData(bridge)) continue;
    const at = `bridges.${name}`;
    problems.push(...bridgeChecks(at, bridge));
    const status = addressOf(bridge.status_addr);
    if (status) tcp.push({ path: `${at}.status_addr`, address: status });
    const tunnels = isData(bridge.tunnel_interfaces) ? bridge.tunnel_interfaces : {};
    for (const [tunnelName, tunnel] of Object.entries(tunnels)) {
      if (!isData(tunnel)) continue;
      const tunnelAt = `${at}.tunnel_interfaces.${tunnelName}`;
      const addr = addressOf(tunnel.addr);
      const probeAddr = addressOf(tunnel.probe_addr);
      if (addr) udp.push({ path: `${tunnelAt}.addr`, address: addr });
      if (addr && probeAddr && addr.family !== probeAddr.family) {
        problems.push(
          `${tunnelAt}.probe_addr: ${probeAddr.text} is IPv${probeAddr.family} but addr ${addr.text} is IPv${addr.family}; both must be the same family`,
        );
      }
    }
  }
  const metrics = isData(raw.metrics) ? raw.metrics : {};
  const listen = metrics.listen_addr === undefined || metrics.listen_addr === "" ? defaults.metricsListenAddr : metrics.listen_addr;
  const metricsAddress = addressOf(listen);
  if (metricsAddress) tcp.push({ path: "metrics.listen_addr", address: metricsAddress });
  return problems.concat(conflicts(tcp, "TCP"), conflicts(udp, "UDP"), checksCrossCheck(raw), announceCrossCheck(raw));
}

/** "a, b or c" */
export function orList(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} or ${items[items.length - 1]}`;
}

/**
 * Every section is optional, but without a job section the daemon would have nothing to do
 * (docs/config.md §Sections). Reported at the first job section's path, so the message sits
 * where a Go config has its one required key.
 */
export function missingJobProblem(presentKeys: readonly string[], sections: readonly string[] = jobSections): string | undefined {
  if (sections.some((section) => presentKeys.includes(section))) return undefined;
  return `${sections[0]}: missing (a config needs at least one job section: ${orList(sections)})`;
}

function bridgeChecks(at: string, bridge: Data): string[] {
  const problems: string[] = [];
  const has = (key: string) => bridge[key] !== undefined;
  if (has("reconcile")) {
    const shape1 = ["scripts", "scripts_timeout"].filter(has);
    for (const key of shape1) {
      problems.push(
        `${at}.${key}: cannot be combined with reconcile in one bridge (Shape 2 uses reconcile.scripts_timeout and reconcile.<hook>.script)`,
      );
    }
  }
  if (!has("partner_url") && !has("partner_status_url")) {
    problems.push(`${at}.partner_url: missing (expected an http(s) URL, e.g. http://10.0.0.3:8080/)`);
  } else if (has("partner_url") && has("partner_status_url")) {
    problems.push(`${at}.partner_status_url: is the old name of partner_url; set only one`);
  }
  if (has("secret") && has("secret_file")) {
    problems.push(`${at}.secret_file: cannot be combined with secret; set only one`);
  }
  if (isData(bridge.tunnel_interfaces)) {
    const tunnels = Object.entries(bridge.tunnel_interfaces);
    const active = tunnels.filter(([, tunnel]) => isData(tunnel) && tunnel.role === "active").map(([name]) => name);
    if (tunnels.length > 0 && active.length !== 1) {
      const which = active.length > 0 ? ` (${active.join(", ")})` : "";
      problems.push(`${at}.tunnel_interfaces: ${active.length} tunnels have role active${which}, expected exactly 1`);
    }
  }
  return problems;
}

/**
 * Each socket that collides with an earlier one (bindsConflict), naming the earliest. Indexed by
 * port and host instead of comparing every pair, so a config with thousands of addresses is
 * checked in linear time (docs/hardening.md, "Files the daemon reads").
 */
export function conflicts(sockets: readonly Socket[], protocol: string): string[] {
  type Seen = { hosts: Map<string, number>; first: number; firstOfFamily: Map<4 | 6, number> };
  const ports = new Map<number, Seen>();
  const problems: string[] = [];
  sockets.forEach((socket, index) => {
    const { host, family, port } = socket.address;
    let seen = ports.get(port);
    if (!seen) ports.set(port, (seen = { hosts: new Map(), first: index, firstOfFamily: new Map() }));
    const candidates = [seen.hosts.get(host)]; // the same address
    if (host === "::") candidates.push(seen.first); // dual-stack wildcard: everything on the port
    else candidates.push(seen.hosts.get("::"));
    if (host === "0.0.0.0" || host === "::") candidates.push(seen.firstOfFamily.get(family)); // a wildcard of its family
    else candidates.push(seen.hosts.get(family === 4 ? "0.0.0.0" : "::"));
    const earlier = candidates.filter((i): i is number => i !== undefined && i < index);
    if (earlier.length > 0) {
      const other = sockets[Math.min(...earlier)]!;
      problems.push(
        `${socket.path}: ${socket.address.text} conflicts with ${other.path} (${other.address.text}): both listen on ${protocol} port ${port}`,
      );
    }
    if (!seen.hosts.has(host)) seen.hosts.set(host, index);
    if (!seen.firstOfFamily.has(family)) seen.firstOfFamily.set(family, index);
  });
  return problems;
}
