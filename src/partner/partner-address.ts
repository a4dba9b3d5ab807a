/**
 * The partner's addresses, for the status server's reserved capacity (docs/hardening.md,
 * "Connections and floods on the HTTP ports"): its polls come from the address it serves
 * on, partner_url's host. An IP literal is used as it is; a name is looked up once in the
 * background (until then, and if the lookup fails, the partner has no reserved capacity).
 */
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { normalizeAddress } from "../http/admission.ts";
import { logger } from "../util/log.ts";
import { errorMessage } from "../util/errors.ts";

const log = logger.withTag("partner");

/** partner_url's host when it is an IP literal (normalized), else undefined. */
export function literalPartnerAddress(partnerUrl: string): string | undefined {
  let hostname: string;
  try {
    hostname = new URL(partnerUrl).hostname;
  } catch {
    return undefined;
  }
  const address = normalizeAddress(hostname);
  return isIP(address) === 0 ? undefined : address;
}

export type LookupAll = (hostname: string) => Promise<readonly string[]>;

const lookupAll: LookupAll = async (hostname) => (await lookup(hostname, { all: true })).map((entry) => entry.address);

/** A test for "is this (normalized) address the partner's?", filled in the background for a name. */
export function partnerAddresses(partnerUrl: string, resolve: LookupAll = lookupAll): { isPartner: (address: string) => boolean; ready: Promise<void> } {
  const addresses = new Set<string>();
  const isPartner = (address: string): boolean => addresses.has(address);
  const literal = literalPartnerAddress(partnerUrl);
  if (literal !== undefined) {
    addresses.add(literal);
    return { isPartner, ready: Promise.resolve() };
  }
  let hostname = "";
  try {
    hostname = new URL(partnerUrl).hostname;
  } catch {
    return { isPartner, ready: Promise.resolve() };
  }
  const ready = resolve(hostname).then(
    (found) => {
      for (const address of found) addresses.add(normalizeAddress(address));
    },
    (error: unknown) => log.warn("partner_url's host not resolved: its polls get no reserved connections", { host: hostname, error: errorMessage(error) }),
  );
  return { isPartner, ready };
}
