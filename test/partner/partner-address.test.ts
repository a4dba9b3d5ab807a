import { test } from "node:test";
import assert from "node:assert/strict";
import { literalPartnerAddress, partnerAddresses } from "../../src/partner/partner-address.ts";

test("literalPartnerAddress: partner_url's host when it is an IP literal, normalized", () => {
  const cases: [string, string | undefined][] = [
    ["http://10.0.0.3:8080/", "10.0.0.3"],
    ["http://[fd00::3]:8080/", "fd00::3"],
    ["http://[FD00:0:0::3]/", "fd00::3"],
    ["http://[::ffff:10.0.0.3]:8080/", "10.0.0.3"],
    ["https://partner.example:8080/", undefined],
    ["not a url", undefined],
  ];
  for (const [url, expected] of cases) assert.equal(literalPartnerAddress(url), expected, url);
});

test("partnerAddresses: a literal at once; a name once resolved; a failed lookup reserves nothing", async () => {
  const literal = partnerAddresses("http://10.0.0.3:8080/");
  assert.equal(literal.isPartner("10.0.0.3"), true);
  assert.equal(literal.isPartner("10.0.0.4"), false);

  const named = partnerAddresses("http://partner.example:8080/", async (host) => (host === "partner.example" ? ["10.0.0.5", "::FFFF:10.0.0.6"] : []));
  await named.ready;
  assert.deepEqual(["10.0.0.5", "10.0.0.6", "10.0.0.3"].map(named.isPartner), [true, true, false]);

  const failed = partnerAddresses("http://nowhere.example/", () => Promise.reject(new Error("ENOTFOUND")));
  await failed.ready;
  assert.equal(failed.isPartner("10.0.0.5"), false);
});
