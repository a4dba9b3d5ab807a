/**
 * Go-style durations (`time.ParseDuration`): `1s`, `250ms`, `1m30s`, `1.5s`, `100us`, `-2h`.
 * Result in milliseconds, possibly fractional.
 *
 * Differences from Go, on purpose: a bare number other than `0` is an error, because Go's YAML
 * reads `probe_interval: 5` as 5 *nanoseconds* — a trap. `"0"` stays valid (Go accepts it and
 * it means "use the default" wherever Go treats zero so).
 */

const unitMs: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  "\u00b5s": 1e-3, // µ MICRO SIGN
  "\u03bcs": 1e-3, // μ GREEK SMALL LETTER MU
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Go's limit: an int64 of nanoseconds (~292 years). */
const maxMs = 9_223_372_036_854.775;

const component = /^(\d*)(?:\.(\d*))?([^\d.]+)/;

/** Parses a Go duration; throws an Error whose message says what is wrong (no value echo). */
export function parseDurationMs(text: string): number {
  const input = text.trim();
  if (input === "") throw new Error("empty duration (expected e.g. 1s, 250ms, 1m30s)");
  let rest = input;
  let sign = 1;
  if (rest[0] === "-" || rest[0] === "+") {
    sign = rest[0] === "-" ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === "0") return 0;
  if (rest === "") throw new Error("invalid duration (expected e.g. 1s, 250ms, 1m30s)");
  if (/^\d+(\.\d*)?$/.test(rest)) throw new Error("a bare number is not a duration: use a unit, e.g. 1s");
  let totalMs = 0;
  while (rest !== "") {
    const match = component.exec(rest);
    if (!match) throw new Error("invalid duration (expected e.g. 1s, 250ms, 1m30s)");
    const [whole, intPart = "", fracPart, unit = ""] = match;
    if (intPart === "" && (fracPart === undefined || fracPart === "")) {
      throw new Error("invalid duration: missing number before unit");
    }
    const factor = unitMs[unit];
    if (factor === undefined) {
      throw new Error(`unknown unit "${unit}" (valid: ns, us, µs, ms, s, m, h)`);
    }
    totalMs += Number(`${intPart || "0"}.${fracPart ?? ""}0`) * factor;
    rest = rest.slice(whole.length);
  }
  if (totalMs > maxMs) throw new Error("duration out of range (max ~292 years)");
  // Round away float noise below a nanosecond (e.g. 0.1 + 0.2).
  return sign * (Math.round(totalMs * 1e6) / 1e6);
}

/** Formats milliseconds as a Go-style duration, e.g. 90000 → "1m30s", 0.5 → "500us". */
export function formatDurationMs(ms: number): string {
  if (ms === 0) return "0s";
  const sign = ms < 0 ? "-" : "";
  let ns = Math.round(Math.abs(ms) * 1e6);
  if (ns < 1e6) {
    return ns % 1000 === 0 ? `${sign}${ns / 1000}us` : `${sign}${ns}ns`;
  }
  const parts: string[] = [];
  const hours = Math.floor(ns / 3.6e12);
  ns -= hours * 3.6e12;
  const minutes = Math.floor(ns / 6e10);
  ns -= minutes * 6e10;
  if (hours > 0) parts.push(`${hours}h`);
  if (minutes > 0) parts.push(`${minutes}m`);
  if (ns > 0) {
    if (hours === 0 && minutes === 0 && ns < 1e9) {
      parts.push(`${trimNumber(ns / 1e6)}ms`);
    } else {
      parts.push(`${trimNumber(ns / 1e9)}s`);
    }
  }
  return sign + parts.join("");
}

function trimNumber(value: number): string {
  return String(Math.round(value * 1e9) / 1e9);
}
