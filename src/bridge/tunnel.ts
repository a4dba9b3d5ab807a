import { randomBytes } from "node:crypto";
import type { CollectorStates } from "../collectors/tie-state.ts";
import type { TunnelConfig } from "../config/index.ts";
import type { Metrics } from "../metrics/registry.ts";
import {
  beginProbe,
  initialTunnelHealth,
  probeSendFailed,
  replyReceived,
  externalDown,
  verdictToReport,
  verdictWithExternal,
  type HealthResult,
  type TieInput,
  type TunnelHealthState,
  type TunnelVerdict,
} from "../monitor/tunnel-health.ts";
import { GO_ZERO_TIME, UTC_OFFSET_MIN, nowUnixNs } from "../probe/gotime.ts";
import { OwnProbeIds } from "../probe/own-ids.ts";
import { startTransponder, type Transponder } from "../probe/transponder.ts";
import { encodeProbe, type Probe } from "../probe/wire.ts";
import { errorMessage } from "../util/errors.ts";
import { TaggedLog } from "../util/log.ts";
import { lateToleranceMs, startTicker, type TickInfo, type Ticker } from "../util/ticker.ts";

/**
 * The shell around one tunnel: a probe ticker, the UDP transponder and the
 * pure health monitor. It reports verdict changes; it decides no roles.
 */
export interface TunnelRuntimeOptions {
  bridgeName: string;
  bridgeId: Buffer;
  probeIntervalMs: number;
  probeLocation: string;
  /** HMAC key for authenticated probes (bridge `secret`). */
  probeKey?: Buffer;
  /**
   * The ids of every tunnel of this host (one set per daemon): our responder refuses requests
   * carrying any of them (docs/hardening.md "Reflected probes"). Default: this tunnel's alone.
   */
  ownIds?: OwnProbeIds;
  config: TunnelConfig;
  metrics: Metrics;
  /** The daemon's collector states, for a tunnel with `ipsec:` or `bgp:` (docs/collectors.md §IPsec-aware failover, §BGP-aware failover). */
  collectorStates?: CollectorStates;
  onVerdict(tunnel: string, verdict: TunnelVerdict): void;
}

const NS_PER_US = 1000n;
/** A tunnel has one far end; a few allow for its re-configuration, more would be abuse. */
const MAX_DST_LOCATIONS = 4;

export class TunnelRuntime {
  readonly name: string;
  /** Echoed by the responder as dst_uuid: tells our replies from anyone else's. */
  readonly tunnelId = randomBytes(16);
  private health: TunnelHealthState;
  private transponder: Transponder | undefined;
  private ticker: Ticker | undefined;
  private readonly log: TaggedLog;
  private readonly labels: { bridge: string; tunnel: string };
  /** Send times on the monotonic clock, by sequence (ring), for round trips on our clock alone. */
  private readonly sentSequence: BigUint64Array;
  private readonly sentMonoNs: BigInt64Array;
  private readonly ringSize: bigint;
  /** dst locations seen in replies: label values come from the network, so they are capped. */
  private readonly dstLocations = new Set<string>();
  private lastSocketProblem = "";
  private readonly ownIds: OwnProbeIds;
  /** The tied CHILD_SA's and BGP session's states ("unknown" without a tie): extra inputs to the verdict. */
  private ipsec: TieInput = "unknown";
  private bgp: TieInput = "unknown";
  /** The verdict last passed to onVerdict (undefined before the first). */
  private reported: TunnelVerdict | undefined;
  private unsubscribe: (() => void) | undefined;
  private notLoadedLogged = false;
  private bgpUnknownLogged = false;

  constructor(private readonly options: TunnelRuntimeOptions) {
    this.name = options.config.name;
    this.health = initialTunnelHealth(options.config.thresholdDown, options.config.thresholdUp);
    this.sentSequence = new BigUint64Array(this.health.window.length);
    this.sentMonoNs = new BigInt64Array(this.health.window.length);
    this.ringSize = BigInt(this.health.window.length);
    this.labels = { bridge: options.bridgeName, tunnel: this.name };
    this.log = new TaggedLog(`tunnel ${options.bridgeName}/${this.name}`);
    this.ownIds = options.ownIds ?? new OwnProbeIds();
  }

  get verdict(): TunnelVerdict {
    return verdictWithExternal(this.health.verdict, externalDown(this.ipsec, this.bgp));
  }

  get healthState(): TunnelHealthState {
    return this.health;
  }

  start(): void {
    const { config, metrics } = this.options;
    // Every request we send carries tunnelId as dst_uuid: registered before the first one leaves.
    this.ownIds.add(this.tunnelId);
    this.transponder = startTransponder({
      addr: config.addr,
      probeAddr: config.probeAddr,
      probeLocation: this.options.probeLocation,
      ...(this.options.probeKey ? { probeKey: this.options.probeKey } : {}),
      ownIds: this.ownIds,
      events: {
        onReply: (probe, receivedMonoNs, receivedUnixNs) => this.onReply(probe, receivedMonoNs, receivedUnixNs),
        onRequestAnswered: () => {},
        onMalformed: (reason) => metrics.datagramsMalformed.inc({ ...this.labels, reason }),
        onSocketError: (error, phase) => {
          metrics.errors.inc({ scope: "peer_probing", bridge: this.options.bridgeName });
          // Counted every time; logged once per change of cause (a cut link fails every send).
          const problem = `${phase}: ${(error as { code?: string }).code ?? errorMessage(error)}`;
          if (problem === this.lastSocketProblem) return;
          this.lastSocketProblem = problem;
          this.log.warn(`socket ${phase} error on ${config.addr.text}: ${errorMessage(error)}`);
        },
      },
    });
    const states = this.options.collectorStates;
    if ((config.ipsec || config.bgp) && states) {
      this.unsubscribe = states.subscribe(() => this.onTieStates());
      this.onTieStates();
    }
    this.ticker = startTicker(this.options.probeIntervalMs, (tick) => this.sendProbe(tick), {
      name: `probe ${this.name}`,
      onError: (error) => {
        metrics.errors.inc({ scope: "peer_probing", bridge: this.options.bridgeName });
        this.log.error(`probe tick failed: ${errorMessage(error)}`);
      },
    });
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.ticker?.stop();
    await this.transponder?.close();
    this.ownIds.delete(this.tunnelId);
  }

  private sendProbe(tick: TickInfo): void {
    const { metrics, probeIntervalMs } = this.options;
    // Recorded as in flight before the datagram leaves, so a fast reply can't be lost.
    // A late tick means *we* stalled: the last probe gets grace, this one leaves late.
    const begun = beginProbe(this.health, { stalled: tick.lateMs >= lateToleranceMs(probeIntervalMs) });
    this.apply(begun);
    const probe: Probe = {
      sequence: begun.sequence,
      srcUuid: this.options.bridgeId,
      srcTime: { unixNs: nowUnixNs(), offsetMin: UTC_OFFSET_MIN },
      srcLocation: this.options.probeLocation,
      dstUuid: this.tunnelId,
      dstTime: GO_ZERO_TIME,
      dstLocation: "",
    };
    metrics.probesSent.inc(this.labels);
    const ring = this.ringSlot(begun.sequence);
    this.sentSequence[ring] = begun.sequence;
    this.sentMonoNs[ring] = process.hrtime.bigint();
    if (!this.transponder?.send(encodeProbe(probe))) this.apply(probeSendFailed(this.health, begun.sequence));
  }

  private onReply(probe: Probe, receivedMonoNs: bigint, receivedUnixNs: bigint): void {
    const { metrics, bridgeName } = this.options;
    if (!probe.srcUuid.equals(this.options.bridgeId) || !probe.dstUuid.equals(this.tunnelId)) {
      // Somebody else's reply (or a spoof): never counts.
      metrics.datagramsMalformed.inc({ ...this.labels, reason: "foreign_reply" });
      return;
    }
    const result = replyReceived(this.health, probe.sequence);
    if (result.outcome === "late") {
      // Already counted as failed; still a sign of life for the down rule.
      metrics.probesLate.inc(this.labels);
      this.apply(result);
      return;
    }
    if (result.outcome !== "returned") {
      metrics.datagramsMalformed.inc({ ...this.labels, reason: `reply_${result.outcome}` });
      return;
    }
    this.lastSocketProblem = ""; // the path works again: log the next problem
    metrics.probesReturned.inc(this.labels);
    // As in Go: forward is src=ours → dst=peer, return the reverse (docs/metrics.md).
    const ours = this.options.probeLocation; // the echoed copy could be anything
    const peer = this.dstLocationLabel(probe.dstLocation);
    metrics.latencyForward.observe(
      { ...this.labels, probe_location_src: ours, probe_location_dst: peer },
      Number((probe.dstTime.unixNs - probe.srcTime.unixNs) / NS_PER_US),
    );
    metrics.latencyReturn.observe(
      { ...this.labels, probe_location_src: peer, probe_location_dst: ours },
      Number((receivedUnixNs - probe.dstTime.unixNs) / NS_PER_US),
    );
    const ring = this.ringSlot(probe.sequence);
    if (this.sentSequence[ring] === probe.sequence) {
      metrics.latencyRoundTrip.observe({ bridge: bridgeName, tunnel: this.name }, Number(receivedMonoNs - this.sentMonoNs[ring]!) / 1e9);
    }
    this.apply(result);
  }

  /** Slot of a sequence in the send-time ring (same size as the monitor's window). */
  private ringSlot(sequence: bigint): number {
    return Number(sequence % this.ringSize);
  }

  /** The far end's location as a label value: the first few seen, then "other" (bounded series). */
  private dstLocationLabel(location: string): string {
    if (this.dstLocations.has(location)) return location;
    if (this.dstLocations.size >= MAX_DST_LOCATIONS) return "other";
    this.dstLocations.add(location);
    return location;
  }

  /** A collector read its daemon: a new state of a tie may change the verdict at once. */
  private onTieStates(): void {
    const states = this.options.collectorStates;
    if (!states) return;
    const ipsec = this.options.config.ipsec ? this.ipsecState(states, this.options.config.ipsec) : "unknown";
    const bgp = this.options.config.bgp ? this.bgpState(states, this.options.config.bgp) : "unknown";
    if (ipsec === this.ipsec && bgp === this.bgp) return;
    this.ipsec = ipsec;
    this.bgp = bgp;
    this.report();
  }

  private ipsecState(states: CollectorStates, tie: NonNullable<TunnelConfig["ipsec"]>): TieInput {
    const next = states.ipsec(tie);
    if (states.ipsecLoaded(tie) === false && !this.notLoadedLogged) {
      this.notLoadedLogged = true;
      this.log.warn(`charon has no connection ${tie.conn}${tie.child ? ` child ${tie.child}` : ""} loaded: the probes alone decide`, { bridge: this.options.bridgeName, tunnel: this.name });
    }
    if (next === this.ipsec) return next;
    if (next !== "unknown") this.notLoadedLogged = false;
    this.log.info(`IPsec CHILD_SA ${next}`, { bridge: this.options.bridgeName, tunnel: this.name, conn: tie.conn, ...(tie.child ? { child: tie.child } : {}) });
    return next;
  }

  private bgpState(states: CollectorStates, tie: NonNullable<TunnelConfig["bgp"]>): TieInput {
    const next = states.bgp(tie);
    if (states.bgpKnown(tie) === false && !this.bgpUnknownLogged) {
      this.bgpUnknownLogged = true;
      this.log.warn(`no BGP peer ${tie.peer}${tie.vrf ? ` in VRF ${tie.vrf}` : ""} listed by FRR/BIRD: the probes alone decide`, { bridge: this.options.bridgeName, tunnel: this.name });
    }
    if (next === this.bgp) return next;
    if (next !== "unknown") this.bgpUnknownLogged = false;
    this.log.info(`BGP peer ${next === "up" ? "established" : next === "down" ? "not established" : "unknown"}`, { bridge: this.options.bridgeName, tunnel: this.name, peer: tie.peer, ...(tie.vrf ? { vrf: tie.vrf } : {}) });
    return next;
  }

  private apply(result: HealthResult): void {
    this.health = result.state;
    if (result.newlyFailed > 0) this.options.metrics.probesFailed.inc(this.labels, result.newlyFailed);
    this.report();
  }

  /** Passes the verdict on when it changed: the probes' verdict, with the ties' states (CHILD_SA, BGP session) as an extra input. */
  private report(): void {
    const verdict = verdictToReport({ probes: this.health.verdict, probesDecided: this.health.decided, externalDown: externalDown(this.ipsec, this.bgp), reported: this.reported });
    if (!verdict) return;
    this.reported = verdict;
    this.log.info(`tunnel ${verdict}`, {
      bridge: this.options.bridgeName,
      tunnel: this.name,
      verdict,
      ...(this.ipsec === "unknown" ? {} : { ipsec: this.ipsec }),
      ...(this.bgp === "unknown" ? {} : { bgp: this.bgp }),
    });
    this.options.onVerdict(this.name, verdict);
  }
}
