/**
 * Control characters out of anything we print (docs/hardening.md, "Terminal and log output").
 * Strings from the network (a partner's status body, error snippets) and from the config
 * (bridge and tunnel names) reach terminals and log files; raw, they could retitle or clear a
 * terminal (ESC ] 0; …, ESC [ 2 J), forge log lines (CR, LF) or reverse what a reader sees
 * (bidi overrides). Escaped, they are visible and inert.
 *
 * Escaped: C0 (U+0000–U+001F, ESC, CR, LF, TAB among them), DEL, C1 (U+0080–U+009F, e.g. the
 * 8-bit CSI U+009B), the bidi controls (U+202A–U+202E, U+2066–U+2069 and the marks U+200E,
 * U+200F, U+061C) and the line and paragraph separators U+2028, U+2029.
 */
const control = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;
/** The same minus C0, which JSON.stringify escapes itself (and which is structure in indented JSON). */
const controlLeftByJson = /[\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

const short: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

const hex = (c: string, digits: number) => c.charCodeAt(0).toString(16).padStart(digits, "0");

/** Text for a terminal or a pretty log line: `\n`, `\r`, `\t`, `\xHH` (up to U+00FF), `\uHHHH`. */
export function escapeControl(text: string): string {
  return text.replace(control, (c) => short[c] ?? (c.charCodeAt(0) < 0x100 ? `\\x${hex(c, 2)}` : `\\u${hex(c, 4)}`));
}

/** JSON text (from JSON.stringify) with the controls it leaves raw as `\uHHHH`: still valid JSON, same value. */
export function escapeJsonControl(json: string): string {
  return json.replace(controlLeftByJson, (c) => `\\u${hex(c, 4)}`);
}
