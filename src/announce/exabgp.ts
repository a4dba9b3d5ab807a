/**
 * ExaBGP 4 through its named-pipe API, pure (docs/announce.md §ExaBGP): the answer of
 * `show adj-rib out` → the unicast prefixes ExaBGP announces, per neighbor; desired vs actual →
 * one `announce route` / `withdraw route` command per prefix to change. Only prefixes of the
 * allow-list (the desired list) are ever named; routes from ExaBGP's own config file or from
 * other API processes stay as they are.
 */
import type { DesiredPrefix } from "./decide.ts";
import type { FrrNetwork } from "./frr.ts";
import type { Family } from "./model.ts";
import { parseAnnouncePrefix } from "./schema.ts";

/** The read: every neighbor's Adj-RIB-Out, one line per route. */
export const exabgpReadCommand = "show adj-rib out";

export interface ExabgpActual {
  /** Every unicast prefix that at least one neighbor's Adj-RIB-Out holds. */
  readonly networks: ReadonlyMap<string, FrrNetwork>;
  /** Of those, the prefixes some neighbor of the same family lacks (one that came with a config reload). */
  readonly partial: ReadonlySet<string>;
}

/**
 * `neighbor 10.0.0.2 ipv4 unicast 192.0.2.10/32 next-hop self` (the form `show adj-rib out` prints
 * without `extensive`) → prefixes by neighbor. Other families (flow, mpls-vpn, …) and lines that
 * are not routes are skipped. A neighbor counts for a family once it holds any route of it.
 */
export function parseExabgpAdjRibOut(lines: readonly string[]): ExabgpActual {
  const holders = new Map<string, { family: Family; neighbors: Set<string> }>();
  const neighbors = new Map<Family, Set<string>>([
    [4, new Set()],
    [6, new Set()],
  ]);
  for (const line of lines) {
    const route = /^neighbor (\S+) (ipv4|ipv6) unicast (\S+)(?:\s|$)/.exec(line.trim());
    if (!route) continue;
    const family: Family = route[2] === "ipv4" ? 4 : 6;
    const parsed = parseAnnouncePrefix(route[3]!.includes("/") ? route[3]! : `${route[3]}/${family === 4 ? 32 : 128}`);
    if (!parsed.ok || parsed.value.family !== family) continue;
    neighbors.get(family)!.add(route[1]!);
    const entry = holders.get(parsed.value.prefix) ?? { family, neighbors: new Set<string>() };
    entry.neighbors.add(route[1]!);
    holders.set(parsed.value.prefix, entry);
  }
  const networks = new Map<string, FrrNetwork>();
  const partial = new Set<string>();
  for (const [prefix, { family, neighbors: held }] of holders) {
    networks.set(prefix, { family });
    if (held.size < neighbors.get(family)!.size) partial.add(prefix);
  }
  return { networks, partial };
}

/** ExaBGP sends it to every neighbor configured for the prefix's family, with our address as next hop. */
export function exabgpAnnounceCommand(prefix: string): string {
  return `announce route ${prefix} next-hop self`;
}

export function exabgpWithdrawCommand(prefix: string): string {
  return `withdraw route ${prefix}`;
}

/** An announce where no neighbor has the prefix or one lacks it; a withdraw where any has it. */
export function planExabgp(desired: readonly DesiredPrefix[], actual: ExabgpActual): string[] {
  const commands: string[] = [];
  for (const want of desired) {
    const have = actual.networks.has(want.prefix);
    if (want.announce && (!have || actual.partial.has(want.prefix))) commands.push(exabgpAnnounceCommand(want.prefix));
    else if (!want.announce && have) commands.push(exabgpWithdrawCommand(want.prefix));
  }
  return commands;
}

/** How ExaBGP ends an answer (exabgp.api.ack, on by default): `done`, `error`, or `shutdown` while it stops. */
export type ExabgpOutcome = "done" | "error" | "shutdown";

export interface ExabgpAnswer {
  readonly outcome: ExabgpOutcome;
  /** The lines before the end line (blank ones left out). */
  readonly lines: readonly string[];
  /** Set when the answer was longer than the scanner's limit: its lines past the limit were counted, not kept. */
  readonly overLimit?: true;
}

const endLines: ReadonlySet<string> = new Set(["done", "error", "shutdown"]);

/**
 * The answer pipe's text, chunk by chunk → answers in the order they end. Each character is
 * looked at once (a long answer read in many small chunks costs its length, not its length
 * squared); lines past `maxChars` of one answer are counted and dropped, so memory stays bounded
 * while the answer is still read to its end line.
 */
export class ExabgpAnswerScanner {
  private partial = "";
  /** The unfinished line is past the limit (dropped): it cannot be an end line. */
  private partialLong = false;
  private lines: string[] = [];
  private kept = 0;
  private overLimit = false;

  constructor(private readonly maxChars = Number.POSITIVE_INFINITY) {}

  /** The answers that ended within `text`, in order. */
  push(text: string): ExabgpAnswer[] {
    const answers: ExabgpAnswer[] = [];
    let from = 0;
    for (let newline = text.indexOf("\n"); newline >= 0; newline = text.indexOf("\n", from)) {
      const piece = text.slice(from, newline);
      const long = this.partialLong || this.partial.length + piece.length > this.maxChars;
      const line = long ? "" : this.partial + piece;
      this.partial = "";
      this.partialLong = false;
      from = newline + 1;
      const trimmed = line.trim();
      if (!long && endLines.has(trimmed)) {
        answers.push({ outcome: trimmed as ExabgpOutcome, lines: this.lines, ...(this.overLimit ? { overLimit: true as const } : {}) });
        this.lines = [];
        this.kept = 0;
        this.overLimit = false;
      } else if (long || this.kept + line.length > this.maxChars) {
        this.overLimit = true;
      } else if (trimmed !== "") {
        this.lines.push(line);
        this.kept += line.length;
      }
    }
    const rest = text.slice(from);
    if (this.partialLong || this.partial.length + rest.length > this.maxChars) {
      this.partial = "";
      this.partialLong = true;
    } else {
      this.partial += rest;
    }
    return answers;
  }

  /** Something came after the last end line: part of an answer still under way. */
  get midAnswer(): boolean {
    return this.partial !== "" || this.partialLong || this.lines.length > 0 || this.overLimit;
  }
}

/** The text read from the answer pipe so far → the first answer once its end line came, else undefined. */
export function parseExabgpAnswer(text: string): ExabgpAnswer | undefined {
  return new ExabgpAnswerScanner().push(text)[0];
}

/**
 * Why `answer` cannot be ExaBGP's answer to `command`, or undefined: an announce or withdraw is
 * answered by its end line alone; every line of `show adj-rib out` is a route, `neighbor <address>
 * <afi> <safi> <nlri>` (unicast or not: flow or VPN routes of exabgp.conf are listed too). A
 * mismatch means the answer belongs to another command — the pipes are out of step. Commands
 * vpnham does not send are not checked.
 */
export function exabgpAnswerMismatch(command: string, answer: ExabgpAnswer): string | undefined {
  const first = answer.lines[0]?.trim().slice(0, 100);
  if (/^(announce|withdraw) /.test(command) && answer.lines.length > 0) return `${answer.lines.length} line(s) came with it (${first})`;
  if (command === exabgpReadCommand) {
    const odd = answer.lines.find((line) => !/^neighbor \S+ \S+ \S+ \S/.test(line.trim()));
    if (odd !== undefined) return `a line that is not a route came with it (${odd.trim().slice(0, 100)})`;
  }
  return undefined;
}

/**
 * Where the pipe client stands with answers that are not its own (docs/announce.md §ExaBGP):
 * ExaBGP answers vpnham's commands in the order they came (announce, withdraw and show are all
 * queued behind each other), and its cli relay keeps an answer nobody read until the next reader
 * comes, sending it ahead of that reader's own.
 */
export interface ExabgpPipeState {
  /** End lines still to come for own commands whose answer was cut short: skipped at the next exchange. */
  readonly owed: number;
  /** Answers of unknown number may come (at the start, after a mismatch): read away until the pipe settles, before the next command. */
  readonly unsure: boolean;
}

/** At the start a killed vpnham or an interrupted exabgpcli may have left an answer with the relay. */
export const exabgpPipeStart: ExabgpPipeState = { owed: 0, unsure: true };

export type ExabgpPipeEvent =
  /** The answer pipe stayed quiet for the settle time: whatever the relay kept has come and gone. */
  | { readonly kind: "settled" }
  /** Nothing reads the command pipe: the relay has gone, and what it kept with it. */
  | { readonly kind: "not_running" }
  /** Our answer came, after the owed ones, in the right shape and nothing after it. */
  | { readonly kind: "answered" }
  /** The exchange ended (timeout, abort) after the command was written, before its answer came; `owed` was owed at its start. */
  | { readonly kind: "cut_short"; readonly owed: number }
  /** An answer of the wrong shape, or more after ours: some answer was not counted. */
  | { readonly kind: "out_of_step" };

export function nextExabgpPipeState(event: ExabgpPipeEvent): ExabgpPipeState {
  switch (event.kind) {
    case "settled":
    case "not_running":
    case "answered":
      return { owed: 0, unsure: false };
    case "cut_short":
      // A count that did not come true — answers lost with an ExaBGP restart between two
      // exchanges, or read by another client — would have every later exchange skip its own
      // answer and wait for one that never comes: a second cut-short exchange reads away instead.
      return event.owed > 0 ? { owed: 0, unsure: true } : { owed: 1, unsure: false };
    case "out_of_step":
      return { owed: 0, unsure: true };
  }
}
