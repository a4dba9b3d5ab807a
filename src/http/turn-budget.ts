/**
 * How much HTTP work may run in one event-loop turn (docs/hardening.md, "Connections and
 * floods on the HTTP ports"). The probes, their timers and the partner poll share the event
 * loop with the HTTP servers: a flood of pipelined requests must not delay them by more than
 * a few ms. A connection takes a share before each request it parses; when the turn's share
 * is spent (or its own), it waits, paused, and is resumed in a later turn in arrival order.
 */
import { setTimeout as setNodeTimeout } from "node:timers";

export interface TurnLimits {
  /** Requests per turn, all connections together. */
  maxRequests: number;
  /** Requests per turn for one connection, so that one flooder can't take the whole turn. */
  maxPerHolder: number;
  /** Wall-clock ms of HTTP work per turn (from the turn's first request). */
  maxMs: number;
  /**
   * Bytes of answers per turn: writing them costs time the clock above may not see (Deno
   * writes after our code has returned), and so does the client reading them.
   */
  maxBytes: number;
}

/** One connection's share of the current turn (kept by the connection, counted here). */
export interface TurnShare {
  turn: number;
  used: number;
}

export class TurnBudget {
  private turn = 0;
  private used = 0;
  private bytes = 0;
  private startMs = 0;
  /** A turn is open: the setImmediate that closes it is scheduled. */
  private open = false;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly limits: TurnLimits,
    private readonly nowMs: () => number = () => performance.now(),
  ) {}

  /** One more request for `share` in this turn: true (and counted) if the budget allows. */
  take(share: TurnShare): boolean {
    if (!this.open) this.openTurn();
    if (share.turn !== this.turn) {
      share.turn = this.turn;
      share.used = 0;
    }
    if (share.used >= this.limits.maxPerHolder || this.spent()) return false;
    share.used++;
    this.used++;
    return true;
  }

  /** Counts `bytes` of answers written in this turn. */
  charge(bytes: number): void {
    if (!this.open) this.openTurn();
    this.bytes += bytes;
  }

  private spent(): boolean {
    const { limits } = this;
    return this.open && (this.used >= limits.maxRequests || this.bytes >= limits.maxBytes || this.nowMs() - this.startMs >= limits.maxMs);
  }

  /** Calls `resume` in a later turn, after those that waited before it. */
  wait(resume: () => void): void {
    this.waiters.push(resume);
    if (!this.open) this.openTurn();
  }

  private openTurn(): void {
    this.open = true;
    this.used = 0;
    this.bytes = 0;
    this.startMs = this.nowMs();
    // A timer, not setImmediate: on Deno a chain of immediates starves I/O (a UDP socket's
    // messages waited 50-200 ms behind one), while timers run after I/O has been polled.
    setNodeTimeout(() => this.closeTurn(), 0);
  }

  /**
   * The turn is over (other I/O and timers have had theirs): the waiters go on, in order,
   * while the new turn's budget lasts; the rest keep their place at the head of the queue
   * (one that has to wait again joins its tail), so that a newcomer waits behind at most
   * one round of the others, however many turns they want.
   */
  private closeTurn(): void {
    this.open = false;
    this.turn++;
    while (this.waiters.length > 0 && !this.spent()) {
      const resume = this.waiters.shift()!;
      try {
        resume();
      } catch {
        // a waiter guards its own work; one failing must not strand the others
      }
    }
    if (this.waiters.length > 0 && !this.open) this.openTurn();
  }
}
