import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { signMessage, tsigRecordOf, tsigSecretFromText, verifyMessage, type TsigKey } from "../../src/dns/tsig.ts";
import { decodeMessage, DnsWireError } from "../../src/dns/wire.ts";

/** A request and named's answer, captured from nsupdate ↔ named on loopback (see the file's "about"). */
const fixture = JSON.parse(readFileSync(new URL("fixtures/bind-update.json", import.meta.url), "utf8")) as {
  key: { name: string; secret: string };
  request: string;
  response: string;
  nsupdateOnly: string;
  badsigResponse: string;
};
const key: TsigKey = { name: fixture.key.name, algorithm: "hmac-sha256", secret: Buffer.from(fixture.key.secret, "base64") };
const request = Buffer.from(fixture.request, "hex");
const response = Buffer.from(fixture.response, "hex");
const signedAt = (raw: Buffer) => tsigRecordOf(raw, decodeMessage(raw))!.timeSignedS;

/** The message as it was before signing: up to the TSIG record, ARCOUNT one less. */
function unsignedPart(raw: Buffer): Buffer {
  const offset = decodeMessage(raw).tsigOffset!;
  const part = Buffer.from(raw.subarray(0, offset));
  part.writeUInt16BE(part.readUInt16BE(10) - 1, 10);
  return part;
}

test("tsig: signing nsupdate's message at nsupdate's time gives nsupdate's bytes exactly", () => {
  for (const captured of [request, Buffer.from(fixture.nsupdateOnly, "hex")]) {
    const signed = signMessage(unsignedPart(captured), key, signedAt(captured));
    assert.equal(signed.wire.toString("hex"), captured.toString("hex"));
  }
});

test("tsig: nsupdate's request verifies; named's answer verifies with the request's MAC, and only with it", () => {
  const now = signedAt(request);
  const verdict = verifyMessage(request, decodeMessage(request), key, now);
  assert.ok(verdict.ok, JSON.stringify(verdict));
  const requestMac = tsigRecordOf(request, decodeMessage(request))!.mac;
  assert.deepEqual(verifyMessage(response, decodeMessage(response), key, now, requestMac).ok, true);
  // Replayed as the answer to another request (another MAC), or read as a request: refused.
  const other = Buffer.from(requestMac);
  other[0] = other[0]! ^ 1;
  assert.deepEqual(verifyMessage(response, decodeMessage(response), key, now, other), { ok: false, error: "the MAC does not verify (another secret?)" });
  assert.equal(verifyMessage(response, decodeMessage(response), key, now).ok, false);
});

test("tsig: a changed byte, another secret, another key name, a clock outside the fudge: refused", () => {
  const now = signedAt(request);
  const tampered = Buffer.from(request);
  tampered[tampered.length - 60] = tampered[tampered.length - 60]! ^ 0x01; // inside the update section's address
  const check = (raw: Buffer, k: TsigKey, at: number) => verifyMessage(raw, decodeMessage(raw), k, at);
  assert.equal(check(tampered, key, now).ok, false);
  assert.match((check(request, { ...key, secret: Buffer.from("another secret") }, now) as { error: string }).error, /does not verify/);
  assert.match((check(request, { ...key, name: "other-key" }, now) as { error: string }).error, /another key/);
  assert.match((check(request, { ...key, algorithm: "hmac-sha512" }, now) as { error: string }).error, /another algorithm/);
  assert.match((check(request, key, now + 301) as { error: string }).error, /fudge 300/);
  assert.equal(check(request, key, now - 300).ok, true);
});

test("tsig: an unsigned answer and a TSIG error (BADSIG, empty MAC) are refused with the reason", () => {
  const unsigned = unsignedPart(response);
  assert.match((verifyMessage(unsigned, decodeMessage(unsigned), key, 0) as { error: string }).error, /not signed \(NOERROR\)/);
  // named's answer to a wrong key: NOTAUTH, TSIG error BADSIG, MAC size 0.
  const badsig = Buffer.from(fixture.badsigResponse, "hex");
  assert.deepEqual(verifyMessage(badsig, decodeMessage(badsig), key, signedAt(badsig)), { ok: false, error: "NOTAUTH (BADSIG)" });
});

test("tsig: a malformed TSIG record is an error, never a crash", () => {
  const raw = Buffer.from(request);
  const decoded = decodeMessage(raw);
  const rdataStart = decoded.additionals[0]!.dataOffset!;
  raw.writeUInt16BE(0xffff, rdataStart + 13 + 6 + 2); // MAC size (after "hmac-sha256.", time, fudge) past the record
  assert.match((verifyMessage(raw, decodeMessage(raw), key, 0) as { error: string }).error, /malformed TSIG/);
  assert.throws(() => tsigRecordOf(raw, decodeMessage(raw)), DnsWireError);
});

test("tsig: secrets from plain base64, a BIND key file and a Knot key block", () => {
  const secret = fixture.key.secret;
  assert.deepEqual(tsigSecretFromText(`${secret}\n`), key.secret);
  assert.deepEqual(tsigSecretFromText(`key "ha-key" {\n\talgorithm hmac-sha256;\n\tsecret "${secret}";\n};\n`), key.secret);
  assert.deepEqual(tsigSecretFromText(`key:\n  - id: ha-key\n    algorithm: hmac-sha256\n    secret: ${secret}\n`), key.secret);
  assert.equal(tsigSecretFromText("not base64 at all!"), undefined);
  assert.equal(tsigSecretFromText(""), undefined);
});
