/**
 * A loopback stand-in for Route 53's REST API 2013-04-01 (docs/dns-failover.md §Route 53): every
 * request's SigV4 signature is verified with the known secret (service route53, the same
 * verifySigV4 the EC2 fake uses); it models one hosted zone's record sets, ListResourceRecordSets
 * in Route 53's order with small pages, ChangeResourceRecordSets as one atomic batch (CREATE,
 * UPSERT, DELETE that must match the set exactly, InvalidChangeBatch otherwise), and changes that
 * are PENDING until GetChange has been asked `insyncAfterPolls` times. Faults (Throttling,
 * PriorRequestNotComplete) are answered to the next matching calls, in Route 53's error shape.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { verifySigV4 } from "../../src/cloud/aws/sigv4.ts";
import { child, childrenNamed, childText, parseXml } from "../../src/cloud/xml.ts";
import { EXAMPLE_KEY_ID, EXAMPLE_SECRET } from "../support/fake-aws.ts";

export { EXAMPLE_KEY_ID, EXAMPLE_SECRET };
const ns = "https://route53.amazonaws.com/doc/2013-04-01/";

export interface FakeSet {
  name: string; // with the trailing dot, lower case
  type: string;
  ttl: number;
  values: string[];
  setIdentifier?: string;
}

export type Route53Fault = { code: string; status: number; message?: string; action?: string };

const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const reversed = (name: string) => name.replace(/\.$/, "").split(".").reverse().join(".");
const order = (a: FakeSet, b: FakeSet) => (reversed(a.name) < reversed(b.name) ? -1 : reversed(a.name) > reversed(b.name) ? 1 : a.type < b.type ? -1 : a.type > b.type ? 1 : 0);

export class FakeRoute53 {
  sets: FakeSet[] = [];
  readonly changes = new Map<string, { pollsLeft: number }>();
  /** "Action" per request, in order (ListResourceRecordSets, ChangeResourceRecordSets, GetChange). */
  readonly calls: string[] = [];
  /** Bodies of ChangeResourceRecordSets requests. */
  readonly batches: string[] = [];
  readonly signatureFailures: string[] = [];
  readonly faults: Route53Fault[] = [];
  insyncAfterPolls = 1;
  pageSize = 2;
  url = "";
  private server: Server | undefined;

  constructor(readonly hostedZoneId = "Z0123456789ABCDEFGHIJ") {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res).catch(() => res.destroy()));
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.server) return resolve();
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }

  /** `A 192.0.2.1 192.0.2.2 (60)` per simple set of the name, sorted. */
  show(name: string): string[] {
    return this.sets.filter((s) => s.name === `${name}.` && !s.setIdentifier).map((s) => `${s.type} ${[...s.values].sort().join(" ")} (${s.ttl})`);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const url = new URL(req.url ?? "/", "http://fake");
    const zonePath = `/2013-04-01/hostedzone/${this.hostedZoneId}/rrset`;
    const action =
      req.method === "GET" && url.pathname === zonePath
        ? "ListResourceRecordSets"
        : req.method === "POST" && url.pathname === `${zonePath}/`
          ? "ChangeResourceRecordSets"
          : req.method === "GET" && url.pathname.startsWith("/2013-04-01/change/")
            ? "GetChange"
            : `${req.method} ${url.pathname}`;
    this.calls.push(action);
    const answer = (status: number, xml: string) => {
      res.writeHead(status, { "content-type": "text/xml", "x-amzn-requestid": randomUUID() });
      res.end(`<?xml version="1.0" encoding="UTF-8"?>\n${xml}`);
    };
    const fail = (f: Route53Fault) =>
      answer(f.status, `<ErrorResponse xmlns="${ns}"><Error><Type>Sender</Type><Code>${f.code}</Code><Message>${esc(f.message ?? f.code)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`);
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(",") : v]));
    const verified = verifySigV4({ method: req.method ?? "", path: req.url ?? "/", headers, body }, (id) => (id === EXAMPLE_KEY_ID ? { secret: EXAMPLE_SECRET } : undefined), Date.now());
    if (!verified.ok) {
      this.signatureFailures.push(`${action}: ${verified.reason}`);
      return fail({ code: verified.code === "AuthFailure" ? "InvalidClientTokenId" : verified.code, status: 403, message: verified.reason });
    }
    if (verified.auth.service !== "route53" || verified.auth.region !== "us-east-1") return fail({ code: "SignatureDoesNotMatch", status: 403, message: "Credential should be scoped to a valid region and service route53" });
    const faultAt = this.faults.findIndex((f) => f.action === undefined || f.action === action);
    if (faultAt >= 0) return fail(this.faults.splice(faultAt, 1)[0]!);
    if (action === "ListResourceRecordSets") return answer(200, this.list(url.searchParams));
    if (action === "GetChange") {
      const id = url.pathname.slice("/2013-04-01/change/".length);
      const change = this.changes.get(id);
      if (!change) return fail({ code: "NoSuchChange", status: 404, message: `A change with the specified change ID does not exist.` });
      if (change.pollsLeft > 0) change.pollsLeft--;
      return answer(200, `<GetChangeResponse xmlns="${ns}">${this.changeInfo(id)}</GetChangeResponse>`);
    }
    if (action === "ChangeResourceRecordSets") {
      this.batches.push(body);
      const problem = this.apply(body);
      if (problem) return answer(400, `<InvalidChangeBatch xmlns="${ns}"><Messages><Message>${esc(problem)}</Message></Messages><RequestId>${randomUUID()}</RequestId></InvalidChangeBatch>`);
      const id = `C${randomUUID().replace(/-/g, "").slice(0, 13).toUpperCase()}`;
      this.changes.set(id, { pollsLeft: this.insyncAfterPolls });
      return answer(200, `<ChangeResourceRecordSetsResponse xmlns="${ns}">${this.changeInfo(id)}</ChangeResourceRecordSetsResponse>`);
    }
    fail({ code: "InvalidInput", status: 400, message: `no such operation ${action}` });
  }

  private changeInfo(id: string): string {
    const status = (this.changes.get(id)?.pollsLeft ?? 0) > 0 ? "PENDING" : "INSYNC";
    return `<ChangeInfo><Id>/change/${id}</Id><Status>${status}</Status><SubmittedAt>${new Date().toISOString()}</SubmittedAt></ChangeInfo>`;
  }

  /** The batch applied whole, or the first problem (nothing applied). */
  private apply(body: string): string | undefined {
    const next = this.sets.map((s) => ({ ...s, values: [...s.values] }));
    const root = parseXml(body);
    if (root.name !== "ChangeResourceRecordSetsRequest") return "not a ChangeResourceRecordSetsRequest";
    for (const change of childrenNamed(child(child(root, "ChangeBatch"), "Changes"), "Change")) {
      const action = childText(change, "Action");
      const set = child(change, "ResourceRecordSet");
      const name = (childText(set, "Name") ?? "").toLowerCase();
      const wanted: FakeSet = {
        name: name.endsWith(".") ? name : `${name}.`,
        type: childText(set, "Type") ?? "",
        ttl: Number(childText(set, "TTL")),
        values: childrenNamed(child(set, "ResourceRecords"), "ResourceRecord").map((r) => childText(r, "Value") ?? ""),
      };
      if (!wanted.name.endsWith(`example.com.`)) return `RRSet with DNS name ${wanted.name} is not permitted in zone example.com.`;
      if (wanted.values.length === 0) return "Invalid request: Expected at least one ResourceRecord";
      const at = next.findIndex((s) => s.name === wanted.name && s.type === wanted.type && !s.setIdentifier);
      if (action === "CREATE" && at >= 0) return `Tried to create resource record set [name='${wanted.name}', type='${wanted.type}'] but it already exists`;
      if (action === "DELETE") {
        const found = at >= 0 ? next[at]! : undefined;
        if (!found || found.ttl !== wanted.ttl || [...found.values].sort().join() !== [...wanted.values].sort().join()) {
          return `Tried to delete resource record set [name='${wanted.name}', type='${wanted.type}'] but the values provided do not match the current values`;
        }
        next.splice(at, 1);
      } else if (action === "UPSERT" || action === "CREATE") {
        if (at >= 0) next[at] = wanted;
        else next.push(wanted);
      } else return `Invalid action ${action}`;
    }
    this.sets = next;
    return undefined;
  }

  private list(query: URLSearchParams): string {
    const sorted = [...this.sets].sort(order);
    const startName = (query.get("name") ?? "").toLowerCase();
    const startType = query.get("type") ?? "";
    const from = startName === "" ? 0 : sorted.findIndex((s) => order(s, { name: startName.endsWith(".") ? startName : `${startName}.`, type: startType, ttl: 0, values: [] }) >= 0);
    const rest = from < 0 ? [] : sorted.slice(from);
    const max = Math.min(Number(query.get("maxitems") ?? 300), this.pageSize);
    const page = rest.slice(0, max);
    const more = rest[max];
    const set = (s: FakeSet) =>
      `<ResourceRecordSet><Name>${s.name}</Name><Type>${s.type}</Type>${s.setIdentifier ? `<SetIdentifier>${s.setIdentifier}</SetIdentifier><Weight>10</Weight>` : ""}<TTL>${s.ttl}</TTL><ResourceRecords>${s.values
        .map((v) => `<ResourceRecord><Value>${esc(v)}</Value></ResourceRecord>`)
        .join("")}</ResourceRecords></ResourceRecordSet>`;
    return `<ListResourceRecordSetsResponse xmlns="${ns}"><ResourceRecordSets>${page.map(set).join("")}</ResourceRecordSets><IsTruncated>${more ? "true" : "false"}</IsTruncated>${
      more ? `<NextRecordName>${more.name}</NextRecordName><NextRecordType>${more.type}</NextRecordType>` : ""
    }<MaxItems>${max}</MaxItems></ListResourceRecordSetsResponse>`;
  }
}
