/**
 * A tiny, tolerant XML reader for cloud API answers (docs/cloud-routes.md §AWS): elements,
 * attributes, text, entities and CDATA; declarations, comments, processing instructions and
 * DOCTYPE are skipped; namespace prefixes are dropped from names. No DTDs, no external
 * entities (nothing to expand), bounded depth and size, so a hostile or broken endpoint costs
 * an error, not memory. Enough for EC2's Query API, no dependency.
 */
export interface XmlElement {
  /** Local name, prefix dropped (`ec2:item` → `item`). */
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: XmlElement[];
  /** The element's own text, entities decoded, trimmed (children's text not included). */
  text: string;
}

export class XmlError extends Error {
  override name = "XmlError";
}

const maxDepth = 64;
const maxChars = 16 * 1024 * 1024;

const namedEntities: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (whole, body: string) => {
    if (body.startsWith("#")) {
      const code = body[1] === "x" || body[1] === "X" ? Number.parseInt(body.slice(2), 16) : Number.parseInt(body.slice(1), 10);
      return Number.isInteger(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return namedEntities[body] ?? whole;
  });
}

const localName = (qname: string): string => qname.slice(qname.indexOf(":") + 1);

/** The document's root element. Throws XmlError on text that is not XML. */
export function parseXml(text: string): XmlElement {
  if (text.length > maxChars) throw new XmlError(`document larger than ${maxChars} characters`);
  const stack: Array<{ element: XmlElement; qname: string; text: string[] }> = [];
  let root: XmlElement | undefined;
  let i = 0;
  const fail = (why: string): never => {
    throw new XmlError(`${why} at offset ${i}`);
  };
  const skipPast = (end: string): void => {
    const at = text.indexOf(end, i);
    if (at < 0) fail(`unterminated ${end === "-->" ? "comment" : "markup"}`);
    i = at + end.length;
  };
  while (i < text.length) {
    const lt = text.indexOf("<", i);
    const chunk = text.slice(i, lt < 0 ? text.length : lt);
    if (chunk.trim() !== "") {
      if (stack.length === 0) fail("text outside the root element");
      stack[stack.length - 1]!.text.push(decodeEntities(chunk));
    }
    if (lt < 0) break;
    i = lt;
    if (text.startsWith("<?", i)) skipPast("?>");
    else if (text.startsWith("<!--", i)) skipPast("-->");
    else if (text.startsWith("<![CDATA[", i)) {
      const end = text.indexOf("]]>", i);
      if (end < 0) fail("unterminated CDATA");
      if (stack.length === 0) fail("CDATA outside the root element");
      stack[stack.length - 1]!.text.push(text.slice(i + 9, end));
      i = end + 3;
    } else if (text.startsWith("<!", i)) {
      // DOCTYPE (maybe with an internal subset in brackets): skipped, never expanded.
      const bracket = text.indexOf("[", i);
      const close = text.indexOf(">", i);
      if (bracket >= 0 && close >= 0 && bracket < close) {
        i = bracket;
        skipPast("]");
      }
      skipPast(">");
    } else if (text.startsWith("</", i)) {
      const m = /^<\/([^\s>]+)\s*>/.exec(text.slice(i, i + 300));
      if (!m) fail("bad end tag");
      const open = stack.pop();
      if (!open || open.qname !== m![1]) fail(`end tag </${m![1]}> does not match <${open?.qname ?? "nothing"}>`);
      open!.element.text = open!.text.join("").trim();
      i += m![0].length;
    } else {
      const close = findTagEnd(text, i);
      if (close < 0) fail("unterminated start tag");
      const inner = text.slice(i + 1, close);
      const selfClosing = inner.endsWith("/");
      const body = selfClosing ? inner.slice(0, -1) : inner;
      const m = /^([^\s/>]+)\s*([\s\S]*)$/.exec(body);
      if (!m) fail("bad start tag");
      if (stack.length >= maxDepth) fail(`nesting deeper than ${maxDepth}`);
      if (root && stack.length === 0) fail("a second root element");
      const element: XmlElement = { name: localName(m![1]!), attributes: parseAttributes(m![2]!), children: [], text: "" };
      if (stack.length > 0) stack[stack.length - 1]!.element.children.push(element);
      else root = element;
      if (!selfClosing) stack.push({ element, qname: m![1]!, text: [] });
      i = close + 1;
    }
  }
  if (stack.length > 0) fail(`<${stack[stack.length - 1]!.qname}> is not closed`);
  if (!root) throw new XmlError("no root element");
  return root;
}

/** Index of the `>` ending a start tag that begins at `from`, quotes respected. */
function findTagEnd(text: string, from: number): number {
  let quote = "";
  for (let j = from + 1; j < text.length; j++) {
    const c = text[j]!;
    if (quote) {
      if (c === quote) quote = "";
    } else if (c === '"' || c === "'") quote = c;
    else if (c === ">") return j;
    else if (c === "<") return -1;
  }
  return -1;
}

function parseAttributes(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/([^\s=]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) out[localName(m[1]!)] = decodeEntities(m[2] ?? m[3] ?? "");
  return out;
}

/** First child of that name. */
export function child(element: XmlElement | undefined, name: string): XmlElement | undefined {
  return element?.children.find((c) => c.name === name);
}

/** All children of that name. */
export function childrenNamed(element: XmlElement | undefined, name: string): XmlElement[] {
  return element?.children.filter((c) => c.name === name) ?? [];
}

/** Text of the first child of that name; undefined when absent. */
export function childText(element: XmlElement | undefined, name: string): string | undefined {
  return child(element, name)?.text;
}

/** The `item`s of a `…Set` child, as EC2 lists things. */
export function items(element: XmlElement | undefined, setName: string): XmlElement[] {
  return childrenNamed(child(element, setName), "item");
}
