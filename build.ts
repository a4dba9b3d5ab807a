// Builds the self-contained executable: `bun build.ts` → dist/vpnham (host arch).
// `bun build.ts --all` → dist/vpnham-linux-x64, dist/vpnham-linux-arm64 and dist/SHA256SUMS.
// Flags (docs/development.md §Building the executable): --bytecode needs --format=esm (else the
// binary dies at start); the no-autoload flags stop the binary from reading
// .env/bunfig.toml from whatever directory it is started in. Never strip it.
//
// Reproducible and offline-capable: every target is built with
// --compile-executable-path, so Bun never downloads a runtime itself. The host
// target uses the pinned Bun that runs this script; another architecture uses
// the pinned @oven/bun-linux-<arch> tarball, fetched once with `npm pack`,
// checked against the integrity package-lock.json records for it, and kept in
// node_modules/.cache/vpnham-build/ (later builds need no network).
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";

interface PackageJson {
  version: string;
  devDependencies: Record<string, string>;
}
interface Lockfile {
  packages: Record<string, { version?: string; integrity?: string } | undefined>;
}

const root = resolve(import.meta.dirname ?? ".");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as PackageJson;
const bunVersion = pkg.devDependencies["bun"] ?? "";

function gitDescribe(): string {
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "";
  }
}

function flagValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function fail(message: string): never {
  console.error(`build: ${message}`);
  process.exit(1);
}

/** Bun's name for a CPU in targets ("arm64") vs. npm's package suffix ("aarch64"). */
const npmArch: Record<string, string> = { x64: "x64", arm64: "aarch64" };

/**
 * Path of the pinned Bun runtime for linux-<arch>: the running Bun when it is
 * that runtime, else the integrity-checked npm tarball's bin/bun (cached).
 */
function runtimeFor(arch: "x64" | "arm64"): string {
  const running = (process.versions as Record<string, string | undefined>).bun;
  if (process.platform === "linux" && process.arch === arch && running === bunVersion) return process.execPath;

  const name = `@oven/bun-linux-${npmArch[arch]}`;
  const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8")) as Lockfile;
  const locked = lock.packages[`node_modules/${name}`];
  if (locked?.version !== bunVersion || !locked.integrity?.startsWith("sha512-")) {
    fail(`package-lock.json has no sha512 integrity for ${name}@${bunVersion} (it comes with the "bun" devDependency)`);
  }
  const cacheDir = join(root, "node_modules", ".cache", "vpnham-build", `bun-linux-${npmArch[arch]}-${bunVersion}`);
  const binary = join(cacheDir, "package", "bin", "bun");
  const stamp = join(cacheDir, "integrity");
  if (existsSync(binary) && existsSync(stamp) && readFileSync(stamp, "utf8") === locked.integrity) return binary;

  rmSync(cacheDir, { recursive: true, force: true });
  mkdirSync(cacheDir, { recursive: true });
  console.log(`fetching ${name}@${bunVersion} with npm pack (once; cached in ${cacheDir})`);
  const packed = spawnSync("npm", ["pack", `${name}@${bunVersion}`, "--prefer-offline", "--silent", "--pack-destination", cacheDir], {
    cwd: cacheDir,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  const tarball = join(cacheDir, packed.stdout.trim().split("\n").pop() ?? "");
  if (packed.status !== 0 || !existsSync(tarball)) fail(`npm pack ${name}@${bunVersion} failed`);
  const integrity = `sha512-${createHash("sha512").update(readFileSync(tarball)).digest("base64")}`;
  if (integrity !== locked.integrity) fail(`${basename(tarball)}: integrity ${integrity} does not match package-lock.json's ${locked.integrity}`);
  const untar = spawnSync("tar", ["-xzf", tarball, "-C", cacheDir, "package/bin/bun"], { stdio: "inherit" });
  if (untar.status !== 0 || !existsSync(binary)) fail(`could not extract package/bin/bun from ${tarball}`);
  rmSync(tarball);
  writeFileSync(stamp, locked.integrity);
  return binary;
}

function compile(target: string, executable: string | undefined, outfile: string, version: string): void {
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
    ...(executable ? [`--compile-executable-path=${executable}`] : []),
    `--define=VPNHAM_BUILD_VERSION=${JSON.stringify(version)}`,
    "src/main.ts",
    // A second entry point: the worker that loads a config on reload (src/config/load-off-thread.ts).
    "src/config/load-worker.ts",
    "--outfile",
    outfile,
  ];
  const result = spawnSync(process.execPath, args, { cwd: root, stdio: "inherit" });
  if (result.status !== 0) process.exit(result.status ?? 1);
  console.log(`built ${outfile} (vpnham ${version}, ${target})`);
}

function sha256(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

const commit = gitDescribe();
const version = commit ? `${pkg.version}+${commit}` : pkg.version;
mkdirSync(join(root, "dist"), { recursive: true });

if (process.argv.includes("--all")) {
  const names: string[] = [];
  for (const arch of ["x64", "arm64"] as const) {
    const name = `vpnham-linux-${arch}`;
    compile(`bun-linux-${arch}`, runtimeFor(arch), join("dist", name), version);
    names.push(name);
  }
  // `cd dist && sha256sum -c SHA256SUMS` checks them; written last and atomically.
  const sums = names.map((name) => `${sha256(join(root, "dist", name))}  ${name}\n`).join("");
  writeFileSync(join(root, "dist", "SHA256SUMS.tmp"), sums);
  renameSync(join(root, "dist", "SHA256SUMS.tmp"), join(root, "dist", "SHA256SUMS"));
  process.stdout.write(`dist/SHA256SUMS:\n${sums}`);
} else {
  const target = flagValue("--target") ?? `bun-linux-${process.arch === "arm64" ? "arm64" : "x64"}`;
  const outfile = flagValue("--outfile") ?? "dist/vpnham";
  // Other variants (musl, baseline, …) are left to Bun, which fetches their runtime.
  const pinned = target === "bun-linux-x64" ? runtimeFor("x64") : target === "bun-linux-arm64" ? runtimeFor("arm64") : undefined;
  compile(target, pinned, outfile, version);
}
