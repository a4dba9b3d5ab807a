// Builds the self-contained executable: `bun build.ts` → dist/vpnham.
// Flags from shared/docs/runtime.md: --bytecode needs --format=esm (else the
// binary dies at start); the no-autoload flags stop the binary from reading
// .env/bunfig.toml from whatever directory it is started in. Never strip it.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";

const pkg = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8")) as { version: string };

function gitDescribe(): string {
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "";
  }
}

const commit = gitDescribe();
const version = commit ? `${pkg.version}+${commit}` : pkg.version;
const target = process.argv.includes("--target") ? process.argv[process.argv.indexOf("--target") + 1]! : "bun-linux-x64";
const outfile = process.argv.includes("--outfile") ? process.argv[process.argv.indexOf("--outfile") + 1]! : "dist/vpnham";

mkdirSync("dist", { recursive: true });
const args = [
  "build",
  "--compile",
  "--minify",
  "--bytecode",
  "--format=esm",
  "--sourcemap",
  "--no-compile-autoload-dotenv",
  "--no-compile-autoload-bunfig",
  `--target=${target}`,
  `--define=VPNHAM_BUILD_VERSION=${JSON.stringify(version)}`,
  "src/main.ts",
  "--outfile",
  outfile,
];
const result = spawnSync(process.execPath, args, { stdio: "inherit" });
if (result.status !== 0) process.exit(result.status ?? 1);
console.log(`built ${outfile} (vpnham ${version}, ${target})`);
