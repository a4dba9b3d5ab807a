/**
 * ExaBGP's cli relay behind real named pipes, with an in-memory Adj-RIB-Out: what ExaBGP 4.2's
 * control process (exabgp/application/control.py) does (docs/announce.md §ExaBGP) — it holds the
 * command pipe open read-write, takes one command per line, and writes each answer line by
 * opening the answer pipe non-blocking. A line nobody reads is kept, and so is every line after
 * it: the relay tries again only when it wakes — a command comes in, ExaBGP writes more, or its
 * poll times out (1 s, plus 50 ms after a failed open) — so a kept answer reaches the next reader
 * first, ahead of that reader's own. Answers are ExaBGP's: `show adj-rib out` lines as the real
 * one prints them (test/announce/fixtures/exabgp-adj-rib-out.txt), `done`, `error` for what it
 * does not know. For the pipe client's unit tests; exabgp-live.test.ts has the real one.
 */
import { execFileSync } from "node:child_process";
import { closeSync, constants, openSync, readSync, writeSync } from "node:fs";
import { join } from "node:path";

export interface FakeExabgp {
  readonly pipeIn: string;
  readonly pipeOut: string;
  /** neighbor address → its family and the prefixes it announces. */
  readonly rib: Map<string, { family: 4 | 6; prefixes: Set<string> }>;
  /** Every command line received. */
  readonly commands: string[];
  /** While set, ExaBGP answers nothing (a slow ExaBGP); `release()` lets the answers go, late. */
  hold: boolean;
  release(): void;
  /** As if ExaBGP restarted between two exchanges: every answer held back or kept is gone. */
  forget(): void;
  /** Closes the command pipe: from now on nothing reads it, as with ExaBGP stopped. */
  stop(): void;
}

export interface FakeExabgpOptions {
  /** The relay's poll timeout: how long a kept line waits when nothing wakes the relay; default 1000 ms (ExaBGP's). */
  readonly relayPollMs?: number;
}

const familyOf = (prefix: string): 4 | 6 => (prefix.includes(":") ? 6 : 4);

/** Another client's command that nobody reads the answer of: an exabgpcli interrupted, a vpnham killed mid-command. */
export function writeUnread(pipeIn: string, command: string): void {
  const fd = openSync(pipeIn, constants.O_WRONLY | constants.O_NONBLOCK);
  try {
    writeSync(fd, `${command}\n`);
  } finally {
    closeSync(fd);
  }
}

export function startFakeExabgp(
  dir: string,
  neighbors: Record<string, { family: 4 | 6; prefixes?: string[] }>,
  name = "exabgp",
  options: FakeExabgpOptions = {},
): FakeExabgp {
  const relayPollMs = options.relayPollMs ?? 1000;
  const pipeIn = join(dir, `${name}.in`);
  const pipeOut = join(dir, `${name}.out`);
  execFileSync("mkfifo", [pipeIn, pipeOut]);
  const input = openSync(pipeIn, constants.O_RDWR | constants.O_NONBLOCK);
  /** The relay's store: lines ExaBGP wrote, in order, not yet delivered. */
  const store: string[] = [];
  const held: string[] = [];
  let wake = false;
  let nextTry = 0;
  let received = "";
  const buffer = Buffer.alloc(4096);

  const answer = (command: string): string[] => {
    if (command === "show adj-rib out") {
      const lines = [...fake.rib].flatMap(([address, n]) => [...n.prefixes].map((p) => `neighbor ${address} ipv${n.family} unicast ${p} next-hop self`));
      return [...lines, "done"];
    }
    const route = /^(announce|withdraw) route (\S+)/.exec(command);
    if (!route || fake.rib.size === 0) return ["error"];
    for (const n of fake.rib.values()) {
      if (n.family !== familyOf(route[2]!)) continue;
      if (route[1] === "announce") n.prefixes.add(route[2]!);
      else n.prefixes.delete(route[2]!);
    }
    return ["done"];
  };

  /** One pass of the relay's loop: what woke it, then its kept lines in order until one cannot go. */
  const tick = () => {
    for (;;) {
      let n = 0;
      try {
        n = readSync(input, buffer, 0, buffer.length, null);
      } catch {
        break; // EAGAIN: nothing more now
      }
      if (n === 0) break;
      wake = true;
      received += buffer.subarray(0, n).toString();
    }
    let newline: number;
    while ((newline = received.indexOf("\n")) >= 0) {
      const command = received.slice(0, newline).trim();
      received = received.slice(newline + 1);
      fake.commands.push(command);
      (fake.hold ? held : store).push(...answer(command));
    }
    if (!wake && Date.now() < nextTry) return;
    wake = false;
    nextTry = Date.now() + relayPollMs;
    while (store.length > 0) {
      let out: number;
      try {
        out = openSync(pipeOut, constants.O_WRONLY | constants.O_NONBLOCK);
      } catch {
        nextTry += 50; // ENXIO: no reader; the relay sleeps 50 ms, then polls again
        return;
      }
      try {
        writeSync(out, `${store[0]}\n`);
        store.shift();
      } catch {
        return; // EAGAIN: the reader is slow; the line waits
      } finally {
        closeSync(out);
      }
    }
  };
  const timer = setInterval(tick, 5);
  let stopped = false;

  const fake: FakeExabgp = {
    pipeIn,
    pipeOut,
    rib: new Map(Object.entries(neighbors).map(([address, n]) => [address, { family: n.family, prefixes: new Set(n.prefixes ?? []) }])),
    commands: [],
    hold: false,
    release() {
      fake.hold = false;
      store.push(...held.splice(0));
      wake = true; // ExaBGP writing to the relay wakes it
    },
    forget() {
      held.length = 0;
      store.length = 0;
    },
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      closeSync(input);
    },
  };
  return fake;
}
