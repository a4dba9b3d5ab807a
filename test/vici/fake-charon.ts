/** A scripted VICI server on a unix socket in a temporary directory (tests only). */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ViciSection } from "../../src/vici/message.ts";
import { decodePacket, encodePacket, FrameSplitter, PACKET, type Packet } from "../../src/vici/packet.ts";

export type Reply = (packet: Packet, client: FakeClient) => void;

export interface FakeClient {
  readonly socket: Socket;
  readonly registered: Set<string>;
  send(packet: Packet): void;
  sendRaw(bytes: Uint8Array): void;
}

export class FakeCharon {
  readonly dir = mkdtempSync(join(tmpdir(), "hcol-vici-"));
  readonly path = join(this.dir, "charon.vici");
  readonly clients: FakeClient[] = [];
  readonly received: Packet[] = [];
  private server: Server | undefined;
  /** How to answer requests; default: confirm registrations, answer commands with an empty response. */
  reply: Reply = defaultReply;

  async listen(): Promise<void> {
    const server = createServer((socket) => this.serve(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.path, () => resolve());
    });
  }

  /** Closes the listener and every client (like charon exiting). */
  async kill(): Promise<void> {
    for (const c of this.clients) c.socket.destroy();
    this.clients.length = 0;
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async dispose(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private serve(socket: Socket): void {
    const splitter = new FrameSplitter();
    const client: FakeClient = {
      socket,
      registered: new Set(),
      send: (packet) => socket.write(encodePacket(packet)),
      sendRaw: (bytes) => socket.write(bytes),
    };
    this.clients.push(client);
    socket.on("error", () => {});
    socket.on("data", (chunk: Uint8Array) => {
      for (const payload of splitter.push(chunk)) {
        const packet = decodePacket(payload);
        this.received.push(packet);
        if (packet.type === PACKET.EVENT_REGISTER) client.registered.add(packet.name);
        this.reply(packet, client);
      }
    });
  }
}

export function defaultReply(packet: Packet, client: FakeClient): void {
  if (packet.type === PACKET.EVENT_REGISTER || packet.type === PACKET.EVENT_UNREGISTER) client.send({ type: PACKET.EVENT_CONFIRM });
  else if (packet.type === PACKET.CMD_REQUEST) client.send({ type: PACKET.CMD_RESPONSE, message: {} });
}

/** A reply that streams `events[command]` as EVENT packets named `eventName` before the response. */
export function streamingReply(streams: Record<string, { event: string; messages: () => ViciSection[] }>): Reply {
  return (packet, client) => {
    if (packet.type === PACKET.CMD_REQUEST && streams[packet.name]) {
      const { event, messages } = streams[packet.name]!;
      for (const message of messages()) client.send({ type: PACKET.EVENT, name: event, message });
      client.send({ type: PACKET.CMD_RESPONSE, message: {} });
      return;
    }
    defaultReply(packet, client);
  };
}
