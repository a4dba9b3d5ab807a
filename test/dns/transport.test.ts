/**
 * The exchange against a fake server on loopback (docs/dns-failover.md §RFC 2136): what it
 * ignores (other ids, other questions, junk), when it moves to TCP, and that nothing hangs.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { createServer, type Server, type Socket } from "node:net";
import { exchange, DnsExchangeError, DnsTsigError } from "../../src/dns/transport.ts";
import { signMessage, tsigRecordOf, type TsigKey } from "../../src/dns/tsig.ts";
import { addressData, addressOf, decodeMessage, encodeMessage, OPCODE, RR_CLASS, RR_TYPE, type DecodedMessage } from "../../src/dns/wire.ts";

const key: TsigKey = { name: "ha-key", algorithm: "hmac-sha256", secret: Buffer.from("a test key of thirty-two bytes!!") };
const query = { qr: false, aa: false, tc: false, rd: false, ra: false, rcode: 0, opcode: OPCODE.QUERY, questions: [{ name: "vpn.example.test", type: RR_TYPE.A, class: RR_CLASS.IN }], answers: [], authorities: [], additionals: [] };

/** An answer to `request` with `count` A records, signed for it when it was signed. */
function answer(raw: Buffer, request: DecodedMessage, options: { count?: number; tc?: boolean; id?: number; name?: string; signWith?: TsigKey } = {}): Buffer {
  const encoded = encodeMessage({
    ...request,
    id: options.id ?? request.id,
    qr: true,
    aa: true,
    tc: options.tc ?? false,
    questions: [{ ...request.questions[0]!, name: options.name ?? request.questions[0]!.name }],
    answers: Array.from({ length: options.count ?? 1 }, (_, i) => ({ name: "vpn.example.test", type: RR_TYPE.A, class: RR_CLASS.IN, ttl: 60, data: addressData(`192.0.2.${i + 1}`) })),
    additionals: [],
  });
  const tsig = tsigRecordOf(raw, request);
  if (!tsig) return encoded;
  return signMessage(encoded, options.signWith ?? key, Math.floor(Date.now() / 1000), { requestMac: tsig.mac }).wire;
}

describe("exchange (UDP, then TCP)", () => {
  let udp: UdpSocket;
  let tcp: Server;
  let port: number;
  let onUdp: (raw: Buffer, reply: (b: Buffer, fromOtherPort?: boolean) => void) => void = () => {};
  let onTcp: (raw: Buffer, socket: Socket) => void = () => {};
  const stray = createSocket("udp4");
  const server = () => ({ host: "127.0.0.1", port, family: 4 as const, text: `127.0.0.1:${port}` });

  before(async () => {
    tcp = createServer((socket) => {
      let buffered = Buffer.alloc(0);
      socket.on("error", () => {});
      socket.on("data", (chunk) => {
        buffered = Buffer.concat([buffered, chunk]);
        if (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) onTcp(buffered.subarray(2, 2 + buffered.readUInt16BE(0)), socket);
      });
    });
    await new Promise<void>((resolve) => tcp.listen(0, "127.0.0.1", resolve));
    port = (tcp.address() as { port: number }).port;
    udp = createSocket("udp4");
    await new Promise<void>((resolve) => udp.bind(port, "127.0.0.1", resolve));
    await new Promise<void>((resolve) => stray.bind(0, "127.0.0.1", resolve));
    udp.on("message", (raw, from) => onUdp(raw, (b, fromOtherPort) => (fromOtherPort ? stray : udp).send(b, from.port, from.address)));
  });
  after(async () => {
    udp.close();
    stray.close();
    await new Promise((resolve) => tcp.close(resolve));
  });

  test("junk, other ids, other questions and datagrams from another port are ignored; the real answer counts", async () => {
    onUdp = (raw, reply) => {
      const request = decodeMessage(raw);
      reply(Buffer.from("junk"));
      reply(answer(raw, request, { id: (request.id + 1) & 0xffff }));
      reply(answer(raw, request, { name: "other.example.test" }));
      reply(answer(raw, request, { count: 3 }), true);
      reply(answer(raw, request, { count: 2 }));
    };
    const { response, via } = await exchange(query, { server: server(), signal: AbortSignal.timeout(2000), tsig: key });
    assert.equal(via, "udp");
    assert.deepEqual(response.answers.map(addressOf), ["192.0.2.1", "192.0.2.2"]);
  });

  test("a truncated answer is asked again over TCP (a new id, signed again)", async () => {
    const ids: number[] = [];
    onUdp = (raw, reply) => {
      const request = decodeMessage(raw);
      ids.push(request.id);
      reply(answer(raw, request, { count: 0, tc: true }));
    };
    onTcp = (raw, socket) => {
      const request = decodeMessage(raw);
      ids.push(request.id);
      const body = answer(raw, request, { count: 40 });
      const length = Buffer.alloc(2);
      length.writeUInt16BE(body.length);
      // In two pieces: the reader must wait for the whole message.
      socket.write(Buffer.concat([length, body.subarray(0, 100)]));
      setTimeout(() => socket.end(body.subarray(100)), 20);
    };
    const { response, via } = await exchange(query, { server: server(), signal: AbortSignal.timeout(2000), tsig: key });
    assert.equal(via, "tcp");
    assert.equal(response.answers.length, 40);
    assert.equal(ids.length, 2);
  });

  test("an answer signed with another key is an error at once (not retried, not waited for)", async () => {
    onUdp = (raw, reply) => reply(answer(raw, decodeMessage(raw), { signWith: { ...key, secret: Buffer.from("another key") } }));
    await assert.rejects(exchange(query, { server: server(), signal: AbortSignal.timeout(2000), tsig: key }), (error: Error) => error instanceof DnsTsigError && /does not verify/.test(error.message));
    onUdp = (raw, reply) => reply(encodeMessage({ ...decodeMessage(raw), qr: true, additionals: [] }));
    await assert.rejects(exchange(query, { server: server(), signal: AbortSignal.timeout(2000), tsig: key }), /not signed/);
  });

  test("a silent server: the signal ends it; a TCP connection closed early is a retryable error", async () => {
    onUdp = () => {};
    const started = Date.now();
    await assert.rejects(exchange(query, { server: server(), signal: AbortSignal.timeout(200) }), (error: Error) => error.name === "TimeoutError");
    assert.ok(Date.now() - started < 5000, "hang guard");
    onTcp = (_raw, socket) => socket.end(Buffer.from([0x01, 0x00, 0x12]));
    await assert.rejects(exchange(query, { server: server(), signal: AbortSignal.timeout(2000), tcpOnly: true }), (error: Error) => error instanceof DnsExchangeError && /closed before/.test(error.message));
  });
});
