/**
 * Libreswan's `ipsec whack --trafficstatus` (docs/collectors.md §Libreswan), pure and tolerant of
 * the 3.x, 4.x and 5.x line shapes: an optional `006 ` prefix (3.x/4.x), `#serial: "name"`, an
 * optional `[instance]` and peer address (road-warrior instances), then `key=value` pairs
 * separated by `, ` where a quoted value (`id='CN=gw2, O=Example'`) may hold commas. A line that
 * does not fit is skipped; nothing throws.
 */

export interface TrafficLine {
  /** pluto's state serial (`#4`): one IPsec SA; a rekey makes a new one. Never a label. */
  readonly serial: string;
  /** The connection as pluto names it, alias suffix included (`dc1-to-dc2/1x1`), instance not. */
  readonly name: string;
  /** `name` without a `/NxM` alias suffix (leftsubnets={…} makes one connection per pair). */
  readonly base: string;
  /** Road-warrior instance number (`"remote-users"[3]`). */
  readonly instance: string | undefined;
  /** The peer address printed after an instance. */
  readonly peerAddress: string | undefined;
  readonly type: string | undefined;
  /** Unix seconds the SA was added; undefined when 0 or absent (not yet used, older pluto). */
  readonly addTime: number | undefined;
  readonly inBytes: number;
  readonly outBytes: number;
  /** The peer's ID without its quotes (`@gw2.example.net`, `CN=gw2, O=Example`). */
  readonly id: string | undefined;
}

const HEAD = /^(?:\d{3} )?#(\d+): "([^"]+)"(?:\[(\d+)\])?(?: ([^\s,]+))?,\s*(.*)$/;
const ALIAS = /\/\d+x\d+$/;

/** `key=value, key='quoted, with commas', …` → a map (first occurrence wins). */
export function parsePairs(text: string): Map<string, string> {
  const pairs = new Map<string, string>();
  let rest = text;
  while (rest.length > 0) {
    const key = /^\s*([A-Za-z_][A-Za-z0-9_]*)=/.exec(rest);
    if (!key) break;
    rest = rest.slice(key[0].length);
    let value: string;
    // The closing quote is the one before `, key=` or the end (an ID may hold quotes and commas).
    const quoted = /^'(.*?)'(?=\s*,\s*[A-Za-z_][A-Za-z0-9_]*=|\s*$)/.exec(rest);
    if (quoted) {
      value = quoted[1]!;
      rest = rest.slice(quoted[0].length);
    } else {
      const comma = rest.indexOf(",");
      value = (comma < 0 ? rest : rest.slice(0, comma)).trim();
      rest = comma < 0 ? "" : rest.slice(comma);
    }
    if (!pairs.has(key[1]!)) pairs.set(key[1]!, value);
    rest = rest.replace(/^\s*,\s*/, "");
  }
  return pairs;
}

const count = (text: string | undefined): number | undefined => (text !== undefined && /^\d{1,20}$/.test(text) ? Number(text) : undefined);

export function parseTrafficLine(line: string): TrafficLine | undefined {
  const m = HEAD.exec(line.trimEnd());
  if (!m) return undefined;
  const [, serial, name, instance, peerAddress, rest] = m as unknown as [string, string, string, string | undefined, string | undefined, string];
  const pairs = parsePairs(rest);
  const addTime = count(pairs.get("add_time"));
  return {
    serial,
    name,
    base: name.replace(ALIAS, ""),
    instance,
    peerAddress,
    type: pairs.get("type"),
    addTime: addTime === 0 ? undefined : addTime,
    inBytes: count(pairs.get("inBytes")) ?? 0,
    outBytes: count(pairs.get("outBytes")) ?? 0,
    id: pairs.get("id"),
  };
}

/** Every SA line of the output; anything else (headers, blank `000` lines) is skipped. */
export function parseTrafficStatus(text: string): TrafficLine[] {
  return text.split("\n").flatMap((line) => {
    const parsed = parseTrafficLine(line);
    return parsed ? [parsed] : [];
  });
}
