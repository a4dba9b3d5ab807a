import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The docs a clone carries stay consistent: every `docs/<file>.md §<Heading>` cited in code
 * comments names a file and a heading that exist, old-style citations (`behaviour.md §4`, the
 * shared docs outside the repository) are gone, and every relative link in README.md and
 * docs/*.md resolves to a file and, for `#anchor`, to a heading of that file.
 */
const thisFile = fileURLToPath((import.meta as unknown as { url: string }).url);
const root = resolve(dirname(thisFile), "..", "..");

function filesUnder(dir: string, keep: (path: string) => boolean): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(path, keep));
    else if (keep(path)) out.push(path);
  }
  return out;
}

const codeFiles = [
  ...["src", "test", "bench"].flatMap((d) => filesUnder(d, (p) => p.endsWith(".ts"))),
  ...filesUnder("examples", (p) => /\.(ya?ml|service)$/.test(p) || p.includes("init.d")),
  "build.ts",
].filter((p) => resolve(root, p) !== thisFile);
const markdownFiles = ["README.md", ...filesUnder("docs", (p) => p.endsWith(".md"))];

const read = (path: string) => readFileSync(join(root, path), "utf8");

/** Lines of a Markdown text outside fenced code blocks. */
function proseLines(text: string): { line: string; number: number }[] {
  const out: { line: string; number: number }[] = [];
  let fenced = false;
  text.split("\n").forEach((line, i) => {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    else if (!fenced) out.push({ line, number: i + 1 });
  });
  return out;
}

/** Heading texts as written (inline code and links reduced to their text). */
function headings(path: string): string[] {
  return proseLines(read(path))
    .map(({ line }) => /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1])
    .filter((h): h is string => h !== undefined)
    .map((h) => h.replace(/\[([^\]]*)\]\([^)]*\)/g, "$1").replaceAll("`", ""));
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
    .replace(/ /g, "-");
}

/** The anchors of a Markdown file's headings; repeated ones get -1, -2, … as on GitHub. */
function anchors(path: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const heading of headings(path)) {
    const base = slug(heading);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    result.add(count === 0 ? base : `${base}-${count}`);
  }
  return result;
}

test("anchors follow GitHub's rules", () => {
  assert.equal(slug("Troubleshooting: why is this bridge active (or not)?"), "troubleshooting-why-is-this-bridge-active-or-not");
  assert.equal(slug("Changing the configuration, upgrading vpnham"), "changing-the-configuration-upgrading-vpnham");
  assert.equal(slug("0.1.0 (not yet released)"), "010-not-yet-released");
  assert.equal(slug("Start-up"), "start-up");
  assert.equal(slug("vpnham_bridge_active"), "vpnham_bridge_active");
});

/** The comment part of a source line (whole-line comments, or after a trailing `// `). */
function commentOf(line: string): string {
  const trimmed = line.trimStart();
  if (/^(\*|\/\*|\/\/|#)/.test(trimmed)) return trimmed;
  const at = line.indexOf(" // ");
  return at >= 0 ? line.slice(at) : "";
}

interface Citation {
  where: string;
  file: string;
  heading?: string;
}

/** `docs/X.md`, optionally followed by ` §Heading…` (rest of the line) or ` "Heading"`. */
function citations(path: string): Citation[] {
  const out: Citation[] = [];
  read(path)
    .split("\n")
    .forEach((line, i) => {
      for (const m of line.matchAll(/(?<![\w/.-])docs\/([\w.-]+\.md)(?:\s*§\s*([^\n]*)|\s+"([^"\n]+)")?/g)) {
        out.push({ where: `${path}:${i + 1}`, file: `docs/${m[1]}`, ...(m[2] ?? m[3] ? { heading: (m[2] ?? m[3])! } : {}) });
      }
    });
  return out;
}

test("every docs/<file>.md §<Heading> cited in code names an existing file and heading", () => {
  const problems: string[] = [];
  let checked = 0;
  for (const path of codeFiles) {
    for (const c of citations(path)) {
      checked++;
      if (!existsSync(join(root, c.file))) {
        problems.push(`${c.where}: ${c.file} does not exist`);
        continue;
      }
      if (c.heading === undefined) continue;
      const text = c.heading;
      // The heading runs up to punctuation or the end of the line; the longest one that fits wins.
      const fits = headings(c.file).some((h) => text === h || (text.startsWith(h) && !/[\p{L}\p{N}]/u.test(text[h.length]!)));
      if (!fits) problems.push(`${c.where}: ${c.file} has no heading "${text}"`);
    }
  }
  assert.deepEqual(problems, []);
  assert.ok(checked >= 15, `found only ${checked} citations: is the pattern still right?`);
});

test("no comment cites the old shared docs or a bare <name>.md section", () => {
  const problems: string[] = [];
  const outside = [["shared", "docs"].join("/"), "../" + "shared", "/work/" + "shared"];
  for (const path of [...codeFiles, ...markdownFiles]) {
    read(path)
      .split("\n")
      .forEach((line, i) => {
        if (outside.some((o) => line.includes(o))) problems.push(`${path}:${i + 1}: cites files outside the repository: ${line.trim()}`);
        if (path.endsWith(".md")) return; // links between docs are checked below
        // A bare "behaviour.md §4", "(runtime.md)", "protocol.md §2": the style before docs/.
        for (const m of commentOf(line).matchAll(/(?<![\w/.-])([\w-]+\.md)\b/g)) {
          if (m[1] !== "README.md") problems.push(`${path}:${i + 1}: ${m[1]} without docs/: ${line.trim()}`);
        }
      });
  }
  assert.deepEqual(problems, []);
});

test("every relative link in README.md and docs/*.md resolves, anchors included", () => {
  const problems: string[] = [];
  for (const path of markdownFiles) {
    for (const { line, number } of proseLines(read(path))) {
      const prose = line.replace(/`[^`]*`/g, "");
      for (const m of prose.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1]!;
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
        const [file, anchor] = target.split("#", 2) as [string, string | undefined];
        const targetPath = file === "" ? path : relative(root, resolve(root, dirname(path), file));
        const where = `${path}:${number}: ${target}`;
        if (targetPath.startsWith("..") || !existsSync(join(root, targetPath))) {
          problems.push(`${where}: no such file`);
          continue;
        }
        if (anchor === undefined) continue;
        if (statSync(join(root, targetPath)).isDirectory() || !targetPath.endsWith(".md")) {
          problems.push(`${where}: an anchor into something that is not a Markdown file`);
        } else if (!anchors(targetPath).has(anchor)) {
          problems.push(`${where}: ${targetPath} has no heading with anchor #${anchor}`);
        }
      }
    }
  }
  assert.deepEqual(problems, []);
});

test("the README stays the front door: at most 250 lines, linking every docs/ page", () => {
  const readme = read("README.md");
  assert.ok(readme.split("\n").length <= 250, `README.md has ${readme.split("\n").length} lines`);
  for (const page of markdownFiles.filter((p) => p.startsWith("docs/"))) {
    assert.ok(readme.includes(`](${page}`), `README.md links ${page}`);
  }
});
