/**
 * The BIRD 2 collector (docs/collectors.md §BIRD): on BIRD's control socket — no birdc process —
 * it first restricts the session to read-only commands (`restrict`, as `birdc -r` does), then
 * reads `show status` (BIRD's clock, for the session ages) and `show protocols all`.
 */
import type { BirdConfig } from "../schema.ts";
import { bgpCompatFamilies, bgpCompatSamples } from "../compat.ts";
import type { Collector, Sample } from "../types.ts";
import { queryBird } from "./client.ts";
import { parseBirdProtocols, parseServerTime, type BirdReply } from "./parse.ts";
import { birdFamilies, birdSamples, localClock } from "./samples.ts";

export const BIRD_COMMANDS = ["restrict", "show status", "show protocols all"] as const;
/** BIRD's answer to `restrict`: 0016 Access restricted. */
const RESTRICTED_CODE = 16;

const failed = (reply: BirdReply) => reply.code < 0 || reply.code >= 8000;
const text = (reply: BirdReply) => reply.lines.join(" ").trim().slice(0, 160);

/** The three replies → samples; throws when BIRD refused a command. Pure but for the clock. */
export function birdCollection(replies: readonly BirdReply[], nowMs: number = Date.now()): Sample[] {
  const [restrict, status, protocols] = replies;
  if (!restrict || restrict.code !== RESTRICTED_CODE) throw new Error(`BIRD refused a read-only session: ${restrict ? text(restrict) : "no answer"}`);
  if (!status || failed(status)) throw new Error(`show status: ${status ? text(status) : "no answer"}`);
  if (!protocols || failed(protocols)) throw new Error(`show protocols all: ${protocols ? text(protocols) : "no answer"}`);
  return birdSamples(parseBirdProtocols(protocols.lines), parseServerTime(status.lines), localClock(nowMs));
}

export function createBirdCollector(config: BirdConfig, options: { compatNames?: boolean } = {}): Collector {
  return {
    name: "bird",
    families: options.compatNames ? [...birdFamilies, ...bgpCompatFamilies] : birdFamilies,
    async collect(signal): Promise<readonly Sample[]> {
      const samples = birdCollection(await queryBird(config.socketPath, BIRD_COMMANDS, { signal }));
      return options.compatNames ? [...samples, ...bgpCompatSamples(samples)] : samples;
    },
  };
}
