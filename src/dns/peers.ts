/**
 * Peer agreement's shell (docs/dns-failover.md §Peers): this agent serves its own verdicts at
 * `GET /dns/verdicts` on `listen` (our small GET-only server, src/http/server.ts) and asks every
 * peer for theirs every poll_interval — a poll model like the partner poller's, so no agent ever
 * accepts a body or a push. Both directions are authenticated with a key derived from the shared
 * secret for this use only. A failed poll leaves the peer's last vote to age out: an unreachable
 * peer is no vote, never a "down" vote.
 */
import { deriveKey } from "../auth/keys.ts";
import { AUTH_HEADER, responseAuthHeader, verifyRequestAuth } from "../auth/status-auth.ts";
import type { HostPort } from "../config/address.ts";
import { startHttpServer, type RunningHttpServer } from "../http/server.ts";
import { textResponse, type HttpResponse } from "../http/response.ts";
import { removeSeries } from "../metrics/series.ts";
import { errorMessage, listenError } from "../util/errors.ts";
import { logger } from "../util/log.ts";
import type { DnsHub } from "./hub.ts";
import { PEER_POLL_OUTCOMES, type DnsMetrics } from "./metrics.ts";
import { createPeerClient, type PeerAnswer, type PeerClient } from "./peer-client.ts";
import type { DnsPeerConfig } from "./schema.ts";
import { formatVerdictsBody, VERDICTS_PATH } from "./verdicts-body.ts";

const log = logger.withTag("dns peers");

export interface PeersSettings {
  readonly agent?: string;
  readonly peers: readonly DnsPeerConfig[];
  readonly listen?: HostPort;
  readonly secret?: string;
  readonly pollIntervalMs: number;
  readonly pollTimeoutMs: number;
}

/** The key both sides derive from the shared secret; it MACs nothing else. */
export const verdictsKey = (secret: string) => deriveKey(secret, "dns verdicts");

/** Answers one request to the verdicts server (pure apart from the clock and the verdicts read). */
export function verdictsResponse(
  request: { path: string; method: string; headers: Readonly<Record<string, string | undefined>> },
  key: Buffer,
  body: () => string,
  nowMs: number,
): { response: HttpResponse; outcome: "ok" | "refused" | "not_found" | "bad_method" } {
  if (request.path !== VERDICTS_PATH) return { response: textResponse(404, "not found\n"), outcome: "not_found" };
  const auth = request.headers[AUTH_HEADER];
  if (!verifyRequestAuth(key, auth, nowMs, VERDICTS_PATH)) return { response: textResponse(401, "unauthorized\n"), outcome: "refused" };
  if (request.method !== "GET" && request.method !== "HEAD") return { response: textResponse(405, "only GET\n", { Allow: "GET, HEAD" }), outcome: "bad_method" };
  const text = body();
  return { response: { status: 200, headers: { "Content-Type": "application/json", [AUTH_HEADER]: responseAuthHeader(key, auth!, text) }, body: text }, outcome: "ok" };
}

interface PeerState {
  lastOutcome?: string;
  lastDetail?: string;
  lastOkMs?: number;
}

export class PeersRuntime {
  private server: RunningHttpServer | undefined;
  private readonly clients = new Map<string, PeerClient>();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly state = new Map<string, PeerState>();
  private stopped = false;

  constructor(
    private readonly settings: PeersSettings,
    private readonly hub: DnsHub,
    private readonly metrics: DnsMetrics,
  ) {}

  async start(): Promise<void> {
    const { secret, listen, agent } = this.settings;
    if (secret === undefined) return; // the schema requires one with peers or listen
    const key = verdictsKey(secret);
    if (listen) {
      this.server = await startHttpServer(listen, {
        name: "dns-verdicts",
        handler: (req) => {
          const { response, outcome } = verdictsResponse(req, key, () => formatVerdictsBody(agent ?? "", this.hub.publishedVerdicts()), Date.now());
          this.metrics.verdictRequests.inc({ outcome });
          return response;
        },
      }).catch((error: unknown) => {
        throw listenError("dns_failover.listen", listen.text, error);
      });
    }
    for (const peer of this.settings.peers) {
      for (const outcome of PEER_POLL_OUTCOMES) this.metrics.peerPolls.inc({ peer: peer.name, outcome }, 0);
      this.clients.set(peer.name, createPeerClient({ url: peer.url, peer: peer.name, key, timeoutMs: this.settings.pollTimeoutMs }));
      this.state.set(peer.name, {});
      this.schedule(peer.name, 0);
    }
  }

  private schedule(peer: string, delayMs: number): void {
    if (this.stopped) return;
    this.timers.set(
      peer,
      setTimeout(() => {
        const startedMs = Date.now();
        const client = this.clients.get(peer);
        if (!client) return;
        client
          .fetch()
          .then((answer) => this.record(peer, answer))
          .catch((error: unknown) => log.error(`peer ${peer}: ${errorMessage(error)}`))
          .finally(() => this.schedule(peer, Math.max(0, startedMs + this.settings.pollIntervalMs - Date.now())));
      }, delayMs),
    );
  }

  private record(peer: string, answer: PeerAnswer): void {
    if (this.stopped) return;
    const previous = this.state.get(peer) ?? {};
    const outcome = answer.ok ? "ok" : answer.outcome;
    this.metrics.peerPolls.inc({ peer, outcome });
    if (answer.ok) {
      this.state.set(peer, { lastOutcome: "ok", lastOkMs: Date.now() });
      if (previous.lastOutcome !== "ok") log.info(`peer ${peer}: verdicts received`, { peer });
      this.hub.setVotes(peer, answer.body.verdicts, Date.now());
      return;
    }
    this.state.set(peer, { ...previous, lastOutcome: outcome, lastDetail: answer.detail });
    // Logged on a change of outcome only: a peer that is down for an hour is one line, not 3600.
    if (previous.lastOutcome !== outcome) {
      const line = `peer ${peer}: ${outcome}: ${answer.detail}`;
      if (outcome === "refused") log.warn(`${line} — not counted as a vote`, { peer, outcome });
      else log.warn(`${line} — no vote until it answers`, { peer, outcome });
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    for (const client of this.clients.values()) client.close();
    await this.server?.close();
    for (const peer of this.settings.peers) {
      this.hub.clearPeer(peer.name);
      removeSeries(this.metrics.peerPolls, { peer: peer.name }, { outcome: PEER_POLL_OUTCOMES });
    }
  }

  status(): unknown {
    return {
      ...(this.settings.listen ? { listen: this.settings.listen.text, port: this.server?.port } : {}),
      peers: Object.fromEntries(
        this.settings.peers.map((peer) => {
          const s = this.state.get(peer.name) ?? {};
          return [peer.name, { url: peer.url, ...s, ...(s.lastOkMs ? { lastOk: new Date(s.lastOkMs).toISOString() } : {}) }];
        }),
      ),
    };
  }
}
