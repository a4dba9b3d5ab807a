/**
 * strongSwan VICI messages (docs/collectors.md §VICI protocol): a message is a flat run of
 * elements — SECTION_START(name) … SECTION_END, KEY_VALUE(name, value), LIST_START(name)
 * LIST_ITEM(value)… LIST_END — with u8-length names and u16-length values. Pure functions; the
 * decoder is strict (any malformed input is a ViciDecodeError, never another exception) and
 * bounded (input size is the caller's frame limit, nesting by `maxDepth`).
 */

export const ELEMENT = {
  SECTION_START: 1,
  SECTION_END: 2,
  KEY_VALUE: 3,
  LIST_START: 4,
  LIST_ITEM: 5,
  LIST_END: 6,
} as const;

export type ViciValue = string | ViciSection | readonly string[];
/** A section: keys in wire order. Decoded sections have no prototype (a key may be "__proto__"). */
export interface ViciSection {
  readonly [key: string]: ViciValue;
}

export class ViciDecodeError extends Error {
  override name = "ViciDecodeError";
}

export const DEFAULT_MAX_DEPTH = 64;

const utf8 = new TextDecoder("utf-8");
const utf8Encoder = new TextEncoder();

/** A fresh section without a prototype, so wire keys can never reach Object.prototype. */
export function newSection(): Record<string, ViciValue> {
  return Object.create(null) as Record<string, ViciValue>;
}

/** Decodes the elements in `bytes[start, end)` into one top-level section. */
export function decodeMessage(bytes: Uint8Array, start = 0, end = bytes.length, maxDepth = DEFAULT_MAX_DEPTH): ViciSection {
  if (start < 0 || end > bytes.length || start > end) throw new ViciDecodeError("message bounds outside the buffer");
  const root = newSection();
  const stack: Record<string, ViciValue>[] = [root];
  let list: string[] | undefined;
  let pos = start;

  const need = (count: number, what: string): void => {
    if (end - pos < count) throw new ViciDecodeError(`truncated ${what} at byte ${pos - start}`);
  };
  const readName = (): string => {
    need(1, "name length");
    const length = bytes[pos]!;
    pos += 1;
    need(length, "name");
    const name = utf8.decode(bytes.subarray(pos, pos + length));
    pos += length;
    return name;
  };
  const readValue = (): string => {
    need(2, "value length");
    const length = (bytes[pos]! << 8) | bytes[pos + 1]!;
    pos += 2;
    need(length, "value");
    const value = utf8.decode(bytes.subarray(pos, pos + length));
    pos += length;
    return value;
  };

  while (pos < end) {
    const type = bytes[pos]!;
    const at = pos - start;
    pos += 1;
    const top = stack[stack.length - 1]!;
    if (list !== undefined) {
      if (type === ELEMENT.LIST_ITEM) list.push(readValue());
      else if (type === ELEMENT.LIST_END) list = undefined;
      else throw new ViciDecodeError(`element type ${type} inside a list at byte ${at}`);
      continue;
    }
    switch (type) {
      case ELEMENT.SECTION_START: {
        if (stack.length > maxDepth) throw new ViciDecodeError(`sections nested deeper than ${maxDepth} at byte ${at}`);
        const section = newSection();
        top[readName()] = section;
        stack.push(section);
        break;
      }
      case ELEMENT.SECTION_END:
        if (stack.length === 1) throw new ViciDecodeError(`SECTION_END without a section at byte ${at}`);
        stack.pop();
        break;
      case ELEMENT.KEY_VALUE: {
        const name = readName();
        top[name] = readValue();
        break;
      }
      case ELEMENT.LIST_START: {
        const fresh: string[] = [];
        top[readName()] = fresh;
        list = fresh;
        break;
      }
      case ELEMENT.LIST_ITEM:
      case ELEMENT.LIST_END:
        throw new ViciDecodeError(`element type ${type} outside a list at byte ${at}`);
      default:
        throw new ViciDecodeError(`unknown element type ${type} at byte ${at}`);
    }
  }
  if (list !== undefined) throw new ViciDecodeError("truncated: list not ended");
  if (stack.length !== 1) throw new ViciDecodeError(`truncated: ${stack.length - 1} section(s) not ended`);
  return root;
}

/** Encodes a section's entries as elements (the request side). Throws on names/values too long. */
export function encodeMessage(message: ViciSection): Uint8Array {
  const parts: Uint8Array[] = [];
  const byte = (value: number) => parts.push(Uint8Array.of(value));
  const name = (text: string) => {
    const encoded = utf8Encoder.encode(text);
    if (encoded.length > 255) throw new RangeError(`VICI name longer than 255 bytes: ${text.slice(0, 40)}…`);
    parts.push(Uint8Array.of(encoded.length), encoded);
  };
  const value = (text: string) => {
    const encoded = utf8Encoder.encode(text);
    if (encoded.length > 0xffff) throw new RangeError("VICI value longer than 65535 bytes");
    parts.push(Uint8Array.of(encoded.length >> 8, encoded.length & 0xff), encoded);
  };
  const section = (entries: ViciSection, depth: number) => {
    if (depth > DEFAULT_MAX_DEPTH) throw new RangeError(`VICI sections nested deeper than ${DEFAULT_MAX_DEPTH}`);
    for (const key of Object.keys(entries)) {
      const entry = entries[key]!;
      if (typeof entry === "string") {
        byte(ELEMENT.KEY_VALUE);
        name(key);
        value(entry);
      } else if (Array.isArray(entry)) {
        byte(ELEMENT.LIST_START);
        name(key);
        for (const item of entry as readonly string[]) {
          byte(ELEMENT.LIST_ITEM);
          value(item);
        }
        byte(ELEMENT.LIST_END);
      } else {
        byte(ELEMENT.SECTION_START);
        name(key);
        section(entry as ViciSection, depth + 1);
        byte(ELEMENT.SECTION_END);
      }
    }
  };
  section(message, 1);
  return concatBytes(parts);
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const part of parts) total += part.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Typed reads of decoded values (wrong kinds read as absent). */
export function str(section: ViciSection | undefined, key: string): string | undefined {
  const value = section?.[key];
  return typeof value === "string" ? value : undefined;
}

export function sub(section: ViciSection | undefined, key: string): ViciSection | undefined {
  const value = section?.[key];
  return value !== undefined && typeof value !== "string" && !Array.isArray(value) ? (value as ViciSection) : undefined;
}

/** A decimal value as a number; absent, empty or not a non-negative integer → undefined. */
export function num(section: ViciSection | undefined, key: string): number | undefined {
  const value = str(section, key);
  if (value === undefined || !/^\d{1,20}$/.test(value)) return undefined;
  return Number(value);
}

/** The entries of a section that are themselves sections, in wire order. */
export function subsections(section: ViciSection | undefined): [string, ViciSection][] {
  if (!section) return [];
  const out: [string, ViciSection][] = [];
  for (const key of Object.keys(section)) {
    const value = sub(section, key);
    if (value) out.push([key, value]);
  }
  return out;
}
