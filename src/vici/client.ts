/**
 * One VICI connection on node:net (docs/collectors.md §VICI protocol). Requests run one at a time
 * (charon answers a connection's requests in order); a streamed command collects the events it
 * asked for until its CMD_RESPONSE; other events go to `onEvent`. Every wait is bounded by the
 * caller's AbortSignal, every read by the segment limit and the per-command event budget. Any
 * protocol error, abort mid-request or socket error closes the connection: its state is unknown
 * after that, and the session reconnects.
 */
import { createConnection, type Socket } from "node:net";
import { errorMessage } from "../util/errors.ts";
import { newSection, ViciDecodeError, type ViciSection } from "./message.ts";
import { decodePacket, encodePacket, FrameSplitter, MAX_SEGMENT_BYTES, PACKET, type Packet } from "./packet.ts";

export interface ViciConnectionOptions {
  /** Push events (those not collected by a streamed command). Must not throw. */
  onEvent?(name: string, message: ViciSection): void;
  /** Once, when the connection is gone (error = why, undefined after close()). */
  onClose?(error: Error | undefined): void;
  maxSegmentBytes?: number;
  /** Most events one streamed command may return (default 100 000). */
  maxStreamEvents?: number;
  /** Most payload bytes one streamed command may return (default 64 MiB). */
  maxStreamBytes?: number;
}

export class ViciCommandError extends Error {
  override name = "ViciCommandError";
}

type Pending = {
  kind: "command" | "register";
  command: string;
  stream?: { event: string; events: ViciSection[]; bytes: number };
  resolve(packet: Packet): void;
  reject(error: Error): void;
};

export class ViciConnection {
  private readonly splitter: FrameSplitter;
  private pending: Pending | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly registered = new Set<string>();
  private closedWith: Error | undefined | null = null;

  private constructor(
    private readonly socket: Socket,
    private readonly options: ViciConnectionOptions,
  ) {
    this.splitter = new FrameSplitter(options.maxSegmentBytes ?? MAX_SEGMENT_BYTES);
    socket.on("data", (chunk: Uint8Array) => this.onData(chunk));
    socket.on("error", (error) => this.fail(error));
    socket.on("close", () => this.fail(new Error("connection closed by charon")));
  }

  /** Connects to a unix socket; rejects when it cannot or `signal` fires first. */
  static connect(path: string, signal: AbortSignal, options: ViciConnectionOptions = {}): Promise<ViciConnection> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(abortError(signal));
      const socket = createConnection({ path });
      const onAbort = () => {
        socket.destroy();
        reject(abortError(signal));
      };
      signal.addEventListener("abort", onAbort, { once: true });
      socket.once("error", (error) => {
        signal.removeEventListener("abort", onAbort);
        socket.destroy();
        reject(new Error(`cannot connect to ${path}: ${errorMessage(error)}`));
      });
      socket.once("connect", () => {
        signal.removeEventListener("abort", onAbort);
        socket.removeAllListeners("error");
        resolve(new ViciConnection(socket, options));
      });
    });
  }

  get closed(): boolean {
    return this.closedWith !== null;
  }

  /** CMD_REQUEST → CMD_RESPONSE. Rejects on CMD_UNKNOWN, `success = no` is the caller's to read. */
  async request(command: string, message: ViciSection = newSection(), signal?: AbortSignal): Promise<ViciSection> {
    const packet = await this.exchange({ kind: "command", command }, { type: PACKET.CMD_REQUEST, name: command, message }, signal);
    return (packet as { message: ViciSection }).message;
  }

  /** A streamed command: the `event` packets it triggers, then its response. */
  async streamed(command: string, event: string, message: ViciSection = newSection(), signal?: AbortSignal): Promise<{ events: ViciSection[]; response: ViciSection }> {
    if (!(await this.register(event, signal))) throw new ViciCommandError(`charon does not know the event ${event}`);
    const stream = { event, events: [] as ViciSection[], bytes: 0 };
    const packet = await this.exchange({ kind: "command", command, stream }, { type: PACKET.CMD_REQUEST, name: command, message }, signal);
    return { events: stream.events, response: (packet as { message: ViciSection }).message };
  }

  /** EVENT_REGISTER; true when confirmed, false when charon does not know the event. Idempotent. */
  async register(event: string, signal?: AbortSignal): Promise<boolean> {
    if (this.registered.has(event)) return true;
    const packet = await this.exchange({ kind: "register", command: event }, { type: PACKET.EVENT_REGISTER, name: event }, signal);
    if (packet.type === PACKET.EVENT_CONFIRM) this.registered.add(event);
    return packet.type === PACKET.EVENT_CONFIRM;
  }

  close(): void {
    if (this.closedWith === null) this.finish(undefined);
    this.socket.destroy();
  }

  private exchange(base: Omit<Pending, "resolve" | "reject">, packet: Packet, signal?: AbortSignal): Promise<Packet> {
    const run = () =>
      new Promise<Packet>((resolve, reject) => {
        if (this.closedWith !== null) return reject(new Error(`VICI connection closed${this.closedWith ? `: ${this.closedWith.message}` : ""}`));
        if (signal?.aborted) return reject(abortError(signal));
        const onAbort = () => {
          // The answer may still come: the connection cannot be trusted any more.
          this.fail(new Error(`${base.command}: ${abortError(signal!).message}`));
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        const settle = () => signal?.removeEventListener("abort", onAbort);
        this.pending = {
          ...base,
          resolve: (p) => {
            settle();
            resolve(p);
          },
          reject: (e) => {
            settle();
            reject(e);
          },
        };
        try {
          this.socket.write(encodePacket(packet));
        } catch (error) {
          this.fail(error instanceof Error ? error : new Error(String(error)));
        }
      });
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private onData(chunk: Uint8Array): void {
    if (this.closedWith !== null) return;
    try {
      for (const payload of this.splitter.push(chunk)) this.onPacket(decodePacket(payload), payload.length);
    } catch (error) {
      this.fail(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private onPacket(packet: Packet, bytes: number): void {
    const pending = this.pending;
    if (packet.type === PACKET.EVENT) {
      if (pending?.stream && packet.name === pending.stream.event) {
        pending.stream.events.push(packet.message);
        pending.stream.bytes += bytes;
        const maxEvents = this.options.maxStreamEvents ?? 100_000;
        const maxBytes = this.options.maxStreamBytes ?? 64 * 1024 * 1024;
        if (pending.stream.events.length > maxEvents || pending.stream.bytes > maxBytes) {
          throw new ViciDecodeError(`${pending.command}: answer larger than ${maxEvents} events or ${maxBytes} bytes`);
        }
        return;
      }
      try {
        this.options.onEvent?.(packet.name, packet.message);
      } catch {
        /* a listener's bug must not break the connection */
      }
      return;
    }
    if (!pending) throw new ViciDecodeError(`unexpected packet type ${packet.type} with no request pending`);
    const answersCommand = packet.type === PACKET.CMD_RESPONSE || packet.type === PACKET.CMD_UNKNOWN;
    const answersRegister = packet.type === PACKET.EVENT_CONFIRM || packet.type === PACKET.EVENT_UNKNOWN;
    if ((pending.kind === "command" && !answersCommand) || (pending.kind === "register" && !answersRegister)) {
      throw new ViciDecodeError(`packet type ${packet.type} does not answer ${pending.kind} ${pending.command}`);
    }
    this.pending = undefined;
    if (packet.type === PACKET.CMD_UNKNOWN) pending.reject(new ViciCommandError(`charon does not know the command ${pending.command}`));
    else pending.resolve(packet);
  }

  private fail(error: Error): void {
    if (this.closedWith !== null) return;
    this.finish(error);
    this.socket.destroy();
  }

  private finish(error: Error | undefined): void {
    this.closedWith = error;
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(error ?? new Error("VICI connection closed"));
    try {
      this.options.onClose?.(error);
    } catch {
      /* observer */
    }
  }
}

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error("aborted");
}
