/**
 * The RFC 2136 provider (docs/dns-failover.md §RFC 2136): reads a name's A and AAAA records with
 * plain queries to the primary and changes them with one UPDATE per call (adds as class IN,
 * deletes of one record as class NONE, TTL 0), TSIG-signed when a key is configured.
 */
import { RetryableError } from "../reconcile/action.ts";
import type { Rfc2136Provider } from "./config.ts";
import { describeChange, type DnsRecord, type RecordChange, type RecordType } from "./plan.ts";
import type { DnsProviderClient } from "./provider.ts";
import { exchange, type ExchangeOptions } from "./transport.ts";
import type { TsigKey } from "./tsig.ts";
import { addressData, addressOf, OPCODE, rcodeName, RR_CLASS, RR_TYPE, sameName, type DecodedMessage, type ResourceRecord } from "./wire.ts";

/** The server said no for a reason another try will not change (NOTAUTH, REFUSED, NOTZONE…). */
export class DnsRefusedError extends Error {
  override name = "DnsRefusedError";
}

export interface Rfc2136Client extends DnsProviderClient {
  /** One UPDATE with every change, applied by the server all or nothing. */
  update(name: string, changes: readonly RecordChange[], signal: AbortSignal): Promise<void>;
}

export function tsigKeyOf(provider: Rfc2136Provider): TsigKey | undefined {
  return provider.tsig ? { name: provider.tsig.keyName, algorithm: provider.tsig.algorithm, secret: Buffer.from(provider.tsig.secretBase64, "base64") } : undefined;
}

/** SERVFAIL (the server could not now) is worth another try; other errors are final. */
function rcodeError(what: string, response: DecodedMessage): Error {
  const message = `${what}: ${rcodeName(response.rcode)}`;
  return response.rcode === 2 ? new RetryableError(message) : new DnsRefusedError(message);
}

const typeCode: Record<RecordType, number> = { A: RR_TYPE.A, AAAA: RR_TYPE.AAAA };

export function createRfc2136Client(provider: Rfc2136Provider, options: { nowS?: () => number; tcpOnly?: boolean } = {}): Rfc2136Client {
  const tsig = tsigKeyOf(provider);
  const exchangeOptions = (signal: AbortSignal): ExchangeOptions => ({
    server: provider.server,
    signal,
    ...(tsig ? { tsig } : {}),
    ...(options.nowS ? { nowS: options.nowS } : {}),
    ...(options.tcpOnly ? { tcpOnly: true } : {}),
  });
  const header = { qr: false, aa: false, tc: false, rd: false, ra: false, rcode: 0 };

  async function query(name: string, type: RecordType, signal: AbortSignal): Promise<DnsRecord[]> {
    const { response } = await exchange(
      { ...header, opcode: OPCODE.QUERY, questions: [{ name, type: typeCode[type], class: RR_CLASS.IN }], answers: [], authorities: [], additionals: [] },
      exchangeOptions(signal),
    );
    const what = `query ${name} ${type} at ${provider.server.text}`;
    if (response.rcode !== 0 && response.rcode !== 3) throw rcodeError(what, response);
    // The primary must answer from its own data: another server's cached view is no read-back.
    if (!response.aa) throw new DnsRefusedError(`${what}: the answer is not authoritative (is ${provider.server.text} the primary of ${provider.zone}?)`);
    const own = response.answers.filter((rr) => sameName(rr.name, name) && rr.class === RR_CLASS.IN);
    if (own.some((rr) => rr.type === RR_TYPE.CNAME)) throw new DnsRefusedError(`${what}: ${name} is a CNAME; only A/AAAA names can be managed`);
    return own.filter((rr) => rr.type === typeCode[type]).flatMap((rr): DnsRecord[] => {
      const address = addressOf(rr);
      return address === undefined ? [] : [{ type, address, ttlS: rr.ttl }];
    });
  }

  const client: Rfc2136Client = {
    async read(name, signal) {
      const [a, aaaa] = await Promise.all([query(name, "A", signal), query(name, "AAAA", signal)]);
      return [...a, ...aaaa];
    },
    async update(name, changes, signal) {
      const updates = changes.map(
        (change): ResourceRecord => ({
          name,
          type: typeCode[change.type],
          class: change.action === "add" ? RR_CLASS.IN : RR_CLASS.NONE,
          ttl: change.action === "add" ? change.ttlS : 0,
          data: addressData(change.address),
        }),
      );
      const { response } = await exchange(
        { ...header, opcode: OPCODE.UPDATE, questions: [{ name: provider.zone, type: RR_TYPE.SOA, class: RR_CLASS.IN }], answers: [], authorities: updates, additionals: [] },
        exchangeOptions(signal),
      );
      if (response.rcode !== 0) throw rcodeError(`update ${name} in ${provider.zone} at ${provider.server.text}`, response);
    },
    // One UPDATE for every change: the server applies it whole, so the name never passes through an empty state.
    steps: (name, changes) => [
      {
        changes,
        action: {
          kind: "dns.update",
          describe: () => `UPDATE zone ${provider.zone}. at ${provider.server.text}: ${changes.map((c) => describeChange(name, c)).join("; ")}`,
          apply: (signal) => client.update(name, changes, signal),
        },
      },
    ],
  };
  return client;
}
