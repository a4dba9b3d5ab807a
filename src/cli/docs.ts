import { defineCommand } from "citty";
import { resolve } from "node:path";
import { UserError } from "../util/errors.ts";
import { runCli } from "./common.ts";

/** Hidden: rewrites the generated parts of docs/config.md and docs/metrics.md, and docs/vpnham.schema.json (for developers). */
export default defineCommand({
  meta: { name: "docs", description: "Regenerate the generated parts of docs/ from the schema and the metrics registry", hidden: true },
  args: {
    dir: { type: "string", description: "The docs directory", default: "docs" },
    check: { type: "boolean", description: "Write nothing; exit 1 when a generated part is stale" },
  },
  run: ({ args }) =>
    runCli(async () => {
      const { REGENERATE_COMMAND, staleParts, writeGeneratedParts } = await import("../docs/generate.ts");
      const dir = resolve(args.dir);
      if (args.check) {
        const stale = staleParts(dir);
        if (stale.length > 0) throw new UserError("stale", stale.map((s) => `${s} is stale: run \`${REGENERATE_COMMAND}\``));
        process.stdout.write(`${dir}: generated parts are up to date\n`);
        return;
      }
      const changed = writeGeneratedParts(dir);
      process.stdout.write(changed.length > 0 ? `rewrote ${changed.join(", ")} in ${dir}\n` : `${dir}: already up to date\n`);
    }),
});
