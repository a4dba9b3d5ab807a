/**
 * The strongSwan collector (docs/collectors.md §strongSwan): reads charon over VICI — `list-conns`
 * for what is expected, `list-sas` for what is up — on one connection kept open, and asks the
 * engine for a fresh collection whenever charon reports an IKE/CHILD SA going up, down or being
 * rekeyed, and when the connection is lost or regained.
 */
import { logger } from "../../util/log.ts";
import { newSection, type ViciSection } from "../../vici/message.ts";
import { ViciSession } from "../../vici/session.ts";
import type { StrongswanConfig } from "../schema.ts";
import { ipsecCompatFamilies, ipsecCompatSamples } from "../compat.ts";
import type { Collector, Sample } from "../types.ts";
import { parseConns, parseSas } from "./parse.ts";
import { emptyCounterState, peerAddresses, strongswanFamilies, strongswanSamples } from "./samples.ts";

/** Push events that change what list-sas would answer. */
export const STRONGSWAN_EVENTS = ["ike-updown", "child-updown", "ike-rekey", "child-rekey"] as const;

export interface StrongswanCollectorOptions {
  /** Also export the blog's node_ipsec_peer_* names (docs/collectors.md §Drop-in for the cron script). */
  compatNames?: boolean;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
}

const log = logger.withTag("strongswan");

export function createStrongswanCollector(config: StrongswanConfig, options: StrongswanCollectorOptions = {}): Collector {
  let refresh = (): void => {};
  let counters = emptyCounterState();
  const session = new ViciSession({
    socketPath: config.socketPath,
    events: STRONGSWAN_EVENTS,
    onEvent: (name) => {
      if ((STRONGSWAN_EVENTS as readonly string[]).includes(name)) refresh();
    },
    onConnect: () => {
      log.info("connected to charon", { socket: config.socketPath });
      refresh();
    },
    onDisconnect: (reason) => {
      log.warn(`lost the connection to charon: ${reason}`, { socket: config.socketPath });
      refresh();
    },
    onProblem: (message) => log.warn(message, { socket: config.socketPath }),
    connectTimeoutMs: config.timeoutMs,
    ...(options.backoffInitialMs === undefined ? {} : { backoffInitialMs: options.backoffInitialMs }),
    ...(options.backoffMaxMs === undefined ? {} : { backoffMaxMs: options.backoffMaxMs }),
  });
  // noblock: do not wait for IKE_SAs busy with a task (list-sas would block on them).
  const noblock = (): ViciSection => Object.assign(newSection(), { noblock: "yes" });

  return {
    name: "strongswan",
    families: options.compatNames ? [...strongswanFamilies, ...ipsecCompatFamilies] : strongswanFamilies,
    start(onRefresh) {
      refresh = onRefresh;
      session.start();
    },
    async collect(signal): Promise<readonly Sample[]> {
      const conn = await session.connection(signal);
      const conns = await conn.streamed("list-conns", "list-conn", newSection(), signal);
      const sas = await conn.streamed("list-sas", "list-sa", noblock(), signal);
      const connList = parseConns(conns.events);
      const saList = parseSas(sas.events);
      const result = strongswanSamples(connList, saList, counters);
      counters = result.state;
      if (!options.compatNames) return result.samples;
      const peers = peerAddresses(connList, saList);
      return [...result.samples, ...ipsecCompatSamples(result.samples, (conn) => peers.get(conn) ?? "")];
    },
    async stop() {
      refresh = () => {};
      session.stop();
    },
  };
}
