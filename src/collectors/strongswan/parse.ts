/**
 * strongSwan's `list-conn` and `list-sa` events as plain records (docs/collectors.md §strongSwan).
 * Pure and tolerant: a field of the wrong kind or missing reads as absent; nothing throws.
 */
import { num, str, sub, subsections, type ViciSection } from "../../vici/message.ts";

/** A configured connection (from `list-conns`): what is expected to be up. */
export interface ConnConfig {
  readonly conn: string;
  readonly children: readonly string[];
  /** `remote_addrs` as configured (addresses, names, ranges or %any). */
  readonly remoteAddrs: readonly string[];
}

export interface ChildSa {
  /** The CHILD config name (the section key is `<name>-<uniqueid>`, never used as a label). */
  readonly name: string;
  readonly uniqueid: string;
  readonly state: string;
  /** Identity of this SA instance for counter bookkeeping: uniqueid + SPIs (never a label). */
  readonly instance: string;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly packetsIn: number;
  readonly packetsOut: number;
  /** Seconds since the last packet in/out; undefined when none passed yet. */
  readonly useInSeconds: number | undefined;
  readonly useOutSeconds: number | undefined;
  /** Seconds since the SA was installed. */
  readonly installSeconds: number | undefined;
}

export interface IkeSa {
  readonly conn: string;
  readonly uniqueid: string;
  readonly state: string;
  /** Seconds since established; undefined while not established. */
  readonly establishedSeconds: number | undefined;
  /** The peer's address as the IKE_SA uses it. */
  readonly remoteHost: string | undefined;
  readonly children: readonly ChildSa[];
}

/** One `list-conn` event per connection: `{ <conn>: { …, children: { <child>: {…} } } }`. */
export function parseConns(events: readonly ViciSection[]): ConnConfig[] {
  const out: ConnConfig[] = [];
  for (const event of events) {
    for (const [conn, body] of subsections(event)) {
      const remote = body["remote_addrs"];
      const remoteAddrs = Array.isArray(remote) ? remote.filter((a): a is string => typeof a === "string") : [];
      out.push({ conn, children: subsections(sub(body, "children")).map(([child]) => child), remoteAddrs });
    }
  }
  return out;
}

/** One `list-sa` event per IKE_SA: `{ <conn>: { uniqueid, state, established, child-sas: {…} } }`. */
export function parseSas(events: readonly ViciSection[]): IkeSa[] {
  const out: IkeSa[] = [];
  for (const event of events) {
    for (const [conn, body] of subsections(event)) {
      const children = subsections(sub(body, "child-sas")).map(([key, child]) => parseChild(key, child));
      out.push({
        conn,
        uniqueid: str(body, "uniqueid") ?? "",
        state: str(body, "state") ?? "UNKNOWN",
        establishedSeconds: num(body, "established"),
        remoteHost: str(body, "remote-host"),
        children,
      });
    }
  }
  return out;
}

function parseChild(key: string, child: ViciSection): ChildSa {
  const uniqueid = str(child, "uniqueid") ?? "";
  // Older charons may omit `name`; the key is `<name>-<uniqueid>`.
  const name = str(child, "name") ?? (uniqueid && key.endsWith(`-${uniqueid}`) ? key.slice(0, -uniqueid.length - 1) : key);
  return {
    name,
    uniqueid,
    state: str(child, "state") ?? "UNKNOWN",
    instance: `${uniqueid}/${str(child, "spi-in") ?? ""}/${str(child, "spi-out") ?? ""}`,
    bytesIn: num(child, "bytes-in") ?? 0,
    bytesOut: num(child, "bytes-out") ?? 0,
    packetsIn: num(child, "packets-in") ?? 0,
    packetsOut: num(child, "packets-out") ?? 0,
    useInSeconds: num(child, "use-in"),
    useOutSeconds: num(child, "use-out"),
    installSeconds: num(child, "install-time"),
  };
}
