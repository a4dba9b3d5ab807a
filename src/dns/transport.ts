/**
 * One DNS exchange with a server (docs/dns-failover.md §RFC 2136): UDP first, TCP when the answer
 * is truncated or the message is too large for UDP. The answer must come from the server's
 * address and port, carry our id and our question, and — with a TSIG key — verify against our
 * request's MAC; UDP datagrams that don't match are ignored (they may be spoofed or late). Bounded
 * by the caller's signal; every socket is closed on every path.
 */
import { randomInt } from "node:crypto";
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { connect, type Socket as TcpSocket } from "node:net";
import type { HostPort } from "../config/address.ts";
import { RetryableError } from "../reconcile/action.ts";
import { signMessage, verifyMessage, type TsigKey } from "./tsig.ts";
import { decodeMessage, encodeMessage, sameName, type DecodedMessage, type Message } from "./wire.ts";

/** Larger messages go over TCP at once (the EDNS-less UDP limit is 512; we stay well under a path MTU). */
export const MAX_UDP_MESSAGE_BYTES = 512;
const MAX_TCP_MESSAGE_BYTES = 65_535;

export interface ExchangeOptions {
  readonly server: HostPort;
  readonly signal: AbortSignal;
  readonly tsig?: TsigKey;
  /** Unix seconds (tests). */
  readonly nowS?: () => number;
  /** Tests: always use TCP. */
  readonly tcpOnly?: boolean;
}

export interface Exchanged {
  readonly response: DecodedMessage;
  /** The transport that carried the answer. */
  readonly via: "udp" | "tcp";
}

/** A problem of the exchange itself (no answer, a bad answer); the caller decides on the rcode. */
export class DnsExchangeError extends RetryableError {
  override name = "DnsExchangeError";
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

export async function exchange(message: Omit<Message, "id">, options: ExchangeOptions): Promise<Exchanged> {
  if (!options.tcpOnly) {
    const request = prepare(message, options);
    if (request.wire.length <= MAX_UDP_MESSAGE_BYTES) {
      const response = await overUdp(request, options);
      if (!response.tc) return { response, via: "udp" };
    }
  }
  return { response: await overTcp(prepare(message, options), options), via: "tcp" };
}

interface Prepared {
  readonly id: number;
  readonly wire: Buffer;
  readonly mac?: Buffer;
  readonly question: Message["questions"][number] | undefined;
  readonly opcode: number;
}

/** A fresh id (and signature) per transmission, so a TCP retry is not mistaken for the UDP one. */
function prepare(message: Omit<Message, "id">, options: ExchangeOptions): Prepared {
  const id = randomInt(0, 0x10000);
  const encoded = encodeMessage({ ...message, id });
  const signed = options.tsig ? signMessage(encoded, options.tsig, (options.nowS ?? nowSeconds)()) : undefined;
  return { id, wire: signed?.wire ?? encoded, ...(signed ? { mac: signed.mac } : {}), question: message.questions[0], opcode: message.opcode };
}

/** Why an answer is not the answer to our request (undefined: it is); throws when it is ours but refused. */
function mismatch(raw: Buffer, request: Prepared, options: ExchangeOptions): { response?: DecodedMessage; ignore?: string } {
  let response: DecodedMessage;
  try {
    response = decodeMessage(raw);
  } catch (error) {
    return { ignore: `malformed answer: ${(error as Error).message}` };
  }
  if (!response.qr || response.id !== request.id) return { ignore: "not an answer to our id" };
  const q = response.questions[0];
  const want = request.question;
  // An answer may leave the question out only with an error (FORMERR, NOTIMP).
  if (want && q && (!sameName(q.name, want.name) || q.type !== want.type || q.class !== want.class)) return { ignore: "answer to another question" };
  if (response.opcode !== request.opcode) return { ignore: "answer with another opcode" };
  if (options.tsig && request.mac) {
    const verdict = verifyMessage(raw, response, options.tsig, (options.nowS ?? nowSeconds)(), request.mac);
    if (!verdict.ok) throw new DnsTsigError(`${options.server.text}: ${verdict.error}`);
  }
  return { response };
}

/** The server refused our key, or its answer is not signed by it: retrying will not help. */
export class DnsTsigError extends Error {
  override name = "DnsTsigError";
}

function aborted(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new DnsExchangeError("aborted");
}

function overUdp(request: Prepared, options: ExchangeOptions): Promise<DecodedMessage> {
  const { server, signal } = options;
  return new Promise<DecodedMessage>((resolve, reject) => {
    if (signal.aborted) return reject(aborted(signal));
    const socket: UdpSocket = createSocket(server.family === 6 ? "udp6" : "udp4");
    let done = false;
    const finish = (error: Error | undefined, response?: DecodedMessage) => {
      if (done) return;
      done = true;
      signal.removeEventListener("abort", onAbort);
      try {
        socket.close();
      } catch {
        // already closed
      }
      if (error) reject(error);
      else resolve(response!);
    };
    const onAbort = () => finish(aborted(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    socket.on("error", (error) => finish(new DnsExchangeError(`${server.text}: ${error.message}`)));
    socket.on("message", (raw, from) => {
      if (from.address !== server.host || from.port !== server.port) return; // not from the server
      try {
        const { response } = mismatch(raw, request, options);
        if (response) finish(undefined, response);
      } catch (error) {
        finish(error as Error);
      }
    });
    socket.send(request.wire, server.port, server.host, (error) => {
      if (error) finish(new DnsExchangeError(`${server.text}: ${error.message}`));
    });
  });
}

function overTcp(request: Prepared, options: ExchangeOptions): Promise<DecodedMessage> {
  const { server, signal } = options;
  return new Promise<DecodedMessage>((resolve, reject) => {
    if (signal.aborted) return reject(aborted(signal));
    const socket: TcpSocket = connect({ host: server.host, port: server.port });
    let done = false;
    let received = Buffer.alloc(0);
    const finish = (error: Error | undefined, response?: DecodedMessage) => {
      if (done) return;
      done = true;
      signal.removeEventListener("abort", onAbort);
      socket.destroy();
      if (error) reject(error);
      else resolve(response!);
    };
    const onAbort = () => finish(aborted(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    socket.on("error", (error) => finish(new DnsExchangeError(`${server.text} (tcp): ${error.message}`)));
    socket.on("close", () => finish(new DnsExchangeError(`${server.text} (tcp): connection closed before a complete answer`)));
    socket.on("connect", () => {
      const length = Buffer.alloc(2);
      length.writeUInt16BE(request.wire.length);
      socket.write(Buffer.concat([length, request.wire]));
    });
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length > 2 + MAX_TCP_MESSAGE_BYTES) return finish(new DnsExchangeError(`${server.text} (tcp): answer longer than announced`));
      if (received.length < 2) return;
      const size = received.readUInt16BE(0);
      if (received.length < 2 + size) return;
      try {
        const { response, ignore } = mismatch(received.subarray(2, 2 + size), request, options);
        // On our own connection there is no one else to hear from: a wrong answer is an error.
        finish(response ? undefined : new DnsExchangeError(`${server.text} (tcp): ${ignore}`), response);
      } catch (error) {
        finish(error as Error);
      }
    });
  });
}
