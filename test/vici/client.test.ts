import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ViciCommandError, ViciConnection } from "../../src/vici/client.ts";
import { newSection, type ViciSection } from "../../src/vici/message.ts";
import { decodePacket, PACKET } from "../../src/vici/packet.ts";
import { backoffDelayMs, ViciSession } from "../../src/vici/session.ts";
import { waitFor } from "../../src/util/wait.ts";
import { defaultReply, FakeCharon, streamingReply } from "./fake-charon.ts";
import { fixture } from "./support.ts";

const eventOf = (file: string) => (decodePacket(fixture(file)) as { message: ViciSection }).message;
const signal = (ms = 2000) => AbortSignal.timeout(ms);

describe("VICI connection", () => {
  let charon: FakeCharon;
  before(async () => {
    charon = new FakeCharon();
    await charon.listen();
  });
  after(() => charon.dispose());

  test("a streamed command collects its events until the response; push events in between go to onEvent", async () => {
    const pushed: string[] = [];
    charon.reply = (packet, client) => {
      if (packet.type === PACKET.CMD_REQUEST && packet.name === "list-sas") {
        client.send({ type: PACKET.EVENT, name: "list-sa", message: eventOf("list-sa-event-5.9.8.bin") });
        client.send({ type: PACKET.EVENT, name: "ike-updown", message: eventOf("ike-updown-down.bin") });
        client.send({ type: PACKET.EVENT, name: "list-sa", message: eventOf("list-sa-event-after-ping.bin") });
        client.send({ type: PACKET.CMD_RESPONSE, message: {} });
      } else defaultReply(packet, client);
    };
    const conn = await ViciConnection.connect(charon.path, signal(), { onEvent: (name) => pushed.push(name) });
    try {
      assert.equal(await conn.register("ike-updown", signal()), true);
      const { events } = await conn.streamed("list-sas", "list-sa", Object.assign(newSection(), { noblock: "yes" }), signal());
      assert.equal(events.length, 2);
      assert.deepEqual(pushed, ["ike-updown"]);
      const request = charon.received.find((p) => p.type === PACKET.CMD_REQUEST && p.name === "list-sas") as { message: ViciSection };
      assert.equal(request.message["noblock"], "yes");
      // registered once, even for two streamed calls
      await conn.streamed("list-sas", "list-sa", newSection(), signal());
      assert.equal(charon.received.filter((p) => p.type === PACKET.EVENT_REGISTER && p.name === "list-sa").length, 1);
    } finally {
      conn.close();
    }
  });

  test("CMD_UNKNOWN and EVENT_UNKNOWN are answers, not failures of the connection", async () => {
    charon.reply = (packet, client) => {
      if (packet.type === PACKET.CMD_REQUEST && packet.name === "nope") client.send({ type: PACKET.CMD_UNKNOWN });
      else if (packet.type === PACKET.EVENT_REGISTER && packet.name === "nope-event") client.send({ type: PACKET.EVENT_UNKNOWN });
      else defaultReply(packet, client);
    };
    const conn = await ViciConnection.connect(charon.path, signal());
    try {
      await assert.rejects(conn.request("nope", newSection(), signal()), ViciCommandError);
      assert.equal(await conn.register("nope-event", signal()), false);
      await assert.rejects(conn.streamed("nope", "nope-event", newSection(), signal()), /does not know the event/);
      assert.deepEqual({ ...(await conn.request("version", newSection(), signal())) }, {});
      assert.equal(conn.closed, false);
    } finally {
      conn.close();
    }
  });

  test("requests queue: each gets its own answer in order", async () => {
    charon.reply = (packet, client) => {
      if (packet.type === PACKET.CMD_REQUEST) client.send({ type: PACKET.CMD_RESPONSE, message: { echo: packet.name } });
      else defaultReply(packet, client);
    };
    const conn = await ViciConnection.connect(charon.path, signal());
    try {
      const answers = await Promise.all(["a", "b", "c", "d"].map((name) => conn.request(name, newSection(), signal())));
      assert.deepEqual(answers.map((a) => a["echo"]), ["a", "b", "c", "d"]);
    } finally {
      conn.close();
    }
  });

  test("no answer: the signal ends the wait and closes the connection", async () => {
    charon.reply = () => {};
    const conn = await ViciConnection.connect(charon.path, signal());
    const started = performance.now();
    await assert.rejects(conn.request("version", newSection(), AbortSignal.timeout(150)));
    assert.ok(performance.now() - started < 1500);
    assert.equal(conn.closed, true);
    await assert.rejects(conn.request("version", newSection(), signal()), /closed/);
  });

  const hostile: [string, (send: (b: Uint8Array) => void) => void, RegExp][] = [
    ["garbage element", (send) => send(Uint8Array.of(0, 0, 0, 3, 1, 9, 9)), /unknown element type|unexpected/],
    ["oversized length", (send) => send(Uint8Array.of(0x7f, 0, 0, 0)), /exceeds/],
    ["a response to nothing", (send) => send(Uint8Array.of(0, 0, 0, 1, 5, 0, 0, 0, 1, 1)), /does not answer/],
  ];
  for (const [what, attack, expected] of hostile) {
    test(`a hostile server (${what}) fails the request and closes the connection, nothing else`, async () => {
      charon.reply = (packet, client) => {
        if (packet.type === PACKET.CMD_REQUEST) attack((b) => client.sendRaw(b));
        else defaultReply(packet, client);
      };
      let closedWith: Error | undefined;
      const conn = await ViciConnection.connect(charon.path, signal(), { onClose: (e) => (closedWith = e) });
      await assert.rejects(conn.request("version", newSection(), signal()), expected);
      assert.equal(conn.closed, true);
      assert.match(String(closedWith), expected);
    });
  }

  test("a streamed answer beyond the event budget closes the connection", async () => {
    charon.reply = streamingReply({ "list-sas": { event: "list-sa", messages: () => Array.from({ length: 50 }, () => eventOf("list-sa-event-5.9.8.bin")) } });
    const conn = await ViciConnection.connect(charon.path, signal(), { maxStreamEvents: 10 });
    await assert.rejects(conn.streamed("list-sas", "list-sa", newSection(), signal()), /larger than 10 events/);
    assert.equal(conn.closed, true);
  });

  test("connecting to a missing socket fails with the path", async () => {
    await assert.rejects(ViciConnection.connect(`${charon.dir}/missing.vici`, signal()), /cannot connect to .*missing\.vici/);
  });
});

describe("VICI session", () => {
  test("backoffDelayMs doubles up to the cap with ±20 % jitter", () => {
    const table: [number, number, number][] = [
      [1, 0.5, 250],
      [2, 0.5, 500],
      [3, 0.5, 1000],
      [6, 0.5, 5000],
      [60, 0.5, 5000],
      [1, 0, 200],
      [1, 1, 300],
    ];
    for (const [failures, random, expected] of table) assert.equal(backoffDelayMs(failures, 250, 5000, random), expected, `${failures}/${random}`);
  });

  test("reconnects after charon goes away and comes back, registering its events again", async () => {
    const charon = new FakeCharon();
    await charon.listen();
    let connects = 0;
    const disconnects: string[] = [];
    const events: string[] = [];
    const session = new ViciSession({
      socketPath: charon.path,
      events: ["ike-updown", "child-updown"],
      onEvent: (name) => events.push(name),
      onConnect: () => (connects += 1),
      onDisconnect: (reason) => disconnects.push(reason),
      backoffInitialMs: 20,
      backoffMaxMs: 100,
    });
    try {
      session.start();
      await waitFor(() => connects === 1, { timeoutMs: 2000, what: "first connect" });
      assert.deepEqual([...charon.clients[0]!.registered].sort(), ["child-updown", "ike-updown"]);
      charon.clients[0]!.send({ type: PACKET.EVENT, name: "ike-updown", message: {} });
      await waitFor(() => events.length === 1, { timeoutMs: 2000, what: "event" });

      await charon.kill();
      await waitFor(() => disconnects.length === 1, { timeoutMs: 2000, what: "disconnect" });
      await assert.rejects(session.connection(signal(500)), /cannot connect/);
      await new Promise((r) => setTimeout(r, 150)); // a few failed attempts in the background
      await charon.listen();
      await waitFor(() => connects === 2, { timeoutMs: 2000, what: "reconnect" });
      assert.deepEqual([...charon.clients[0]!.registered].sort(), ["child-updown", "ike-updown"]);
      const conn = await session.connection(signal());
      assert.equal(conn.closed, false);
    } finally {
      session.stop();
      await charon.dispose();
    }
  });

  test("an event charon does not know is reported, the session still connects", async () => {
    const charon = new FakeCharon();
    charon.reply = (packet, client) => {
      if (packet.type === PACKET.EVENT_REGISTER && packet.name === "child-rekey") client.send({ type: PACKET.EVENT_UNKNOWN });
      else defaultReply(packet, client);
    };
    await charon.listen();
    const problems: string[] = [];
    const session = new ViciSession({ socketPath: charon.path, events: ["ike-updown", "child-rekey"], onEvent: () => {}, onProblem: (m) => problems.push(m) });
    try {
      const conn = await session.connection(signal());
      assert.equal(conn.closed, false);
      assert.deepEqual(problems, ["charon does not know the event child-rekey"]);
    } finally {
      session.stop();
      await charon.dispose();
    }
  });
});

