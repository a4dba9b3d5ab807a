// Checks that PromQL written for operators (alert rules, dashboards) only names series
// and labels that a real vpnham scrape has.

/** Sample name (e.g. `vpnham_probes_sent_total`, `..._bucket`) → label names seen on it. */
export type ScrapeIndex = Map<string, Set<string>>;

export function indexScrape(text: string): ScrapeIndex {
  const index: ScrapeIndex = new Map();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s/.exec(line);
    if (!m) continue;
    const labels = index.get(m[1]!) ?? new Set<string>();
    index.set(m[1]!, labels);
    for (const lm of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) labels.add(lm[1]!);
  }
  return index;
}

/**
 * Declared series (name → label names) as if scraped: for families a scrape of the test pair
 * does not have, such as the collectors' (their series exist only where the daemons run).
 */
export function indexDeclared(metrics: readonly { name: string; labelNames: readonly string[] }[], into: ScrapeIndex = new Map()): ScrapeIndex {
  for (const { name, labelNames } of metrics) {
    const labels = into.get(name) ?? new Set<string>();
    into.set(name, labels);
    for (const label of labelNames) labels.add(label);
  }
  return into;
}

/** Labels Prometheus adds at scrape time (target labels of examples/prometheus/prometheus.yml). */
export const TARGET_LABELS = new Set(["job", "instance", "side"]);

/** Our series' name prefixes; anything else in an expression is a function, keyword or label. */
const OURS = /^(vpnham_|process_)/;

/** Every vpnham_/process_ name an expression mentions. */
export function metricNames(expr: string): string[] {
  const names = new Set<string>();
  for (const m of withoutStrings(expr).matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) if (OURS.test(m[0])) names.add(m[0]);
  return [...names];
}

/**
 * Problems with one expression: unknown series, label matchers on labels the series does
 * not have, and `by`/`without`/`on`/`ignoring` labels that none of its series has.
 */
export function checkExpr(expr: string, index: ScrapeIndex): string[] {
  const problems: string[] = [];
  const names = metricNames(expr);
  const known = (label: string, metric: string) => TARGET_LABELS.has(label) || (index.get(metric)?.has(label) ?? false);
  for (const name of names) if (!index.has(name)) problems.push(`${name}: not in the scrape`);

  // name{label="…", …}
  for (const m of expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^}]*)\}/g)) {
    const metric = m[1]!;
    if (!OURS.test(metric) || !index.has(metric)) continue;
    for (const lm of withoutStrings(m[2]!).matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)) {
      if (!known(lm[1]!, metric)) problems.push(`${metric}: has no label ${lm[1]}`);
    }
  }
  // by (…), without (…), on (…), ignoring (…), group_left (…), group_right (…)
  for (const m of withoutStrings(expr).matchAll(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g)) {
    for (const label of m[1]!.split(",").map((s) => s.trim()).filter(Boolean)) {
      if (label === "le") continue;
      if (!names.some((metric) => known(label, metric))) problems.push(`label ${label}: none of ${names.join(", ")} has it`);
    }
  }
  return problems;
}

/** Blank out string literals so label values never look like names. */
function withoutStrings(expr: string): string {
  return expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
}
