import assert from "node:assert/strict";
import { exchange } from "../support/raw-http.ts";
import { waitFor as waitForCondition } from "../../src/util/wait.ts";

/** Positional form of src/util/wait.ts's waitFor, as these tests call it. */
export const waitFor = (pred: () => boolean | Promise<boolean>, timeoutMs: number, what = "condition"): Promise<void> =>
  waitForCondition(pred, { timeoutMs, what, intervalMs: 5 });

/**
 * Sends raw bytes to 127.0.0.1:port and returns whatever comes back until the server
 * closes the connection (or `timeoutMs`, then what arrived so far).
 */
export async function rawRequest(port: number, request: string, timeoutMs = 3000): Promise<string> {
  return (await exchange({ host: "127.0.0.1", port }, request, timeoutMs)).text;
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  help?: string;
  type?: string;
  samples: Sample[];
}

const metricName = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const labelName = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * A strict-enough reader of the Prometheus text format (0.0.4), collecting problems the
 * way `promtool check metrics` would: every sample has HELP and TYPE, TYPE comes first,
 * no duplicate series, valid names and values, histograms with ascending `le`, cumulative
 * bucket counts, a +Inf bucket equal to _count, and counters named *_total.
 */
export function parsePromText(text: string): { families: Map<string, Family>; problems: string[] } {
  const families = new Map<string, Family>();
  const problems: string[] = [];
  const seenSeries = new Set<string>();
  const family = (name: string): Family => {
    let f = families.get(name);
    if (!f) families.set(name, (f = { name, samples: [] }));
    return f;
  };

  for (const [index, line] of text.split("\n").entries()) {
    const at = `line ${index + 1}`;
    if (line.trim() === "") continue;
    if (line.startsWith("#")) {
      const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
      if (!m) continue; // a plain comment
      const [, kind, name = "", rest = ""] = m;
      if (!metricName.test(name)) problems.push(`${at}: bad metric name ${name}`);
      const f = family(name);
      if (kind === "HELP") {
        if (f.help !== undefined) problems.push(`${at}: second HELP for ${name}`);
        if (rest.trim() === "") problems.push(`${at}: empty HELP for ${name}`);
        f.help = rest;
      } else {
        if (f.type !== undefined) problems.push(`${at}: second TYPE for ${name}`);
        if (f.samples.length > 0) problems.push(`${at}: TYPE after samples for ${name}`);
        if (!["counter", "gauge", "histogram", "summary", "untyped"].includes(rest)) problems.push(`${at}: bad type ${rest}`);
        f.type = rest;
      }
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/.exec(line);
    if (!m) {
      problems.push(`${at}: unparsable sample: ${line}`);
      continue;
    }
    const [, name = "", labelText = "", valueText = ""] = m;
    const labels: Record<string, string> = {};
    const labelRe = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;
    let pos = 0;
    while (pos < labelText.length) {
      labelRe.lastIndex = pos;
      const lm = labelRe.exec(labelText);
      if (!lm) {
        problems.push(`${at}: bad labels {${labelText}}`);
        break;
      }
      const [, key = "", value = ""] = lm;
      if (!labelName.test(key) || key.startsWith("__")) problems.push(`${at}: bad label name ${key}`);
      if (key in labels) problems.push(`${at}: duplicate label ${key}`);
      labels[key] = value;
      pos = labelRe.lastIndex;
    }
    const value = valueText === "+Inf" ? Infinity : valueText === "-Inf" ? -Infinity : Number(valueText);
    if (valueText !== "NaN" && Number.isNaN(value)) problems.push(`${at}: bad value ${valueText}`);

    const base = families.has(name) ? name : name.replace(/_(bucket|sum|count)$/, "");
    const f = families.get(base);
    if (!f || f.type === undefined || f.help === undefined) {
      problems.push(`${at}: sample ${name} without HELP/TYPE`);
      continue;
    }
    if (base !== name && f.type !== "histogram" && f.type !== "summary") problems.push(`${at}: ${name} in a ${f.type}`);
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seenSeries.has(key)) problems.push(`${at}: duplicate series ${key}`);
    seenSeries.add(key);
    f.samples.push({ name, labels, value });
  }

  for (const f of families.values()) {
    if (f.type === "counter" && !f.name.endsWith("_total")) problems.push(`counter ${f.name} should end in _total`);
    if (f.type === "histogram") problems.push(...checkHistogram(f));
  }
  return { families, problems };
}

function checkHistogram(f: Family): string[] {
  const problems: string[] = [];
  const groups = new Map<string, { buckets: [number, number][]; count?: number; sum?: number }>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const g = groups.get(key) ?? { buckets: [] };
    groups.set(key, g);
    if (s.name === `${f.name}_bucket`) {
      if (le === undefined) problems.push(`${f.name}: bucket without le`);
      else g.buckets.push([le === "+Inf" ? Infinity : Number(le), s.value]);
    } else if (s.name === `${f.name}_count`) g.count = s.value;
    else if (s.name === `${f.name}_sum`) g.sum = s.value;
    else problems.push(`${f.name}: unexpected sample ${s.name}`);
  }
  for (const [key, g] of groups) {
    const where = `${f.name}${key}`;
    for (let i = 1; i < g.buckets.length; i++) {
      const [prevLe, prevCount] = g.buckets[i - 1]!;
      const [le, count] = g.buckets[i]!;
      if (!(le > prevLe)) problems.push(`${where}: le not ascending (${prevLe} then ${le})`);
      if (count < prevCount) problems.push(`${where}: bucket counts not cumulative`);
    }
    const last = g.buckets[g.buckets.length - 1];
    if (!last || last[0] !== Infinity) problems.push(`${where}: no +Inf bucket`);
    else if (g.count !== last[1]) problems.push(`${where}: +Inf bucket ${last[1]} != _count ${g.count}`);
    if (g.sum === undefined) problems.push(`${where}: no _sum`);
  }
  return problems;
}

/** A registry's scrape, parsed; fails the test on any problem `promtool check metrics` would report. */
export async function scrapeFamilies(registry: { metrics(): Promise<string> }): Promise<Map<string, Family>> {
  const { families, problems } = parsePromText(await registry.metrics());
  assert.deepEqual(problems, []);
  return families;
}

/** The value of the first sample of `name` whose labels include `labels`, or undefined. */
export function sampleValue(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
  return families.get(name)?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}
