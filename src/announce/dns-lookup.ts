/**
 * DNS lookups of the announce job, at the edge (docs/announce.md §Drain, §DNS names): the
 * system resolver (getaddrinfo, A and AAAA) or a given server (`resolver: ip[:port]`), always
 * bounded by a timeout — the system resolver takes no signal, so a race bounds it.
 */
import { lookup, Resolver } from "node:dns/promises";
import { errorMessage } from "../util/errors.ts";

/** A DNS name → its addresses (A and AAAA). */
export type ResolveName = (name: string, signal: AbortSignal) => Promise<string[]>;

export async function systemResolve(name: string): Promise<string[]> {
  return (await lookup(name, { all: true, verbatim: true })).map((a) => a.address);
}

/** A and AAAA asked of one server ("192.0.2.53", "192.0.2.53:5353", "[2001:db8::53]:53"). */
export function serverResolve(server: string, timeoutMs: number): ResolveName {
  return async (name) => {
    const resolver = new Resolver({ timeout: timeoutMs, tries: 1 });
    resolver.setServers([server]);
    const noData = (error: unknown): string[] => {
      const code = (error as { code?: string }).code;
      if (code === "ENODATA" || code === "ENOTFOUND") return [];
      throw error;
    };
    const [v4, v6] = await Promise.all([resolver.resolve4(name).catch(noData), resolver.resolve6(name).catch(noData)]);
    return [...v4, ...v6];
  };
}

/** `resolveName(name)`, rejected after `timeoutMs` if it has not answered. */
export async function boundedResolve(resolveName: ResolveName, name: string, timeoutMs: number): Promise<string[]> {
  const signal = AbortSignal.timeout(timeoutMs);
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      resolveName(name, signal),
      new Promise<never>((_, reject) => {
        onAbort = () => reject(new Error(`no answer within ${timeoutMs} ms`));
        signal.addEventListener("abort", onAbort, { once: true });
      }),
    ]);
  } catch (error) {
    throw new Error(errorMessage(error));
  } finally {
    if (onAbort) signal.removeEventListener("abort", onAbort);
  }
}
