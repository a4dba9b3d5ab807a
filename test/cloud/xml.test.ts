// The tiny XML reader (src/cloud/xml.ts): what EC2 sends, and what a broken or hostile
// endpoint might send instead (an error, never a hang or an expansion).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { child, childText, decodeEntities, items, parseXml, XmlError } from "../../src/cloud/xml.ts";

describe("parseXml", () => {
  test("an EC2 answer: declaration, default namespace, nested sets, empty elements", () => {
    const root = parseXml(`<?xml version="1.0" encoding="UTF-8"?>
<DescribeRouteTablesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
   <requestId>6f570b0b-9c18-4b07-bdec-73740dcf861a</requestId>
   <routeTableSet>
      <item>
         <routeTableId>rtb-1122334455667788a</routeTableId>
         <routeSet>
            <item><destinationCidrBlock>10.0.0.0/22</destinationCidrBlock><gatewayId>local</gatewayId></item>
         </routeSet>
         <associationSet/>
         <tagSet />
      </item>
   </routeTableSet>
</DescribeRouteTablesResponse>`);
    assert.equal(root.name, "DescribeRouteTablesResponse");
    assert.equal(root.attributes.xmlns, "http://ec2.amazonaws.com/doc/2016-11-15/");
    const [table] = items(root, "routeTableSet");
    assert.equal(childText(table, "routeTableId"), "rtb-1122334455667788a");
    assert.equal(childText(items(table, "routeSet")[0], "gatewayId"), "local");
    assert.deepEqual(child(table, "associationSet")?.children, []);
    assert.equal(childText(table, "missing"), undefined);
  });

  test("entities, character references, CDATA, comments, prefixes, single-quoted attributes", () => {
    const root = parseXml(`<!-- hi --><ec2:R xmlns:ec2='urn:x' a='1 &amp; 2'><ec2:m>a &lt;b&gt; &#65;&#x42; &quot;q&apos; &unknown;</ec2:m><c><![CDATA[<not> &amp; parsed]]></c><?pi x?></ec2:R>`);
    assert.equal(root.name, "R");
    assert.equal(root.attributes.a, "1 & 2");
    assert.equal(childText(root, "m"), `a <b> AB "q' &unknown;`);
    assert.equal(childText(root, "c"), "<not> &amp; parsed");
  });

  test("a DOCTYPE with an internal subset is skipped, its entities never expanded", () => {
    const root = parseXml(`<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><r>&b;</r>`);
    assert.equal(root.text, "&b;");
  });

  for (const [name, text] of [
    ["empty", ""],
    ["only a declaration", `<?xml version="1.0"?>`],
    ["HTML error page", "<html><body><h1>502 Bad Gateway</h1></html>"],
    ["mismatched tags", "<a><b></a></b>"],
    ["unclosed root", "<a><b></b>"],
    ["unterminated comment", "<a><!-- </a>"],
    ["two roots", "<a/><b/>"],
    ["text outside", "junk<a/>"],
    ["plain text", "Service Unavailable"],
    ["too deep", "<a>".repeat(100) + "</a>".repeat(100)],
  ] as const) {
    test(`refuses ${name}`, () => {
      assert.throws(() => parseXml(text), XmlError);
    });
  }

  test("decodeEntities leaves bad references alone", () => {
    assert.equal(decodeEntities("&#0; &#x110000; &amp;amp;"), "&#0; &#x110000; &amp;");
  });
});
