/**
 * ExaBGP's cli relay behind real named pipes, with an in-memory Adj-RIB-Out: what ExaBGP 4.2's
 * control process does (docs/announce.md §ExaBGP) — it holds the command pipe open read-write,
 * takes one command per line, and writes each answer line by opening the answer pipe
 * non-blocking, keeping the line while nobody reads it. Answers are ExaBGP's: `show adj-rib out`
 * lines as the real one prints them (test/announce/fixtures/exabgp-adj-rib-out.txt), `done`,
 * `error` for what it does not know. For the pipe client's unit tests; exabgp-live.test.ts has
 * the real one.
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
  /** While set, answers are held back; `release()` lets them go (late). */
  hold: boolean;
  release(): void;
  /** Closes the command pipe: from now on nothing reads it, as with ExaBGP stopped. */
  stop(): void;
}

const familyOf = (prefix: string): 4 | 6 => (prefix.includes(":") ? 6 : 4);

export function startFakeExabgp(dir: string, neighbors: Record<string, { family: 4 | 6; prefixes?: string[] }>, name = "exabgp"): FakeExabgp {
  const pipeIn = join(dir, `${name}.in`);
  const pipeOut = join(dir, `${name}.out`);
  execFileSync("mkfifo", [pipeIn, pipeOut]);
  const input = openSync(pipeIn, constants.O_RDWR | constants.O_NONBLOCK);
  const pending: string[] = [];
  const held: string[] = [];
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

  const tick = () => {
    for (;;) {
      let n = 0;
      try {
        n = readSync(input, buffer, 0, buffer.length, null);
      } catch {
        break; // EAGAIN: nothing more now
      }
      if (n === 0) break;
      received += buffer.subarray(0, n).toString();
    }
    let newline: number;
    while ((newline = received.indexOf("\n")) >= 0) {
      const command = received.slice(0, newline).trim();
      received = received.slice(newline + 1);
      fake.commands.push(command);
      (fake.hold ? held : pending).push(...answer(command));
    }
    while (pending.length > 0) {
      let out: number;
      try {
        out = openSync(pipeOut, constants.O_WRONLY | constants.O_NONBLOCK);
      } catch {
        return; // ENXIO: no reader yet; the line waits
      }
      writeSync(out, `${pending.shift()}\n`);
      closeSync(out);
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
      pending.push(...held.splice(0));
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
