/**
 * ExaBGP API round trips (docs/announce.md §ExaBGP), as root with ExaBGP and BIRD: ExaBGP and its
 * BIRD peer in namespaces (test/announce/exabgp-netns.ts). Times one command with its answer
 * over the named pipes, as vpnham's backend sends it, against the same command by exabgpcli
 * (a Python process per command, what a cron script or a shell wrapper would run).
 *
 *   bun bench/announce-exabgp.ts [--rounds 20]
 */
import { exabgpPipeClient } from "../src/announce/exabgp-pipe.ts";
import { waitFor } from "../src/util/wait.ts";
import { exabgpUnavailable, startExabgpPeer } from "../test/announce/exabgp-netns.ts";
import { formatMs, summarize } from "./lib/stats.ts";

const say = (line = ""): void => void process.stdout.write(`${line}\n`);
const i = process.argv.indexOf("--rounds");
const rounds = i >= 0 ? Number(process.argv[i + 1]) : 20;

const why = exabgpUnavailable();
if (why) {
  say(`skipped: ${why}`);
  process.exit(0);
}

const peer = await startExabgpPeer("203.0.113.0/24");
try {
  await waitFor(async () => (await peer.ribF(4)).includes("203.0.113.0/24"), { timeoutMs: 30_000, intervalMs: 100, what: "the eBGP session" });
  const call = exabgpPipeClient({ kind: "exabgp", pipeIn: peer.pipeIn, pipeOut: peer.pipeOut });
  const never = new AbortController().signal;
  // The first call reads the answer pipe empty (1.2 s, docs/announce.md §ExaBGP): not a round trip.
  await call("show adj-rib out", never);
  const timed = async (run: () => Promise<unknown>) => {
    const start = performance.now();
    await run();
    return performance.now() - start;
  };
  const rows: [string, number[]][] = [
    ["pipes: show adj-rib out", []],
    ["pipes: announce + withdraw route", []],
    ["exabgpcli: show adj-rib out", []],
  ];
  for (let round = 0; round < rounds; round++) {
    rows[0]![1].push(await timed(() => call("show adj-rib out", never)));
    rows[1]![1].push(await timed(async () => (await call("announce route 192.0.2.40/32 next-hop self", never), await call("withdraw route 192.0.2.40/32", never))));
    rows[2]![1].push(await timed(() => peer.exabgpcli("show", "adj-rib", "out")));
  }
  say(`${rounds} rounds, ExaBGP ${(await call("version", never)).lines.join(" ")}`);
  say("| | min | median | max |");
  say("|---|---|---|---|");
  for (const [name, values] of rows) {
    const s = summarize(values)!;
    say(`| ${name} | ${formatMs(s.min)} | ${formatMs(s.median)} | ${formatMs(s.max)} |`);
  }
} finally {
  peer.teardown();
}
