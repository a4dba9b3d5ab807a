import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { decodeMessage, encodeMessage, ELEMENT, newSection, num, str, sub, ViciDecodeError, type ViciSection } from "../../src/vici/message.ts";
import { decodePacket, PACKET } from "../../src/vici/packet.ts";
import { fixture, fixtureText } from "./support.ts";

/** The key = value lines of swanctl's pretty print (list-sas-pretty), as path → value. */
function prettyPairs(text: string): Map<string, string> {
  const pairs = new Map<string, string>();
  const path: string[] = [];
  let list: string | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.endsWith("reply {")) continue;
    if (list !== undefined) {
      if (line === "]") list = undefined;
      else pairs.set(`${[...path, list].join("/")}[]`, line);
    } else if (line.endsWith("= [")) list = line.slice(0, -4);
    else if (line.endsWith(" {")) path.push(line.slice(0, -2));
    else if (line === "}") path.pop();
    else {
      const [key, value] = line.split(" = ");
      pairs.set([...path, key].join("/"), value!);
    }
  }
  return pairs;
}

function flatten(section: ViciSection, prefix: string[] = [], out = new Map<string, string>()): Map<string, string> {
  for (const key of Object.keys(section)) {
    const value = section[key]!;
    if (typeof value === "string") out.set([...prefix, key].join("/"), value);
    else if (Array.isArray(value)) for (const item of value as string[]) out.set(`${[...prefix, key].join("/")}[]`, item);
    else flatten(value as ViciSection, [...prefix, key], out);
  }
  return out;
}

const bytes = (...values: (number | string)[]) =>
  Uint8Array.from(values.flatMap((v) => (typeof v === "number" ? [v] : [...new TextEncoder().encode(v)])));

describe("VICI message elements", () => {
  test("the captured list-sa event decodes to what swanctl printed from it", () => {
    const packet = decodePacket(fixture("list-sa-event-5.9.8.bin"));
    assert.equal(packet.type, PACKET.EVENT);
    assert.ok("name" in packet && packet.name === "list-sa");
    const expected = prettyPairs(fixtureText("list-sa-event-5.9.8.txt").split("list-sas reply")[0]!.replace(/^list-sa event \{/, ""));
    const actual = flatten((packet as { message: ViciSection }).message);
    assert.deepEqual(actual, expected);
    const child = sub(sub(sub((packet as { message: ViciSection }).message, "gw-a"), "child-sas"), "net-2");
    assert.equal(str(child, "state"), "INSTALLED");
    assert.equal(num(child, "bytes-in"), 252);
    assert.deepEqual(child?.["local-ts"], ["10.10.1.0/24"]);
  });

  test("the version response decodes", () => {
    const packet = decodePacket(fixture("version-response.bin"));
    assert.equal(packet.type, PACKET.CMD_RESPONSE);
    const m = (packet as { message: ViciSection }).message;
    assert.equal(str(m, "daemon"), "charon");
    assert.equal(str(m, "version"), "5.9.8");
  });

  test("encode → decode is the identity, keys in order", () => {
    const message = Object.assign(newSection(), {
      a: "1",
      list: ["x", "", "ü"],
      nested: Object.assign(newSection(), { deeper: Object.assign(newSection(), { k: "v" }), empty: [] as string[] }),
      z: "",
    });
    const decoded = decodeMessage(encodeMessage(message));
    assert.deepEqual(JSON.parse(JSON.stringify(decoded)), JSON.parse(JSON.stringify(message)));
    assert.deepEqual(Object.keys(decoded), ["a", "list", "nested", "z"]);
  });

  test("re-encoding a captured event gives the captured bytes", () => {
    for (const name of ["list-sa-event-5.9.8.bin", "list-conn-event.bin", "child-updown-up.bin", "ike-rekey.bin"]) {
      const payload = fixture(name);
      const packet = decodePacket(payload) as { name: string; message: ViciSection };
      const body = encodeMessage(packet.message);
      assert.deepEqual(body, payload.subarray(2 + packet.name.length), name);
    }
  });

  test("a key named __proto__ stays a plain key", () => {
    const decoded = decodeMessage(bytes(ELEMENT.KEY_VALUE, 9, "__proto__", 0, 1, "x", ELEMENT.SECTION_START, 11, "constructor", ELEMENT.SECTION_END));
    assert.equal(Object.getPrototypeOf(decoded), null);
    assert.equal(decoded["__proto__"], "x");
    assert.equal(({} as Record<string, unknown>).x, undefined);
    assert.equal(typeof decoded["constructor"], "object");
  });

  const bad: [string, Uint8Array, RegExp][] = [
    ["unknown element type", bytes(9), /unknown element type 9/],
    ["truncated name", bytes(ELEMENT.KEY_VALUE, 5, "ab"), /truncated name/],
    ["truncated value length", bytes(ELEMENT.KEY_VALUE, 1, "a", 0), /truncated value length/],
    ["truncated value", bytes(ELEMENT.KEY_VALUE, 1, "a", 0, 9, "abc"), /truncated value/],
    ["section not ended", bytes(ELEMENT.SECTION_START, 1, "s"), /section\(s\) not ended/],
    ["section end at top", bytes(ELEMENT.SECTION_END), /SECTION_END without a section/],
    ["list not ended", bytes(ELEMENT.LIST_START, 1, "l", ELEMENT.LIST_ITEM, 0, 1, "x"), /list not ended/],
    ["item outside a list", bytes(ELEMENT.LIST_ITEM, 0, 0), /outside a list/],
    ["list end outside a list", bytes(ELEMENT.LIST_END), /outside a list/],
    ["section inside a list", bytes(ELEMENT.LIST_START, 1, "l", ELEMENT.SECTION_START, 1, "s"), /inside a list/],
    ["nesting too deep", bytes(...Array.from({ length: 65 }, () => [ELEMENT.SECTION_START, 1, "s"]).flat()), /nested deeper/],
  ];
  for (const [what, input, message] of bad) {
    test(`rejects: ${what}`, () => {
      assert.throws(() => decodeMessage(input), (error: unknown) => error instanceof ViciDecodeError && message.test(error.message));
    });
  }

  test("num reads only plain non-negative integers", () => {
    const m = decodeMessage(encodeMessage(Object.assign(newSection(), { a: "12", b: "-1", c: "1e3", d: "", e: "99999999999999999999999" })));
    assert.deepEqual(["a", "b", "c", "d", "e", "missing"].map((k) => num(m, k)), [12, undefined, undefined, undefined, undefined, undefined]);
  });

  test("encoding refuses names over 255 bytes and values over 65535 bytes", () => {
    assert.throws(() => encodeMessage(Object.assign(newSection(), { ["k".repeat(256)]: "v" })), RangeError);
    assert.throws(() => encodeMessage(Object.assign(newSection(), { k: "v".repeat(65536) })), RangeError);
  });
});
