import { test } from "node:test";
import assert from "node:assert/strict";
import { TaggedLog, configureLogger, logger, onLogEntry } from "../../src/util/log.ts";

test("children taken before configureLogger follow the later level and format", () => {
  const child = logger.withTag("early");
  const lines: string[] = [];
  const original = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string) => (lines.push(String(chunk)), true)) as typeof process.stdout.write;
  try {
    configureLogger({ level: "info", format: "json" });
    child.info("hello", { bridge: "b1" });
    child.debug("hidden");
    configureLogger({ level: "silent" });
    child.error("also hidden");
  } finally {
    process.stdout.write = original;
    configureLogger({ level: "info" });
  }
  assert.equal(lines.length, 1);
  const event = JSON.parse(lines[0]!);
  assert.equal(event.msg, "hello");
  assert.equal(event.component, "early");
  assert.equal(event.bridge, "b1");
  assert.equal(event.level, "info");
});

/** Lines written to stdout and stderr while fn runs. */
function captured(fn: () => void): string {
  let out = "";
  const [stdout, stderr] = [process.stdout.write.bind(process.stdout), process.stderr.write.bind(process.stderr)];
  const capture = ((chunk: string) => ((out += String(chunk)), true)) as typeof process.stdout.write;
  process.stdout.write = capture;
  process.stderr.write = capture;
  try {
    fn();
  } finally {
    process.stdout.write = stdout;
    process.stderr.write = stderr;
  }
  return out;
}

const hostile = "\x1b]0;owned\x07\x1b[2J\r\n12:00:00.000 INFO  [roles] forged\x9b\u202e";
const rawControl = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;

test("pretty lines escape control characters in the message, the tag and the fields", () => {
  let out = "";
  try {
    configureLogger({ level: "info", format: "pretty" });
    out = captured(() => {
      logger.withTag(`tag${hostile}`).warn(`partner said ${hostile}`, { detail: hostile, tunnel: "eth\u202e1" });
      logger.error(new Error(`boom ${hostile}`));
    });
  } finally {
    configureLogger({ level: "info", format: "json" });
  }
  assert.doesNotMatch(out, rawControl);
  const lines = out.split("\n").filter((l) => l !== "");
  assert.equal(lines.length, 2, "one line per event: no forged lines");
  assert.match(lines[0]!, /\[tag\\x1b\]0;owned\\x07/);
  assert.match(lines[0]!, /partner said \\x1b\]0;owned\\x07\\x1b\[2J\\r\\n12:00/);
  assert.match(lines[0]!, /"tunnel":"eth\\u202e1"/);
  assert.match(lines[1]!, /boom \\x1b/);
});

test("JSON lines escape what JSON.stringify leaves raw (C1, bidi) and stay valid JSON", () => {
  let out = "";
  try {
    configureLogger({ level: "info", format: "json" });
    out = captured(() => logger.withTag("t").info(`m${hostile}`, { detail: hostile }));
  } finally {
    configureLogger({ level: "info" });
  }
  assert.doesNotMatch(out, rawControl);
  const event = JSON.parse(out);
  assert.equal(event.msg, `m${hostile}`, "the same text when read back");
  assert.equal(event.detail, hostile);
});

test("a TaggedLog writes what a consola child writes: same reporter, level, format and observers", () => {
  const seen: string[] = [];
  const unsubscribe = onLogEntry((entry) => seen.push(`${entry.type} ${entry.tag}`));
  let out = "";
  try {
    configureLogger({ level: "info", format: "json" });
    out = captured(() => {
      const tagged = new TaggedLog("tunnel b/t0");
      tagged.info("tunnel up", { bridge: "b", tunnel: "t0" });
      tagged.debug("hidden");
      tagged.error(`hostile ${hostile}`);
      logger.withTag("tunnel b/t0").info("tunnel up", { bridge: "b", tunnel: "t0" });
    });
  } finally {
    unsubscribe();
    configureLogger({ level: "info", format: "json" });
  }
  const lines = out.split("\n").filter((l) => l !== "");
  assert.equal(lines.length, 3);
  assert.doesNotMatch(out, rawControl);
  const [ours, error, consolas] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  const { time: _a, ...oursRest } = ours!;
  const { time: _b, ...consolasRest } = consolas!;
  assert.deepEqual(oursRest, consolasRest);
  assert.deepEqual(oursRest, { level: "info", component: "tunnel b/t0", msg: "tunnel up", bridge: "b", tunnel: "t0" });
  assert.equal(error!.level, "error");
  assert.deepEqual(seen, ["info tunnel b/t0", "error tunnel b/t0", "info tunnel b/t0"]);
});
