/**
 * The routing-daemon backends as reconcilers (docs/reconcile.md, docs/announce.md §Backends):
 * read what the daemon announces, plan with the backend's pure planner, apply with argv actions
 * (vtysh, birdc, ip) or ExaBGP API commands, so a dry run prints the exact commands.
 */
import { runCommand, type RunCommandOptions } from "../hooks/run-command.ts";
import { commandOk, type CommandResult } from "../hooks/types.ts";
import { RetryableError, type Action } from "../reconcile/action.ts";
import { argvAction } from "../reconcile/argv.ts";
import type { Reconciler } from "../reconcile/engine.ts";
import type { DesiredPrefix } from "./decide.ts";
import { frrAbsentNetwork, frrOtherAsn, parseFrrRunningConfig, planFrr, vtyshChangeArgv, vtyshReadArgv, type FrrNetwork } from "./frr.ts";
import type { AnnounceConfig, BirdBackend, ExabgpBackend, FrrBackend, KernelBackend } from "./model.ts";
import { kernelAbsentRoute, kernelReadArgv, parseKernelRoutes, planKernel } from "./kernel.ts";
import { birdcConfigureArgv, birdcShowArgv, birdUnknownProtocol, parseBirdRoutes, planBirdRoutes, renderBirdInclude } from "./bird.ts";
import { writeFileAtomically } from "./drain-file.ts";
import { exabgpReadCommand, parseExabgpAdjRibOut, planExabgp, type ExabgpActual } from "./exabgp.ts";
import { exabgpPipeClient, type ExabgpCall } from "./exabgp-pipe.ts";

export type CommandRunner = (argv: string[], options: RunCommandOptions) => Promise<CommandResult>;

/** What a backend read: every prefix the daemon announces through us (allow-list or not). */
export interface BackendActual {
  readonly networks: ReadonlyMap<string, FrrNetwork>;
}

export type AnnounceReconciler = Reconciler<readonly DesiredPrefix[], BackendActual>;

export interface BackendDeps {
  readonly run?: CommandRunner;
  readonly env?: Record<string, string | undefined>;
  /** ExaBGP's API (default: its named pipes). */
  readonly exabgp?: ExabgpCall;
}

/** Output kept from a read: a router's whole running config. */
const maxReadBytes = 16 * 1024 * 1024;

function firstLine(text: string): string {
  const line = text.split("\n").find((l) => l.trim() !== "" && !l.includes("vtysh.conf")) ?? "";
  return line.trim().slice(0, 200);
}

function failure(result: CommandResult): string {
  const why = result.error ?? (result.timedOut ? "timed out" : result.signal ? `killed by ${result.signal}` : `exit ${result.exitCode}`);
  const said = firstLine(result.stdout) || firstLine(result.stderr);
  return said ? `${why}: ${said}` : why;
}

export function createBackend(config: AnnounceConfig, deps: BackendDeps = {}): AnnounceReconciler {
  switch (config.backend.kind) {
    case "frr":
      return frrReconciler(config.backend, config.timeoutMs, deps);
    case "bird":
      return birdReconciler(config.backend, config.timeoutMs, deps);
    case "kernel":
      return kernelReconciler(config.backend, config.timeoutMs, deps);
    case "exabgp":
      return exabgpReconciler(config.backend, deps);
  }
}

/** A backend's metric `target`: a name from the config, never an id from outside. */
export function backendTarget(config: AnnounceConfig): string {
  const backend = config.backend;
  switch (backend.kind) {
    case "frr":
      return backend.namespace ?? "default";
    case "bird":
      return backend.protocol;
    case "kernel":
      return `${backend.namespace ?? "default"}:${backend.table}`;
    case "exabgp":
      return exabgpTarget(backend);
  }
}

/** ExaBGP's pipe name (`exabgp.api.pipename`): the command pipe's file name without `.in`. */
function exabgpTarget(backend: ExabgpBackend): string {
  return (backend.pipeIn.split("/").pop() ?? "").replace(/\.in$/, "") || backend.pipeIn;
}

interface FrrRead extends BackendActual {
  readonly asn: number;
}

export function frrReconciler(backend: FrrBackend, timeoutMs: number, deps: BackendDeps = {}): Reconciler<readonly DesiredPrefix[], FrrRead> {
  const run = deps.run ?? runCommand;
  const env = deps.env ?? process.env;
  return {
    kind: "announce_frr",
    target: backend.namespace ?? "default",
    async read(signal): Promise<FrrRead> {
      const result = await run(vtyshReadArgv(backend), { timeoutMs, env, signal, maxOutputBytes: maxReadBytes });
      if (!commandOk(result)) throw new RetryableError(`vtysh show running-config: ${failure(result)}`);
      if (result.truncated) throw new RetryableError(`vtysh show running-config: more than ${maxReadBytes} bytes`);
      const actual = parseFrrRunningConfig(result.stdout);
      // bgpd not running (yet): vtysh shows the other daemons' config only.
      if (actual.asn === undefined) throw new RetryableError("FRR's running config has no `router bgp` (is bgpd running?)");
      if (backend.asn !== undefined && actual.asn !== backend.asn) {
        throw new Error(`FRR runs router bgp ${actual.asn}, but announce.frr.asn is ${backend.asn}`);
      }
      return { asn: actual.asn, networks: actual.networks };
    },
    plan(desired, actual) {
      return planFrr(desired, actual).map((change) => frrAction(vtyshChangeArgv(backend, actual.asn, change), actual.asn, { timeoutMs, env }, run));
    },
  };
}

/** A vtysh call; `no network` of a prefix FRR does not have counts as done (docs/announce.md §FRR). */
function frrAction(argv: string[], asn: number, options: Omit<RunCommandOptions, "signal">, run: CommandRunner): Action {
  const inner = argvAction(argv, options, run);
  return {
    kind: inner.kind,
    describe: inner.describe,
    async apply(signal) {
      const result = await inner.run(signal);
      if (commandOk(result)) return;
      const said = `${result.stdout}\n${result.stderr}`;
      // The read-back that follows finds anything this call did not get to (vtysh stops at an error).
      if (result.exitCode === 1 && said.includes(frrAbsentNetwork)) return;
      const other = frrOtherAsn.exec(said);
      if (other) throw new Error(`FRR runs router bgp ${other[1]}, not ${asn}`);
      throw new RetryableError(`${inner.describe()}: ${failure(result)}`);
    },
  };
}

interface BirdRead extends BackendActual {
  /** BIRD does not know our static protocols yet (the include file is new or empty). */
  readonly protocolsMissing: boolean;
}

export function birdReconciler(backend: BirdBackend, timeoutMs: number, deps: BackendDeps = {}): Reconciler<readonly DesiredPrefix[], BirdRead> {
  const run = deps.run ?? runCommand;
  const env = deps.env ?? process.env;
  return {
    kind: "announce_bird",
    target: backend.protocol,
    async read(signal): Promise<BirdRead> {
      const networks = new Map<string, FrrNetwork>();
      let protocolsMissing = false;
      for (const family of [4, 6] as const) {
        const result = await run(birdcShowArgv(backend, family), { timeoutMs, env, signal, maxOutputBytes: maxReadBytes });
        if (!commandOk(result) && result.exitCode === 1 && birdUnknownProtocol.test(result.stdout + result.stderr)) {
          protocolsMissing = true;
          continue;
        }
        if (!commandOk(result)) throw new RetryableError(`birdc show route: ${failure(result)}`);
        for (const prefix of parseBirdRoutes(result.stdout, family)) networks.set(prefix, { family });
      }
      return { networks, protocolsMissing };
    },
    plan(desired, actual) {
      const routes = planBirdRoutes(desired, new Set(actual.networks.keys()));
      if (routes === undefined && !actual.protocolsMissing) return [];
      const text = renderBirdInclude(backend, routes ?? [...actual.networks.keys()]);
      const write: Action = {
        kind: "file",
        describe: () => `write ${backend.includeFile}: ${text.split("\n").filter((l) => l.trim().startsWith("route ")).map((l) => l.trim()).join(" ") || "no routes"}`,
        apply: () => writeFileAtomically(backend.includeFile, text, 0o644),
      };
      return [write, argvAction(birdcConfigureArgv(backend), { timeoutMs, env }, run)];
    },
  };
}

export function kernelReconciler(backend: KernelBackend, timeoutMs: number, deps: BackendDeps = {}): AnnounceReconciler {
  const run = deps.run ?? runCommand;
  const env = deps.env ?? process.env;
  return {
    kind: "announce_kernel",
    target: `${backend.namespace ?? "default"}:${backend.table}`,
    async read(signal) {
      const networks = new Map<string, FrrNetwork>();
      for (const family of [4, 6] as const) {
        const result = await run(kernelReadArgv(backend, family), { timeoutMs, env, signal, maxOutputBytes: maxReadBytes });
        if (!commandOk(result)) throw new RetryableError(`ip route show: ${failure(result)}`);
        for (const prefix of parseKernelRoutes(result.stdout, family)) networks.set(prefix, { family });
      }
      return { networks };
    },
    plan(desired, actual) {
      return planKernel(backend, desired, new Set(actual.networks.keys())).map((argv) => {
        const inner = argvAction(argv, { timeoutMs, env }, run);
        const action: Action = {
          kind: inner.kind,
          describe: inner.describe,
          async apply(signal) {
            const result = await inner.run(signal);
            if (commandOk(result)) return;
            // `del` of a route that is already gone: done.
            if (argv.includes("del") && result.stderr.includes(kernelAbsentRoute)) return;
            throw new RetryableError(`${inner.describe()}: ${failure(result)}`);
          },
        };
        return action;
      });
    },
  };
}

export function exabgpReconciler(backend: ExabgpBackend, deps: BackendDeps = {}): Reconciler<readonly DesiredPrefix[], ExabgpActual> {
  const call = deps.exabgp ?? exabgpPipeClient(backend);
  const said = (answer: { lines: readonly string[] }) => (answer.lines.length > 0 ? `: ${answer.lines.join(" ").slice(0, 200)}` : "");
  return {
    kind: "announce_exabgp",
    target: exabgpTarget(backend),
    async read(signal) {
      const answer = await call(exabgpReadCommand, signal);
      if (answer.outcome !== "done") throw new RetryableError(`ExaBGP ${exabgpReadCommand}: ${answer.outcome}${said(answer)}`);
      return parseExabgpAdjRibOut(answer.lines);
    },
    plan(desired, actual) {
      return planExabgp(desired, actual).map(
        (command): Action => ({
          kind: "exabgp",
          describe: () => `write ${JSON.stringify(command)} to ${backend.pipeIn}`,
          async apply(signal) {
            const answer = await call(command, signal);
            // `error`: ExaBGP could not parse it or has no neighbor for it (its log says which).
            if (answer.outcome !== "done") throw new RetryableError(`ExaBGP ${command}: ${answer.outcome}${said(answer)} (see ExaBGP's log)`);
          },
        }),
      );
    },
  };
}
