/**
 * A VICI connection kept open across charon restarts (docs/collectors.md §strongSwan): connects at
 * start, registers the push events, and after the connection is lost reconnects with exponential
 * back-off and jitter. `connection()` hands out the open connection or tries once now (bounded by
 * the caller's signal), so a collection never waits for the back-off timer.
 */
import { errorMessage } from "../util/errors.ts";
import { ViciConnection, type ViciConnectionOptions } from "./client.ts";
import type { ViciSection } from "./message.ts";

export interface ViciSessionOptions {
  socketPath: string;
  /** Push events to register on every (re)connect; unknown ones are reported, not fatal. */
  events: readonly string[];
  onEvent(name: string, message: ViciSection): void;
  /** After each successful (re)connect with events registered. */
  onConnect?(): void;
  onDisconnect?(reason: string): void;
  /** A registration charon refused or failed. */
  onProblem?(message: string): void;
  connectTimeoutMs?: number;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  random?: () => number;
  connection?: Omit<ViciConnectionOptions, "onEvent" | "onClose">;
}

/** Delay before reconnect attempt `failures` (1, 2, …): initial × 2^(n−1), capped, ±20 % jitter. */
export function backoffDelayMs(failures: number, initialMs: number, maxMs: number, random: number): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.max(0, Math.min(failures - 1, 30)));
  return Math.round(base * (0.8 + 0.4 * random));
}

export class ViciSession {
  private current: ViciConnection | undefined;
  private connecting: Promise<ViciConnection> | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private failures = 0;
  private stopped = false;

  constructor(private readonly options: ViciSessionOptions) {}

  start(): void {
    this.attemptInBackground();
  }

  /** The open connection, or a new one (one attempt, bounded by `signal`). */
  async connection(signal: AbortSignal): Promise<ViciConnection> {
    if (this.stopped) throw new Error("VICI session stopped");
    if (this.current && !this.current.closed) return this.current;
    return await raceSignal(this.connect(), signal);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.current?.close();
    this.current = undefined;
  }

  /** Single-flight connect + event registration. */
  private connect(): Promise<ViciConnection> {
    if (this.connecting) return this.connecting;
    const controller = new AbortController();
    const timeout = setTimeout(() => controller.abort(new Error("connect timed out")), this.options.connectTimeoutMs ?? 5000);
    this.connecting = (async () => {
      const conn = await ViciConnection.connect(this.options.socketPath, controller.signal, {
        ...this.options.connection,
        onEvent: (name, message) => this.options.onEvent(name, message),
        onClose: (error) => this.onClose(conn, error),
      });
      try {
        for (const event of this.options.events) {
          if (!(await conn.register(event, controller.signal))) this.options.onProblem?.(`charon does not know the event ${event}`);
        }
      } catch (error) {
        conn.close();
        throw error;
      }
      if (this.stopped) {
        conn.close();
        throw new Error("VICI session stopped");
      }
      this.current = conn;
      this.failures = 0;
      clearTimeout(this.timer);
      this.timer = undefined;
      try {
        this.options.onConnect?.();
      } catch {
        /* observer */
      }
      return conn;
    })().finally(() => {
      clearTimeout(timeout);
      this.connecting = undefined;
    });
    this.connecting.catch(() => this.scheduleReconnect());
    return this.connecting;
  }

  private onClose(conn: ViciConnection, error: Error | undefined): void {
    if (this.current !== conn) return;
    this.current = undefined;
    if (this.stopped) return;
    try {
      this.options.onDisconnect?.(error ? errorMessage(error) : "closed");
    } catch {
      /* observer */
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.timer !== undefined) return;
    this.failures += 1;
    const delayMs = backoffDelayMs(this.failures, this.options.backoffInitialMs ?? 250, this.options.backoffMaxMs ?? 5000, (this.options.random ?? Math.random)());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.attemptInBackground();
    }, delayMs);
  }

  private attemptInBackground(): void {
    if (this.stopped || (this.current && !this.current.closed)) return;
    this.connect().catch(() => {
      /* scheduled again by connect() */
    });
  }
}

function raceSignal<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
