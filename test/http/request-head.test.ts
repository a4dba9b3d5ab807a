import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_HEAD_LIMITS, parseRequestHead, type HeadParse } from "../../src/http/request-head.ts";

const parse = (text: string | Buffer): HeadParse => parseRequestHead(typeof text === "string" ? Buffer.from(text, "latin1") : text);

function request(text: string) {
  const parsed = parse(text);
  assert.equal(parsed.kind, "request", JSON.stringify(parsed));
  return parsed as Extract<HeadParse, { kind: "request" }>;
}

describe("request head parser", () => {
  test("a plain GET: method, target, path without query, lower-cased headers, keep-alive, what it consumed", () => {
    const text = "GET /status?verbose=1 HTTP/1.1\r\nHost: 10.0.0.1:8080\r\nAccept: application/json\r\nX-Vpnham-Auth: abc\r\n\r\n";
    const { head, consumed } = request(`${text}GET /next`);
    assert.equal(consumed, text.length);
    assert.equal(Object.getPrototypeOf(head.headers), null);
    assert.deepEqual({ ...head, headers: { ...head.headers } }, {
      method: "GET",
      target: "/status?verbose=1",
      path: "/status",
      minorVersion: 1,
      headers: { host: "10.0.0.1:8080", accept: "application/json", "x-vpnham-auth": "abc" },
      keepAlive: true,
      body: { kind: "none" },
    });
  });

  test("bare LF line ends, leading blank lines, optional whitespace around values, repeated fields joined", () => {
    const { head, consumed } = request("\r\n\nGET / HTTP/1.1\nHost: x\nX-A:  1 \t\nx-a: 2\n\n");
    assert.equal(consumed, "\r\n\nGET / HTTP/1.1\nHost: x\nX-A:  1 \t\nx-a: 2\n\n".length);
    assert.equal(head.headers["x-a"], "1, 2");
  });

  test("header names that are Object properties are plain headers", () => {
    const { head } = request("GET / HTTP/1.1\r\nHost: x\r\nConstructor: a\r\n__proto__: b\r\ntoString: c\r\n\r\n");
    assert.equal(head.headers.constructor, "a");
    assert.equal(head.headers.__proto__, "b");
    assert.equal(head.headers.tostring, "c");
    assert.equal(head.headers.hasownproperty, undefined);
  });

  test("a value padded with thousands of spaces inside and around is trimmed only at its ends", () => {
    const inner = " ".repeat(15_000);
    const { head } = request(`GET / HTTP/1.1\r\nHost: x\r\nX:  \ta${inner}a \t\r\n\r\n`);
    assert.equal(head.headers.x, `a${inner}a`);
  });

  test("path of absolute-form and odd targets", () => {
    assert.equal(request("GET http://h:1/status?q HTTP/1.1\r\nHost: h:1\r\n\r\n").head.path, "/status");
    assert.equal(request("GET http://h:1 HTTP/1.1\r\nHost: h:1\r\n\r\n").head.path, "/");
    assert.equal(request("GET /?x#y HTTP/1.1\r\nHost: h\r\n\r\n").head.path, "/");
    assert.equal(request("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n").head.path, "*");
  });

  test("keep-alive: HTTP/1.1 unless Connection: close; HTTP/1.0 only with Connection: keep-alive", () => {
    assert.equal(request("GET / HTTP/1.1\r\nHost: x\r\nConnection: Close\r\n\r\n").head.keepAlive, false);
    assert.equal(request("GET / HTTP/1.1\r\nHost: x\r\nConnection: upgrade, close\r\n\r\n").head.keepAlive, false);
    assert.equal(request("GET / HTTP/1.0\r\n\r\n").head.keepAlive, false);
    assert.equal(request("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").head.keepAlive, true);
  });

  test("Host: required once in HTTP/1.1 (RFC 9112 §3.2), optional in HTTP/1.0", () => {
    assert.deepEqual(parse("GET / HTTP/1.1\r\n\r\n"), { kind: "error", status: 400, reason: "missing Host header" });
    assert.deepEqual(parse("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), { kind: "error", status: 400, reason: "more than one Host" });
    assert.equal(request("GET / HTTP/1.0\r\n\r\n").head.minorVersion, 0);
  });

  test("body framing: none, a length, unbounded for Transfer-Encoding; smuggling shapes refused", () => {
    assert.deepEqual(request("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").head.body, { kind: "none" });
    assert.deepEqual(request("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n\r\n").head.body, { kind: "length", bytes: 12 });
    assert.deepEqual(request("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n").head.body, { kind: "length", bytes: 5 });
    const chunked = request("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n").head;
    assert.deepEqual(chunked.body, { kind: "unbounded" });
    assert.equal(chunked.keepAlive, false, "an unbounded body ends the connection");
    for (const [text, reason] of [
      ["POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n", "both Transfer-Encoding and Content-Length"],
      ["POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\n", "conflicting Content-Length values"],
      ["POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", "malformed Content-Length"],
      ["POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x10\r\n\r\n", "malformed Content-Length"],
      ["POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 9999999999999999\r\n\r\n", "malformed Content-Length"],
      ["POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", "Transfer-Encoding in an HTTP/1.0 request"],
    ] as const) {
      assert.deepEqual(parse(text), { kind: "error", status: 400, reason }, text);
    }
  });

  test("malformed heads: each refused with the status a client should see", () => {
    const cases: [string, number][] = [
      ["GARBAGE\r\n\r\n", 400],
      ["GET\r\n\r\n", 400],
      ["GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400],
      ["GET / HTTP/1.1 extra\r\nHost: x\r\n\r\n", 400],
      ["G(T / HTTP/1.1\r\nHost: x\r\n\r\n", 400],
      ["GET status HTTP/1.1\r\nHost: x\r\n\r\n", 400],
      ["GET /a\x7fb HTTP/1.1\r\nHost: x\r\n\r\n", 400],
      ["GET /é HTTP/1.1\r\nHost: x\r\n\r\n", 400],
      ["GET / HTTP/1.x\r\nHost: x\r\n\r\n", 400],
      ["GET / http/1.1\r\nHost: x\r\n\r\n", 400],
      ["GET / HTTP/9.9\r\nHost: x\r\n\r\n", 505],
      ["GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505],
      ["GET / HTTP/1.2\r\nHost: x\r\n\r\n", 505],
      ["GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", 400],
      ["GET / HTTP/1.1\r\nHost: x\r\n: no name\r\n\r\n", 400],
      ["GET / HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n", 400],
      ["GET / HTTP/1.1\r\nHost: x\r\nName : v\r\n\r\n", 400],
      ["GET / HTTP/1.1\r\nHost: x\r\nX: a\0b\r\n\r\n", 400],
      ["GET / HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n", 400],
      ["GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n folded\r\n\r\n", 400],
      ["GET / HTTP/1.1\r\nHost: x y\r\n\r\n", 400],
      ["\x16\x03\x01 tls hello?\r\n\r\n", 400],
      ["\rGET / HTTP/1.1\r\nHost: x\r\n\r\n", 400], // a lone CR is not a blank line
    ];
    for (const [text, status] of cases) {
      const parsed = parse(text);
      assert.equal(parsed.kind, "error", JSON.stringify(text));
      assert.equal((parsed as { status: number }).status, status, JSON.stringify(text));
    }
  });

  test("every strict prefix of a valid head is incomplete; the whole is a request", () => {
    const text = "GET /status HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nConnection: keep-alive\r\n\r\n";
    for (let n = 0; n < text.length; n++) assert.equal(parse(text.slice(0, n)).kind, "incomplete", JSON.stringify(text.slice(0, n)));
    assert.equal(parse(text).kind, "request");
  });

  test("a dripped head: passing checkedBytes back gives the same verdicts, and checked lines are not parsed again", () => {
    const good = Buffer.from("GET /status HTTP/1.1\r\nHost: h\r\nX-A: 1\r\nX-B: 2\r\n\r\n", "latin1");
    let checked = 0;
    for (let n = 1; n < good.length; n++) {
      const parsed = parseRequestHead(good.subarray(0, n), DEFAULT_HEAD_LIMITS, checked);
      assert.equal(parsed.kind, "incomplete", String(n));
      const next = (parsed as { checkedBytes: number }).checkedBytes;
      assert.ok(next >= checked && next <= n, `checkedBytes ${next} after ${checked}, of ${n}`);
      checked = next;
    }
    assert.deepEqual(parseRequestHead(good, DEFAULT_HEAD_LIMITS, checked), parse(good));
    // A bad line after the checked part is still found...
    const bad = Buffer.from("GET / HTTP/1.1\r\nHost: h\r\nno colon\r\n", "latin1");
    const upToHost = "GET / HTTP/1.1\r\nHost: h\r\n".length;
    assert.equal(parseRequestHead(bad, DEFAULT_HEAD_LIMITS, upToHost).kind, "error");
    // ...and lines before checkedBytes are taken as checked, not re-read.
    assert.equal(parseRequestHead(bad, DEFAULT_HEAD_LIMITS, bad.length).kind, "incomplete");
  });

  test("garbage is refused before the head ends: binary noise and bad lines need no blank line", () => {
    assert.equal(parse(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00])).kind, "error");
    assert.equal(parse("GET / HTTP/1.1\r\nHost: x\r\nno colon here\r\nX-More: ").kind, "error");
    assert.equal(parse("GET / HTTPS").kind, "error");
    assert.equal(parse("GET / HTTP/1.1\r").kind, "incomplete");
  });

  test("limits: long request line → 414, large head or many fields → 431, whether complete or not", () => {
    const { maxRequestLineBytes, maxHeadBytes, maxHeaderCount } = DEFAULT_HEAD_LIMITS;
    const longPath = `/${"p".repeat(maxRequestLineBytes)}`;
    assert.equal((parse(`GET ${longPath}`) as { status: number }).status, 414);
    assert.equal((parse(`GET ${longPath} HTTP/1.1\r\nHost: x\r\n\r\n`) as { status: number }).status, 414);
    const big = `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(maxHeadBytes)}`;
    assert.equal((parse(big) as { status: number }).status, 431);
    assert.equal((parse(`${big}\r\n\r\n`) as { status: number }).status, 431);
    const many = `GET / HTTP/1.1\r\nHost: x\r\n${Array.from({ length: maxHeaderCount + 1 }, (_, i) => `X-${i}: v\r\n`).join("")}`;
    assert.equal((parse(many) as { status: number }).status, 431);
    assert.equal((parse(`${many}\r\n`) as { status: number }).status, 431);
    assert.equal((parse("\r\n".repeat(maxHeadBytes)) as { status: number }).status, 431, "endless blank lines are bounded too");
  });

  test("random bytes never throw, and every verdict is one of the three kinds with a 4xx/5xx for errors", () => {
    let seed = 20261121;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const alphabet = Buffer.from("GET /status HTTP/1.1\r\nHost: x:\r\n\t \0\x7f\xff:,Content-Length: 12Transfer-Encoding", "latin1");
    for (let i = 0; i < 20_000; i++) {
      const length = Math.floor(random() * 200);
      const bytes = Buffer.alloc(length);
      for (let j = 0; j < length; j++) bytes[j] = random() < 0.7 ? alphabet[Math.floor(random() * alphabet.length)]! : Math.floor(random() * 256);
      const parsed = parseRequestHead(bytes);
      if (parsed.kind === "error") assert.ok(parsed.status >= 400 && parsed.status < 600, String(parsed.status));
      else if (parsed.kind === "request") assert.ok(parsed.consumed <= bytes.length);
    }
  });
});
