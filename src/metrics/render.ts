/**
 * The Prometheus text of a registry, byte for byte what prom-client's `registry.metrics()`
 * writes, made in slices that give the event loop back every few milliseconds
 * (docs/performance.md §Scrapes). prom-client renders the whole registry in one run of
 * microtasks: at 1 000 tunnels that is 14 MB of text and a couple of hundred milliseconds in
 * which no probe is answered or sent. Here counters, gauges and histograms without a `collect`
 * hook are read from their series (prom-client 15's `hashMap`, pinned in package.json) and each
 * series' label text is made once and kept for as long as the series lives; anything else goes
 * through prom-client's own rendering, one metric at a time.
 */
import type { Registry } from "./prom.ts";

/** How long one slice may run before the event loop gets a turn. */
export const SLICE_MS = 2;

type Labels = Readonly<Record<string, string | number>>;
interface ScalarSeries {
  readonly labels: Labels;
  readonly value: number;
}
interface HistogramSeries {
  readonly labels: Labels;
  readonly bucketValues: Readonly<Record<string, number>>;
  readonly sum: number;
  readonly count: number;
}
/** What the renderer reads of a prom-client metric (internals of prom-client 15). */
interface MetricInternals {
  readonly name: string;
  readonly help: string;
  readonly type: string;
  readonly collect?: unknown;
  readonly hashMap?: Readonly<Record<string, ScalarSeries | HistogramSeries>>;
  readonly upperBounds?: readonly number[];
}

// prom-client's escaping (lib/registry.js), same order of replacements.
const escapeString = (text: string): string => text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
const labelValue = (value: string | number): string => (typeof value === "string" ? escapeString(value).replace(/"/g, '\\"') : `${value}`);
/** prom-client's getValueAsString. */
function valueText(value: number): string {
  if (Number.isNaN(value)) return "Nan";
  if (!Number.isFinite(value)) return value < 0 ? "-Inf" : "+Inf";
  return `${value}`;
}

/** `name="value",…` of a series, made once per labels object (a series keeps its object). */
const labelTexts = new WeakMap<Labels, string>();
function labelText(labels: Labels): string {
  let text = labelTexts.get(labels);
  if (text === undefined) {
    text = Object.entries(labels)
      .map(([name, value]) => `${name}="${labelValue(value)}"`)
      .join(",");
    labelTexts.set(labels, text);
  }
  return text;
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Renders `registry` as prom-client's `metrics()` would (Prometheus text format, no default labels). */
export async function renderMetrics(registry: Registry, sliceMs = SLICE_MS): Promise<string> {
  const parts: string[] = [];
  await renderSlices(registry, sliceMs, (text) => parts.push(text));
  return parts.join("");
}

/**
 * The same text as UTF-8 bytes, each slice encoded as it is made: neither one 14 MB join nor
 * one 14 MB encode runs in a single turn of the event loop.
 */
export async function renderMetricsBytes(registry: Registry, sliceMs = SLICE_MS): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await renderSlices(registry, sliceMs, (text) => chunks.push(Buffer.from(text, "utf8")));
  return Buffer.concat(chunks);
}

/** Hands the text to `emit` in pieces, in order; between pieces the event loop may run. */
async function renderSlices(registry: Registry, sliceMs: number, emit: (text: string) => void): Promise<void> {
  let sliceStart = performance.now();
  /** Gives the event loop a turn once the slice is used up. */
  const pause = async (): Promise<void> => {
    if (performance.now() - sliceStart < sliceMs) return;
    await yieldToEventLoop();
    sliceStart = performance.now();
  };
  let separator = "";
  for (const metric of registry.getMetricsAsArray() as unknown as MetricInternals[]) {
    const plain = metric.collect === undefined && metric.hashMap !== undefined && ["counter", "gauge", "histogram"].includes(metric.type);
    if (!plain || (metric.type === "histogram" && !metric.upperBounds)) {
      emit(separator + (await registry.getSingleMetricAsString(metric.name)));
      separator = "\n\n";
      await pause();
      continue;
    }
    const name = escapeString(metric.name);
    let text = `${separator}# HELP ${name} ${escapeString(metric.help)}\n# TYPE ${name} ${metric.type}`;
    separator = "\n\n";
    let n = 0;
    for (const series of Object.values(metric.hashMap!)) {
      text += metric.type === "histogram" ? histogramLines(name, metric.upperBounds!, series as HistogramSeries) : scalarLine(name, series as ScalarSeries);
      if (++n % 16 === 0 && performance.now() - sliceStart >= sliceMs) {
        emit(text);
        text = "";
        await pause();
      }
    }
    emit(text);
  }
  emit("\n");
}

function scalarLine(name: string, series: ScalarSeries): string {
  const labels = labelText(series.labels);
  return `\n${name}${labels ? `{${labels}}` : ""} ${valueText(series.value)}`;
}

/** Per histogram and bucket, the start of its lines: `\n<name>_bucket{le="<bound>"`. */
const bucketHeads = new WeakMap<readonly number[], { name: string; heads: string[] }>();
function bucketHeadsOf(name: string, upperBounds: readonly number[]): string[] {
  const known = bucketHeads.get(upperBounds);
  if (known?.name === name) return known.heads;
  const heads = [...upperBounds.map((bound) => `\n${name}_bucket{le="${bound}"`), `\n${name}_bucket{le="+Inf"`];
  bucketHeads.set(upperBounds, { name, heads });
  return heads;
}

/** prom-client writes a bucket's `le` first, then the series' labels; then +Inf, _sum and _count. */
function histogramLines(name: string, upperBounds: readonly number[], series: HistogramSeries): string {
  const heads = bucketHeadsOf(name, upperBounds);
  const labels = labelText(series.labels);
  const after = labels ? `,${labels}} ` : "} ";
  const { bucketValues } = series;
  let text = "";
  let cumulative = 0;
  for (let i = 0; i < upperBounds.length; i++) {
    cumulative += bucketValues[upperBounds[i]!]!;
    text += heads[i]! + after + valueText(cumulative);
  }
  text += heads[upperBounds.length]! + after + valueText(series.count);
  const plain = labels ? `{${labels}} ` : " ";
  return `${text}\n${name}_sum${plain}${valueText(series.sum)}\n${name}_count${plain}${valueText(series.count)}`;
}
