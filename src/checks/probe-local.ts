/**
 * The probes that run on this host: icmp (the system `ping`), exec, ipvs, bridge_active
 * (docs/checks.md §Kinds). Commands go through the hooks' process-group runner, so a timeout
 * kills the whole group; results are judged by the pure functions below.
 */
import { readFile } from "node:fs/promises";
import { runCommand } from "../hooks/run-command.ts";
import type { CommandResult } from "../hooks/types.ts";
import { errorMessage } from "../util/errors.ts";
import { activeRealServers, parseIpvs } from "./ipvs.ts";
import { formatIpvsService, type IpvsService } from "./targets.ts";
import type { Sample } from "./verdict.ts";

/** Output kept per stream: enough for a one-line reason. */
const maxOutputBytes = 4096;
/** SIGTERM → SIGKILL grace for a timed-out check command (the verdict does not wait for it). */
const killGraceMs = 250;

export type CommandRunner = typeof runCommand;

function firstLine(text: string): string {
  const line = text.split("\n").find((l) => l.trim() !== "") ?? "";
  return line.length > 200 ? `${line.slice(0, 197)}...` : line.trim();
}

/** A finished command → sample. `exitReason` names a non-zero exit (icmp: exit 1 = no reply). */
export function commandSample(result: CommandResult, exitReason: (code: number) => "exit" | "no_reply"): Sample {
  if (result.error !== undefined) return { ok: false, reason: "spawn", detail: `${result.argv[0] ?? ""}: ${result.error}` };
  if (result.timedOut || result.aborted) return { ok: false, reason: "timeout", detail: "no answer in time" };
  if (result.exitCode === 0) return { ok: true };
  if (result.exitCode === null) return { ok: false, reason: "signal", detail: `killed by ${result.signal ?? "a signal"}` };
  const said = firstLine(result.stderr) || firstLine(result.stdout);
  return { ok: false, reason: exitReason(result.exitCode), detail: `exit ${result.exitCode}${said ? `: ${said}` : ""}` };
}

/** `ping -c 1 -W <s> -n <host>`: -W takes whole seconds in every ping; the runner enforces the real timeout. */
export function pingArgv(host: string, timeoutMs: number): string[] {
  return ["ping", "-c", "1", "-W", String(Math.max(1, Math.ceil(timeoutMs / 1000))), "-n", host];
}

export async function probeIcmp(host: string, timeoutMs: number, signal: AbortSignal, run: CommandRunner = runCommand): Promise<Sample> {
  const result = await run(pingArgv(host, timeoutMs), {
    timeoutMs,
    env: { ...process.env, LC_ALL: "C" },
    maxOutputBytes,
    killGraceMs,
    signal,
  });
  if (result.error === "ENOENT") return { ok: false, reason: "spawn", detail: "ping not found (install iputils-ping)" };
  // iputils ping: exit 1 = no reply, 2 = any other error (unknown host, no permission for the socket).
  return commandSample(result, (code) => (code === 1 ? "no_reply" : "exit"));
}

export async function probeExec(
  command: readonly string[],
  env: Record<string, string | undefined>,
  timeoutMs: number,
  signal: AbortSignal,
  run: CommandRunner = runCommand,
): Promise<Sample> {
  const result = await run(command, { timeoutMs, env, maxOutputBytes, killGraceMs, signal });
  return commandSample(result, () => "exit");
}

/** Judges an ip_vs table (pure). */
export function ipvsSample(text: string, service: IpvsService, minServers: number): Sample {
  const active = activeRealServers(parseIpvs(text), service);
  if (active === undefined) return { ok: false, reason: "not_found", detail: `${formatIpvsService(service)} is not an IPVS virtual service` };
  if (active < minServers) {
    return { ok: false, reason: "servers", detail: `${formatIpvsService(service)} has ${active} real servers with weight > 0, needs ${minServers}` };
  }
  return { ok: true };
}

export async function probeIpvs(path: string, service: IpvsService, minServers: number, signal: AbortSignal): Promise<Sample> {
  let text: string;
  try {
    text = await readFile(path, { encoding: "utf8", signal });
  } catch (error) {
    if (signal.aborted) return { ok: false, reason: "timeout", detail: "no answer in time" };
    const code = (error as { code?: unknown } | null)?.code;
    return { ok: false, reason: "read", detail: `${path}: ${typeof code === "string" ? code : errorMessage(error)}` };
  }
  return ipvsSample(text, service, minServers);
}

/** `bridgeActive` comes from the daemon: true/false, or undefined when no such bridge runs. */
export function bridgeSample(bridge: string, bridgeActive: (bridge: string) => boolean | undefined): Sample {
  const active = bridgeActive(bridge);
  if (active === undefined) return { ok: false, reason: "unknown_bridge", detail: `no bridge ${JSON.stringify(bridge)} is running` };
  return active ? { ok: true } : { ok: false, reason: "inactive", detail: `bridge ${JSON.stringify(bridge)} is not active` };
}
