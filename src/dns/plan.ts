/**
 * The plan of one name's records, pure (docs/dns-failover.md §Safety): what DNS holds (read) and
 * the name's target (decide.ts) give the records to add and delete. A record set of one type (A or
 * AAAA) that holds something is never emptied: those deletions are dropped and reported as
 * *kept* (fail open). Records of addresses not configured for the name are never touched.
 */
export type RecordType = "A" | "AAAA";

export interface DnsRecord {
  readonly type: RecordType;
  /** Canonical text (formatIp). */
  readonly address: string;
  readonly ttlS: number;
  /** The provider's id of the record, when it has one (Cloudflare). */
  readonly id?: string;
}

export interface NameDesired {
  /** Fully qualified, lower case, no trailing dot. */
  readonly name: string;
  readonly ttlS: number;
  /** Configured addresses of the name that must be in DNS / must not be; others are left alone. */
  readonly present: readonly string[];
  readonly absent: readonly string[];
}

export interface RecordChange {
  readonly action: "add" | "delete";
  readonly type: RecordType;
  readonly address: string;
  readonly ttlS: number;
  /** An add that only corrects the TTL of a record that is there (its old TTL). */
  readonly fromTtlS?: number;
}

export interface RecordPlan {
  /** Adds first, then deletes, in the order of the target's lists. */
  readonly changes: readonly RecordChange[];
  /** Deletions left out because they would have emptied the record set of that type. */
  readonly kept: readonly { readonly type: RecordType; readonly addresses: readonly string[] }[];
}

export const recordTypeOf = (address: string): RecordType => (address.includes(":") ? "AAAA" : "A");

export function planRecords(desired: NameDesired, actual: readonly DnsRecord[]): RecordPlan {
  const adds: RecordChange[] = [];
  const deletes: RecordChange[] = [];
  const kept: { type: RecordType; addresses: string[] }[] = [];
  for (const type of ["A", "AAAA"] as const) {
    const have = new Map(actual.filter((record) => record.type === type).map((record) => [record.address, record.ttlS]));
    const present = desired.present.filter((address) => recordTypeOf(address) === type);
    const absent = desired.absent.filter((address) => recordTypeOf(address) === type && have.has(address));
    const typeAdds: RecordChange[] = [];
    for (const address of present) {
      const ttl = have.get(address);
      if (ttl === undefined) typeAdds.push({ action: "add", type, address, ttlS: desired.ttlS });
      else if (ttl !== desired.ttlS) typeAdds.push({ action: "add", type, address, ttlS: desired.ttlS, fromTtlS: ttl });
    }
    const remaining = [...have.keys()].filter((address) => !absent.includes(address)).length + typeAdds.filter((c) => c.fromTtlS === undefined).length;
    if (remaining === 0 && absent.length > 0) kept.push({ type, addresses: absent });
    else deletes.push(...absent.map((address): RecordChange => ({ action: "delete", type, address, ttlS: 0 })));
    adds.push(...typeAdds);
  }
  return { changes: [...adds, ...deletes], kept };
}

/** One change as a dry run and the log print it: `add vpn.example.com. 60 A 192.0.2.1`. */
export function describeChange(name: string, change: RecordChange): string {
  if (change.action === "delete") return `delete ${name}. ${change.type} ${change.address}`;
  const ttlNote = change.fromTtlS === undefined ? "" : ` (TTL ${change.fromTtlS} → ${change.ttlS})`;
  return `add ${name}. ${change.ttlS} ${change.type} ${change.address}${ttlNote}`;
}
