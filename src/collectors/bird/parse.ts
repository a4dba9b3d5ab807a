/**
 * BIRD 2's control-socket replies and `show protocols all` text (docs/collectors.md §BIRD), pure
 * and tolerant: a line that does not fit is skipped, nothing throws except a reply that is an
 * error. The socket speaks lines `DDDD-text` (more follows), `DDDD text` (last line of the
 * reply) and ` text` (continuation of the previous code); birdc prints them without the code,
 * which is what the parser reads — so birdc's own output (the fixtures) reads the same.
 */

export interface BirdReply {
  /** The code of the reply's last line (0000 = OK; 8xxx runtime error, 9xxx parse error). */
  readonly code: number;
  /** The lines as birdc prints them: codes and the continuation space removed. */
  readonly lines: readonly string[];
}

/** True for the last line of a reply (`DDDD ` or exactly `DDDD`). */
export function isFinalLine(line: string): boolean {
  return /^\d{4}( |$)/.test(line);
}

/** One reply (its raw lines, the final one last) as birdc would print it. */
export function birdReply(raw: readonly string[]): BirdReply {
  const lines: string[] = [];
  let code = -1;
  for (const line of raw) {
    const m = /^(\d{4})([ -]|$)(.*)$/.exec(line);
    if (m) {
      lines.push(m[3]!);
      if (m[2] !== "-") code = Number(m[1]);
    } else lines.push(line.startsWith(" ") ? line.slice(1) : line);
  }
  return { code, lines };
}

export interface BirdChannel {
  /** BIRD's channel name: ipv4, ipv6, ipv4-mc, vpn4-mpls, flow6, … */
  readonly name: string;
  readonly state: string | undefined;
  readonly imported: number | undefined;
  readonly exported: number | undefined;
}

export interface BirdProtocol {
  readonly name: string;
  /** BGP, OSPF, Static, Device, Kernel, … */
  readonly proto: string;
  /** up, start, down (disabled), flush. */
  readonly state: string;
  /** The Since column as printed (its format is BIRD's `timeformat protocol`). */
  readonly since: string;
  readonly info: string;
  readonly vrf: string | undefined;
  /** BGP only: the `BGP state:` line (Established, Active, Connect, Idle, Down, …). */
  readonly bgpState: string | undefined;
  readonly neighborAddress: string | undefined;
  readonly neighborAs: string | undefined;
  readonly channels: readonly BirdChannel[];
}

// Since is one token, or `YYYY-MM-DD HH:MM:SS[.fff]` with `timeformat protocol iso long [ms]`.
const PROTOCOL_LINE = /^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?|\S+)(?:\s+(.*?))?\s*$/;

/** `show protocols [all]` as birdc prints it → every protocol with the details shown. */
export function parseBirdProtocols(lines: readonly string[]): BirdProtocol[] {
  const out: BirdProtocol[] = [];
  let current: { head: Omit<BirdProtocol, "channels" | "vrf" | "bgpState" | "neighborAddress" | "neighborAs">; details: Record<string, string>; channels: Record<string, string>[] } | undefined;
  const finish = () => {
    if (!current) return;
    const d = current.details;
    out.push({
      ...current.head,
      vrf: d["VRF"],
      bgpState: d["BGP state"],
      neighborAddress: d["Neighbor address"],
      neighborAs: d["Neighbor AS"],
      channels: current.channels.map((c) => {
        const routes = c["Routes"] ?? "";
        const n = (what: string): number | undefined => {
          const m = new RegExp(`(\\d+) ${what}\\b`).exec(routes);
          return m ? Number(m[1]) : undefined;
        };
        return { name: c["Channel"] ?? "", state: c["State"], imported: n("imported"), exported: n("exported") };
      }),
    });
    current = undefined;
  };
  for (const line of lines) {
    if (line.trim() === "") {
      finish();
      continue;
    }
    if (!line.startsWith(" ")) {
      finish();
      const m = PROTOCOL_LINE.exec(line);
      if (!m || (m[1] === "Name" && m[2] === "Proto") || m[1] === "BIRD") continue;
      current = { head: { name: m[1]!, proto: m[2]!, state: m[4]!, since: m[5]!, info: (m[6] ?? "").trim() }, details: Object.create(null), channels: [] };
      continue;
    }
    if (!current) continue;
    const channel = /^  Channel (\S+)\s*$/.exec(line);
    if (channel) {
      current.channels.push(Object.assign(Object.create(null), { Channel: channel[1]! }));
      continue;
    }
    const kv = /^\s+([A-Za-z][A-Za-z0-9 ]*?):\s+(.*?)\s*$/.exec(line);
    if (!kv) continue;
    const [, key, value] = kv as unknown as [string, string, string];
    const target = current.channels.at(-1) ?? current.details;
    if (!(key in target)) target[key] = value;
  }
  finish();
  return out;
}

/** A time as BIRD prints it, in BIRD's clock: epoch seconds, or local wall time as naive seconds. */
export type BirdTime =
  | { readonly kind: "epoch"; readonly seconds: number }
  | { readonly kind: "naive"; readonly seconds: number }
  | { readonly kind: "time-of-day"; readonly seconds: number }
  | { readonly kind: "date" };

/** Parses BIRD's time formats: iso long [ms], iso short [ms] (time of day), `%F` (date only), `%s`. */
export function parseBirdTime(text: string): BirdTime | undefined {
  let m = /^(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(\.\d+)?$/.exec(text);
  if (m) {
    const [, y, mo, d, h, mi, s, f] = m;
    return { kind: "naive", seconds: Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +s!) / 1000 + (f ? Number(f) : 0) };
  }
  m = /^(\d\d):(\d\d):(\d\d)(\.\d+)?$/.exec(text);
  if (m) return { kind: "time-of-day", seconds: +m[1]! * 3600 + +m[2]! * 60 + +m[3]! + (m[4] ? Number(m[4]) : 0) };
  if (/^\d{4}-\d\d-\d\d$/.test(text)) return { kind: "date" };
  if (/^\d{9,12}(\.\d+)?$/.test(text)) return { kind: "epoch", seconds: Number(text) };
  return undefined;
}

/** `Current server time is …` from `show status` (its format is BIRD's `timeformat base`). */
export function parseServerTime(lines: readonly string[]): BirdTime | undefined {
  for (const line of lines) {
    const m = /^\s*Current server time is (.+?)\s*$/.exec(line);
    if (m) return parseBirdTime(m[1]!);
  }
  return undefined;
}

/**
 * Seconds from `since` to now, or undefined when BIRD's format does not tell (a date alone — BIRD's
 * default prints that for events older than 20 hours). `serverNow` is BIRD's own clock from
 * `show status` (its wall time, whatever its time zone); `localNow` ours, used when BIRD's is
 * missing or in another kind: epoch seconds and our wall time as naive seconds.
 */
export function secondsSince(since: string, serverNow: BirdTime | undefined, localNow: { epoch: number; naive: number }): number | undefined {
  const t = parseBirdTime(since);
  if (!t || t.kind === "date") return undefined;
  if (t.kind === "epoch") return Math.max(0, (serverNow?.kind === "epoch" ? serverNow.seconds : localNow.epoch) - t.seconds);
  const naiveNow = serverNow?.kind === "naive" ? serverNow.seconds : localNow.naive;
  if (t.kind === "naive") return Math.max(0, naiveNow - t.seconds);
  // A time of day: the latest such moment not after now (BIRD prints it only within the last 20 h).
  const clock = serverNow?.kind === "time-of-day" ? serverNow.seconds : naiveNow;
  const dayNow = ((clock % 86400) + 86400) % 86400;
  const back = dayNow - t.seconds;
  return back >= -1 ? Math.max(0, back) : back + 86400;
}
