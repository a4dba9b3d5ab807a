/**
 * Generated parts of a Markdown file: text between `<!-- generated:NAME -->` and the next
 * `<!-- /generated -->`. Everything outside the markers is written by hand and left alone.
 */

const open = (name: string) => `<!-- generated:${name} -->`;
const CLOSE = "<!-- /generated -->";

function locate(text: string, name: string): { start: number; end: number } | undefined {
  const at = text.indexOf(open(name));
  if (at < 0) return undefined;
  const start = at + open(name).length;
  const end = text.indexOf(CLOSE, start);
  return end < 0 ? undefined : { start, end };
}

/** The text between NAME's markers, or undefined when the markers are missing. */
export function generatedPart(text: string, name: string): string | undefined {
  const where = locate(text, name);
  return where && text.slice(where.start, where.end);
}

/** `text` with NAME's part replaced by `body` (surrounded by blank lines); throws without markers. */
export function replaceGeneratedPart(text: string, name: string, body: string): string {
  const where = locate(text, name);
  if (!where) throw new Error(`missing markers ${open(name)} … ${CLOSE}`);
  return `${text.slice(0, where.start)}\n\n${body.trim()}\n\n${text.slice(where.end)}`;
}

/** Whether NAME's part holds `body` (ignoring the blank lines around it). */
export function isGeneratedPartFresh(text: string, name: string, body: string): boolean {
  return generatedPart(text, name)?.trim() === body.trim();
}
