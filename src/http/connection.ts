/**
 * One client connection of the HTTP server (server.ts, where its bounds are listed): reads
 * heads, runs the handler, writes the answers in order, and closes without losing them.
 */
import type { Socket } from "node:net";
import { clearTimeout as clearNodeTimeout, setTimeout as setNodeTimeout } from "node:timers";
import { logger } from "../util/log.ts";
import { errorMessage } from "../util/errors.ts";
import { parseRequestHead, type RequestHead, type RequestHeadLimits } from "./request-head.ts";
import { formatResponse, textResponse, type HttpResponse } from "./response.ts";
import type { TurnBudget, TurnShare } from "./turn-budget.ts";

export type HttpRequest = RequestHead;
export type HttpHandler = (req: HttpRequest) => HttpResponse | Promise<HttpResponse>;

const LINGER_MS = 2000;
const LINGER_MAX_BYTES = 1024 * 1024;
/** Unread answers buffered for one connection before we stop reading its requests. */
const MAX_UNREAD_ANSWER_BYTES = 64 * 1024;

const log = logger.withTag("http");

export interface ConnectionSettings {
  name: string;
  handler: HttpHandler;
  report: (status: number) => void;
  handlerFailed: (error: unknown) => void;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** A stranger (not reserved, never answered 2xx) waits at most this long for its next head. */
  strangerTimeoutMs: number;
  maxBodyBytes: number;
  limits: RequestHeadLimits;
  /** HTTP work per event-loop turn, shared by every connection (turn-budget.ts). */
  budget: TurnBudget;
}

/** What the server's admission decisions need to know of a connection (admission.ts). */
export interface ConnectionState {
  serving: boolean;
  answered: boolean;
  proven: boolean;
  closing: boolean;
  lastActiveMs: number;
}

const EMPTY = Buffer.alloc(0);

/** One client connection: reads heads, runs the handler, writes answers in order. */
export class Connection {
  /** Received bytes not parsed yet (the next head, or pipelined requests). */
  private pending: Buffer = EMPTY;
  /** Bytes of the current request's body still to skip. */
  private bodyRemaining = 0;
  /** Everything further is read and dropped (an oversized body, or after our last answer). */
  private discarding = false;
  private discardedBytes = 0;
  /** A handler is running for the current request. */
  private busy = false;
  /** Our last answer is written; we have ended our side. */
  private closing = false;
  private clientEnded = false;
  /** Bumped on each request and on close, so a late handler answer is dropped. */
  private generation = 0;
  private deadline: ReturnType<typeof setNodeTimeout> | undefined;
  /** Answers written but not yet handed to the kernel. */
  private unsentAnswers = 0;
  /** parseNext's loop is running (further up this stack). */
  private parsing = false;
  /** Answers pile up unread: no more requests are read until the client drains them. */
  private waitingForDrain = false;
  /** How much of `pending` parseRequestHead has already checked (so a dripped head is not re-parsed). */
  private checkedBytes = 0;
  /** This turn's work is spent: reading is paused until a later turn (turn-budget.ts). */
  private waitingForTurn = false;
  private readonly share: TurnShare = { turn: -1, used: 0 };
  /** Answered at least once. */
  private answered = false;
  /** Answered 2xx at least once: a known client, not a stranger. */
  private proven = false;
  private lastActiveMs = performance.now();

  constructor(
    private readonly socket: Socket,
    private readonly settings: ConnectionSettings,
    /** From a reserved (the partner's) address: never a stranger. */
    private readonly reserved = false,
  ) {
    this.setDeadline(this.headWaitMs(settings.headersTimeoutMs), () => this.headTimedOut());
    socket.on("data", (chunk: Buffer) => this.guard(() => this.onData(chunk)));
    socket.on("end", () => this.guard(() => this.onClientEnd()));
    socket.once("close", () => {
      this.generation++;
      this.clearDeadline();
    });
  }

  /** Nothing a client sends may throw out of a socket callback. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      log.warn(`${this.settings.name}: connection failed`, { error: errorMessage(error) });
      this.socket.destroy();
    }
  }

  private onData(chunk: Buffer): void {
    if (this.discarding) {
      this.discardedBytes += chunk.length;
      // Enough dropped: stop reading. TCP flow control holds the client, nothing is stored,
      // and a deadline ends it; a reset now could cost the client our answer.
      if (this.discardedBytes > LINGER_MAX_BYTES) this.socket.pause();
      return;
    }
    if (this.bodyRemaining > 0) {
      const skipped = Math.min(this.bodyRemaining, chunk.length);
      this.bodyRemaining -= skipped;
      chunk = chunk.subarray(skipped);
      if (chunk.length === 0) return;
    }
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    if (this.busy) {
      // Pipelined requests wait for the current answer; don't let them pile up unbounded.
      this.updateReading();
      return;
    }
    this.parseNext();
  }

  private onClientEnd(): void {
    this.clientEnded = true;
    // The client will send nothing more: answer what it has sent (parseNext closes after the
    // last complete request), then close.
    if (!this.busy && !this.waitingForDrain && !this.waitingForTurn) this.parseNext();
  }

  /**
   * Serves the requests already received, one at a time. A loop, not recursion: a handler
   * that answers synchronously comes back here, and 2000 pipelined requests would
   * otherwise overflow the stack (Deno did). Each parse takes a share of the turn's budget;
   * when it is spent, the rest waits for a later turn with reading paused, so that a flood
   * of pipelined requests can't hold the event loop (docs/hardening.md).
   */
  private parseNext(): void {
    if (this.parsing) return; // the loop below picks the next one up
    this.parsing = true;
    try {
      while (!this.busy && !this.closing && !this.waitingForDrain && !this.waitingForTurn && !this.socket.destroyed) {
        if (this.pending.length > 0 && !this.settings.budget.take(this.share)) {
          this.waitForTurn();
          break;
        }
        const parsed = this.pending.length > 0 ? parseRequestHead(this.pending, this.settings.limits, this.checkedBytes) : undefined;
        if (parsed === undefined || parsed.kind === "incomplete") {
          this.checkedBytes = parsed?.checkedBytes ?? 0;
          // A client that has ended can't finish a request: we are done.
          if (this.clientEnded) this.close();
          break;
        }
        this.checkedBytes = 0;
        if (parsed.kind === "error") {
          this.answerAndClose(textResponse(parsed.status, `${parsed.reason}\n`));
          break;
        }
        const rest = this.pending.subarray(parsed.consumed);
        this.pending = EMPTY;
        this.handle(parsed.head, rest);
      }
    } finally {
      this.parsing = false;
    }
    this.updateReading();
  }

  private waitForTurn(): void {
    this.waitingForTurn = true;
    this.settings.budget.wait(() => {
      this.waitingForTurn = false;
      this.guard(() => this.parseNext());
    });
  }

  /**
   * Reads on only while nothing piles up: paused while answers wait to be read, while this
   * turn's budget is spent, or while pipelined requests exceed a head during a handler, so
   * that the kernel's flow control holds the client back, not our memory or our time.
   */
  private updateReading(): void {
    if (this.closing || this.socket.destroyed) return;
    const backlog = this.waitingForDrain || this.waitingForTurn || (this.busy && this.pending.length > this.settings.limits.maxHeadBytes);
    if (backlog) this.socket.pause();
    else this.socket.resume();
  }

  private handle(head: HttpRequest, rest: Buffer): void {
    const { settings } = this;
    this.busy = true;
    this.lastActiveMs = performance.now();
    const generation = ++this.generation;
    this.setDeadline(settings.requestTimeoutMs, () => {
      this.generation++;
      settings.handlerFailed(new Error(`no answer within ${settings.requestTimeoutMs} ms to ${head.method} ${head.path}`));
      this.answerAndClose(textResponse(503, "no answer in time\n"), head);
    });

    let keepAlive = head.keepAlive;
    if (head.body.kind === "length" && head.body.bytes <= settings.maxBodyBytes) {
      this.bodyRemaining = head.body.bytes;
    } else if (head.body.kind !== "none") {
      keepAlive = false;
      this.discarding = true;
    }
    if (rest.length > 0) this.onData(rest);

    const finish = (res: HttpResponse): void => {
      if (generation !== this.generation || this.socket.destroyed) return;
      this.busy = false;
      // A body still on its way when we answer: the client may not send it now (curl with
      // Expect: 100-continue doesn't), so its next bytes could be either; close instead.
      this.answer(res, head, !keepAlive || this.bodyRemaining > 0);
    };
    const failed = (error: unknown): HttpResponse => {
      settings.handlerFailed(error);
      return textResponse(500, "internal error\n");
    };
    let result: HttpResponse | Promise<HttpResponse>;
    try {
      result = settings.handler(head);
    } catch (error) {
      result = failed(error);
    }
    if (result instanceof Promise) {
      result.then(
        (res) => this.guard(() => finish(res)),
        (error: unknown) => this.guard(() => finish(failed(error))),
      );
    } else {
      finish(result);
    }
  }

  private answer(res: HttpResponse, head: HttpRequest, close: boolean): void {
    const bytes = formatResponse(res, { omitBody: head.method === "HEAD", close, keepAliveHeader: !close && head.minorVersion === 0, nowMs: Date.now() });
    if (close) {
      this.send(bytes, res.status);
      this.close();
      return;
    }
    // Until it is sent, the answer has requestTimeoutMs to go out; the wait for the next
    // head starts once it has (answerSent), so a slow reader is not cut mid-answer.
    this.setDeadline(this.settings.requestTimeoutMs, () => this.socket.destroy());
    this.send(bytes, res.status);
    // A client pipelining requests without reading the answers: wait until it reads.
    if (this.socket.writableLength > MAX_UNREAD_ANSWER_BYTES) {
      this.waitingForDrain = true;
      this.socket.once("drain", () => {
        this.waitingForDrain = false;
        this.guard(() => this.parseNext());
      });
    }
    this.parseNext();
  }

  /** For the server's admission decisions (admission.ts). */
  state(): ConnectionState {
    return { serving: this.busy, answered: this.answered, proven: this.proven, closing: this.closing, lastActiveMs: this.lastActiveMs };
  }

  /** Displaced by a newcomer (admission.ts): it was idle, or only lingering. */
  evict(): void {
    this.socket.destroy();
  }

  /** Over the connection cap: 503 at once, then the usual close (the answer is not lost to a reset). */
  refuse(): void {
    this.answerAndClose(textResponse(503, "too many connections\n"));
  }

  private answerAndClose(res: HttpResponse, head?: HttpRequest): void {
    this.send(formatResponse(res, { omitBody: head?.method === "HEAD", close: true, nowMs: Date.now() }), res.status);
    this.close();
  }

  /** Writes an answer and counts it; an answer that can't be written (the client is gone) is not counted. */
  private send(bytes: Buffer, status: number): void {
    if (!this.socket.writable) return;
    this.settings.budget.charge(bytes.length);
    this.unsentAnswers++;
    try {
      this.socket.write(bytes, () => {
        this.unsentAnswers--;
        this.guard(() => this.answerSent());
      });
    } catch {
      this.unsentAnswers--;
      return; // the client is gone; 'close' cleans up
    }
    this.answered = true;
    if (status >= 200 && status < 300) this.proven = true;
    this.settings.report(status);
  }

  private answerSent(): void {
    this.lastActiveMs = performance.now();
    if (this.unsentAnswers === 0 && !this.busy && !this.closing) {
      this.setDeadline(this.headWaitMs(this.settings.keepAliveTimeoutMs + this.settings.headersTimeoutMs), () => this.headTimedOut());
    }
  }

  /** How long we wait for the next head: a stranger gets strangerTimeoutMs at most (docs/hardening.md). */
  private headWaitMs(ms: number): number {
    return this.reserved || this.proven ? ms : Math.min(ms, this.settings.strangerTimeoutMs);
  }

  /** No head in time: a started request gets 408; an idle connection just closes. */
  private headTimedOut(): void {
    // Blank lines between requests are allowed (RFC 9112 §2.2): they are not a request begun.
    const begun = this.pending.some((byte) => byte !== 0x0d && byte !== 0x0a);
    if (begun || this.bodyRemaining > 0) this.answerAndClose(textResponse(408, "request head not received in time\n"));
    else this.socket.destroy();
  }

  /**
   * Ends our side once the answers are sent; until then, and briefly after, reads and drops
   * what still comes, so that our answer is not lost to a reset. Sending the answers gets
   * requestTimeoutMs (a client that never reads doesn't hold us for ever).
   */
  private close(): void {
    if (this.closing) return;
    this.closing = true;
    this.busy = false;
    this.discarding = true;
    this.discardedBytes = 0;
    this.pending = EMPTY;
    this.socket.resume();
    this.setDeadline(this.settings.requestTimeoutMs, () => this.socket.destroy());
    this.socket.once("finish", () => {
      // Both sides done; else linger a little for the client to read and close.
      if (this.clientEnded) this.socket.destroy();
      else this.setDeadline(LINGER_MS, () => this.socket.destroy());
    });
    this.socket.end();
  }

  private setDeadline(ms: number, onExpiry: () => void): void {
    this.clearDeadline();
    this.deadline = setNodeTimeout(() => this.guard(onExpiry), ms);
    this.deadline.unref?.();
  }

  private clearDeadline(): void {
    if (this.deadline !== undefined) clearNodeTimeout(this.deadline);
    this.deadline = undefined;
  }
}
