import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { missingJobProblem, orList } from "../../src/config/checks.ts";
import { jobSections, rawConfigSchema } from "../../src/config/schema.ts";
import { assertProblem, base, load, problemsOf } from "./support.ts";

describe("which sections a config needs (docs/config.md §Sections)", () => {
  test("missingJobProblem, table", () => {
    const sections = ["bridges", "checks", "collectors"];
    const cases: Array<[present: string[], expected: string | undefined]> = [
      [["bridges"], undefined],
      [["checks", "metrics"], undefined],
      [["collectors"], undefined],
      [["metrics"], "bridges: missing (a config needs at least one job section: bridges, checks or collectors)"],
      [["metrics", "dry_run", "default_scripts"], "bridges: missing (a config needs at least one job section: bridges, checks or collectors)"],
      [[], "bridges: missing (a config needs at least one job section: bridges, checks or collectors)"],
    ];
    for (const [present, expected] of cases) assert.equal(missingJobProblem(present, sections), expected, present.join(","));
    assert.equal(missingJobProblem(["metrics"], ["bridges"]), "bridges: missing (a config needs at least one job section: bridges)");
  });

  test("orList", () => {
    assert.equal(orList([]), "");
    assert.equal(orList(["a"]), "a");
    assert.equal(orList(["a", "b"]), "a or b");
    assert.equal(orList(["a", "b", "c"]), "a, b or c");
  });

  test("every job section is a key of the schema, and bridges comes first", () => {
    const keys = Object.keys(rawConfigSchema.shape);
    for (const section of jobSections) assert.ok(keys.includes(section), section);
    assert.equal(jobSections[0], "bridges");
  });

  test("every top-level section is optional in the schema", () => {
    for (const [key, field] of Object.entries(rawConfigSchema.shape)) {
      assert.equal(field.safeParse(undefined).success, true, `${key} accepts being absent`);
    }
  });

  test("metrics alone is not a job: refused, naming what would make one", () => {
    const problems = problemsOf({ metrics: { listen_addr: "127.0.0.1:9100" } });
    assert.deepEqual(problems, ["bridges: missing (a config needs at least one job section: bridges, checks, collectors, dns_failover or announce)"]);
  });

  test("`bridges:` with nothing under it counts as absent (YAML null)", () => {
    assertProblem(problemsOf("bridges:\nmetrics: {}\n"), "bridges", "missing");
  });

  test("with no job every other section is still checked, each problem at its key path", () => {
    const problems = problemsOf({ metrics: { listen_addr: "nowhere", buckets: 3 }, dry_run: "yes", default_scripts: { bridge_activate: [[]] } });
    assertProblem(problems, "bridges", "missing");
    assertProblem(problems, "metrics.listen_addr", '"nowhere"');
    assertProblem(problems, "metrics.buckets", "unknown key");
    assertProblem(problems, "dry_run", '"yes" is not');
    assertProblem(problems, "default_scripts.bridge_activate[0]", "an empty command cannot run");
  });

  test("a config with a bridges section still loads as before", () => {
    const { config } = load(base());
    assert.deepEqual(
      config.bridges.map((b) => b.name),
      ["b"],
    );
  });
});
