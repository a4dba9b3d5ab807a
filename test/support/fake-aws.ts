/**
 * A loopback fake of the EC2 Query API and of IMDSv2 (docs/cloud-routes.md §Testing), for the
 * cloud route tests and bench. EC2: a route-table model; every request's SigV4 signature is
 * verified with the known secrets (src/cloud/aws/sigv4.ts verifySigV4, whose own tests pin it to
 * the AWS test suite and to SDK-signed requests); answers and errors in EC2's XML shapes;
 * injectable faults (RequestLimitExceeded, 5xx, RouteAlreadyExists races) and latency. IMDS:
 * session tokens with a TTL (expired → 401), instance role credentials that rotate and expire,
 * NICs by MAC, region.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { verifySigV4 } from "../../src/cloud/aws/sigv4.ts";

export const EXAMPLE_KEY_ID = "AKIDEXAMPLE";
export const EXAMPLE_SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const ns = "http://ec2.amazonaws.com/doc/2016-11-15/";

export interface FakeRoute {
  destination: string;
  family: 4 | 6;
  networkInterfaceId?: string;
  gatewayId?: string;
  instanceId?: string;
  origin: "CreateRouteTable" | "CreateRoute";
}

export interface FakeCall {
  action: string;
  params: Record<string, string>;
  /** EC2 error code answered, or "" for success. */
  error: string;
  atMs: number;
}

export type Fault = { code: string; status: number; message?: string };

const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function listen(server: Server, host: string, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections?.();
    server.close(() => resolve());
  });
}

export class FakeEc2 {
  readonly tables = new Map<string, { vpcId: string; routes: FakeRoute[] }>();
  /** ENIs whose instance is gone: their routes show state blackhole. */
  readonly deadEnis = new Set<string>();
  readonly calls: FakeCall[] = [];
  /** Requests refused for their signature (must stay empty). */
  readonly signatureFailures: string[] = [];
  /** Faults answered to the next matching calls, in order. */
  readonly faults: Array<Fault & { action?: string }> = [];
  latencyMs = 0;
  /** DescribeRouteTables page size when paging (MaxResults absent: all). */
  pageSize = 1000;
  private readonly keys = new Map<string, { secret: string; sessionToken?: string; expiresAtMs?: number }>();
  private server: Server | undefined;
  url = "";

  constructor(readonly host = "127.0.0.1") {
    this.keys.set(EXAMPLE_KEY_ID, { secret: EXAMPLE_SECRET });
  }

  addKey(id: string, secret: string, sessionToken?: string, expiresAtMs?: number): void {
    this.keys.set(id, { secret, ...(sessionToken ? { sessionToken } : {}), ...(expiresAtMs ? { expiresAtMs } : {}) });
  }

  addTable(id: string, vpcId: string, routes: Array<Partial<FakeRoute> & { destination: string }> = []): void {
    this.tables.set(id, {
      vpcId,
      routes: [
        { destination: "10.0.0.0/16", family: 4, gatewayId: "local", origin: "CreateRouteTable" },
        ...routes.map((r) => ({ family: r.destination.includes(":") ? (6 as const) : (4 as const), origin: "CreateRoute" as const, ...r })),
      ],
    });
  }

  /** The target of the route to `destination` in `table` (undefined when none). */
  targetOf(table: string, destination: string): string | undefined {
    const route = this.tables.get(table)?.routes.find((r) => r.destination === destination);
    return route?.networkInterfaceId ?? route?.gatewayId ?? route?.instanceId;
  }

  /** Someone edits the table behind our back (the console). */
  setTarget(table: string, destination: string, eni: string): void {
    const t = this.tables.get(table)!;
    const route = t.routes.find((r) => r.destination === destination);
    if (route) route.networkInterfaceId = eni;
    else t.routes.push({ destination, family: destination.includes(":") ? 6 : 4, networkInterfaceId: eni, origin: "CreateRoute" });
  }

  writes(): FakeCall[] {
    return this.calls.filter((c) => c.action !== "DescribeRouteTables");
  }

  /** On `port` (0: any free one). */
  async start(port = 0): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res).catch(() => res.destroy()));
    this.url = `http://${this.host}:${await listen(this.server, this.host, port)}/`;
    return this;
  }

  stop(): Promise<void> {
    return this.server ? close(this.server) : Promise.resolve();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
    const params = Object.fromEntries(new URLSearchParams(body));
    const action = params.Action ?? "";
    const call: FakeCall = { action, params, error: "", atMs: Date.now() };
    this.calls.push(call);
    const answer = (status: number, xml: string): void => {
      res.writeHead(status, { "content-type": "text/xml;charset=UTF-8", "x-amzn-requestid": randomUUID() });
      res.end(xml);
    };
    const fail = (fault: Fault): void => {
      call.error = fault.code;
      answer(
        fault.status,
        `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${fault.code}</Code><Message>${esc(fault.message ?? fault.code)}</Message></Error></Errors><RequestID>${randomUUID()}</RequestID></Response>`,
      );
    };
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(",") : v]));
    const verified = verifySigV4({ method: req.method ?? "", path: req.url ?? "/", headers, body }, (id) => this.keys.get(id), Date.now());
    if (!verified.ok) {
      this.signatureFailures.push(`${action}: ${verified.reason}`);
      return fail({ code: verified.code, status: verified.code === "AuthFailure" ? 401 : 403, message: verified.reason });
    }
    if (verified.auth.service !== "ec2") return fail({ code: "SignatureDoesNotMatch", status: 403, message: "wrong service in scope" });
    const key = this.keys.get(verified.auth.accessKeyId)!;
    if (key.expiresAtMs !== undefined && Date.now() > key.expiresAtMs) return fail({ code: "ExpiredToken", status: 400, message: "The security token included in the request is expired" });
    const faultAt = this.faults.findIndex((f) => f.action === undefined || f.action === action);
    if (faultAt >= 0) return fail(this.faults.splice(faultAt, 1)[0]!);
    if (params.Version !== "2016-11-15") return fail({ code: "InvalidParameterValue", status: 400, message: "bad Version" });
    if (params.DryRun === "true") return fail({ code: "DryRunOperation", status: 412, message: "Request would have succeeded, but DryRun flag is set." });
    const id = randomUUID();
    if (action === "DescribeRouteTables") return answer(200, this.describe(params, id));
    const table = this.tables.get(params.RouteTableId ?? "");
    if (!table) return fail({ code: "InvalidRouteTableID.NotFound", status: 400, message: `The routeTable ID '${params.RouteTableId}' does not exist` });
    const v6 = params.DestinationIpv6CidrBlock;
    const destination = params.DestinationCidrBlock ?? v6 ?? "";
    const at = table.routes.findIndex((r) => r.destination === destination);
    const notFound = (): void => fail({ code: "InvalidRoute.NotFound", status: 400, message: `no route with destination-cidr-block ${destination} in route table ${params.RouteTableId}` });
    switch (action) {
      case "CreateRoute":
        if (at >= 0) return fail({ code: "RouteAlreadyExists", status: 400, message: `The route identified by ${destination} already exists.` });
        table.routes.push({ destination, family: v6 ? 6 : 4, networkInterfaceId: params.NetworkInterfaceId!, origin: "CreateRoute" });
        break;
      case "ReplaceRoute":
        if (at < 0) return notFound();
        table.routes[at] = { destination, family: v6 ? 6 : 4, networkInterfaceId: params.NetworkInterfaceId!, origin: "CreateRoute" };
        break;
      case "DeleteRoute":
        if (at < 0) return notFound();
        table.routes.splice(at, 1);
        break;
      default:
        return fail({ code: "InvalidAction", status: 400, message: `The action ${action} is not valid for this web service.` });
    }
    answer(200, `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${ns}">\n    <requestId>${id}</requestId>\n    <return>true</return>\n</${action}Response>`);
  }

  private describe(params: Record<string, string>, id: string): string {
    const wanted = Object.entries(params)
      .filter(([k]) => /^RouteTableId\.\d+$/.test(k))
      .map(([, v]) => v);
    const all = [...this.tables.keys()].filter((t) => wanted.length === 0 || wanted.includes(t));
    const start = Number(params.NextToken ?? 0);
    const page = all.slice(start, start + this.pageSize);
    const next = start + this.pageSize < all.length ? `<nextToken>${start + this.pageSize}</nextToken>` : "";
    const route = (r: FakeRoute): string => {
      const dest = r.family === 4 ? `<destinationCidrBlock>${r.destination}</destinationCidrBlock>` : `<destinationIpv6CidrBlock>${r.destination}</destinationIpv6CidrBlock>`;
      const target = r.gatewayId
        ? `<gatewayId>${r.gatewayId}</gatewayId>`
        : `<instanceId>i-0${(r.networkInterfaceId ?? "").slice(4)}</instanceId><instanceOwnerId>123456789012</instanceOwnerId><networkInterfaceId>${r.networkInterfaceId}</networkInterfaceId>`;
      const state = r.networkInterfaceId && this.deadEnis.has(r.networkInterfaceId) ? "blackhole" : "active";
      return `\n                <item>\n                    ${dest}\n                    ${target}\n                    <state>${state}</state>\n                    <origin>${r.origin}</origin>\n                </item>`;
    };
    const tables = page
      .map((tid) => {
        const t = this.tables.get(tid)!;
        return `\n        <item>\n            <routeTableId>${tid}</routeTableId>\n            <vpcId>${t.vpcId}</vpcId>\n            <ownerId>123456789012</ownerId>\n            <routeSet>${t.routes.map(route).join("")}\n            </routeSet>\n            <associationSet/>\n            <propagatingVgwSet/>\n            <tagSet/>\n        </item>`;
      })
      .join("");
    return `<?xml version="1.0" encoding="UTF-8"?>\n<DescribeRouteTablesResponse xmlns="${ns}">\n    <requestId>${id}</requestId>\n    <routeTableSet>${tables}\n    </routeTableSet>${next}\n</DescribeRouteTablesResponse>`;
  }
}

export interface FakeNic {
  mac: string;
  eni: string;
  vpcId: string;
  ipv4s: string[];
  ipv6s?: string[];
}

export class FakeImds {
  region = "eu-west-1";
  nics: FakeNic[] = [];
  role: string | undefined = "vpnham-routes";
  /** Longest token TTL granted (a real IMDS grants up to 21600 s). */
  maxTokenTtlSeconds = 21_600;
  credentialLifetimeMs = 6 * 3600_000;
  readonly tokens = new Map<string, number>();
  readonly requests: string[] = [];
  credentialsIssued = 0;
  tokensIssued = 0;
  private server: Server | undefined;
  url = "";

  constructor(private readonly ec2: FakeEc2 | undefined, readonly host = "127.0.0.1") {}

  /** On `port` (0: any free one). */
  async start(port = 0): Promise<this> {
    this.server = createServer((req, res) => this.handle(req, res));
    this.url = `http://${this.host}:${await listen(this.server, this.host, port)}`;
    return this;
  }

  stop(): Promise<void> {
    return this.server ? close(this.server) : Promise.resolve();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = req.url ?? "/";
    this.requests.push(`${req.method} ${path}`);
    const send = (status: number, body = "", headers: Record<string, string> = {}): void => {
      res.writeHead(status, { "content-type": "text/plain", ...headers });
      res.end(body);
    };
    if (req.method === "PUT" && path === "/latest/api/token") {
      const ttl = Number(req.headers["x-aws-ec2-metadata-token-ttl-seconds"]);
      if (!Number.isInteger(ttl) || ttl < 1 || ttl > 21_600) return send(400);
      const granted = Math.min(ttl, this.maxTokenTtlSeconds);
      const token = `tok-${randomUUID()}`;
      this.tokens.set(token, Date.now() + granted * 1000);
      this.tokensIssued++;
      return send(200, token, { "x-aws-ec2-metadata-token-ttl-seconds": String(granted) });
    }
    if (req.method !== "GET") return send(405);
    const token = String(req.headers["x-aws-ec2-metadata-token"] ?? "");
    const until = this.tokens.get(token);
    if (until === undefined || Date.now() > until) return send(401); // IMDSv2 only; expired tokens refused
    const m = path.replace(/^\/latest\/meta-data\//, "");
    if (m === "placement/region") return send(200, this.region);
    if (m === "network/interfaces/macs/") return send(200, this.nics.map((n) => `${n.mac}/`).join("\n"));
    const nic = /^network\/interfaces\/macs\/([^/]+)\/(.+)$/.exec(m);
    if (nic) {
      const n = this.nics.find((x) => x.mac === nic[1]);
      const field = nic[2];
      if (!n) return send(404);
      if (field === "interface-id") return send(200, n.eni);
      if (field === "vpc-id") return send(200, n.vpcId);
      if (field === "local-ipv4s") return n.ipv4s.length ? send(200, n.ipv4s.join("\n")) : send(404);
      if (field === "ipv6s") return n.ipv6s?.length ? send(200, n.ipv6s.join("\n")) : send(404);
      return send(404);
    }
    if (m === "iam/security-credentials/") return this.role ? send(200, this.role) : send(404);
    if (this.role && m === `iam/security-credentials/${this.role}`) {
      this.credentialsIssued++;
      const id = `ASIA${randomUUID().replace(/-/g, "").slice(0, 16).toUpperCase()}`; // unique across fakes sharing one EC2
      const secret = randomUUID();
      const sessionToken = `session-${randomUUID()}`;
      const expiresAtMs = Date.now() + this.credentialLifetimeMs;
      this.ec2?.addKey(id, secret, sessionToken, expiresAtMs);
      const expiration = new Date(expiresAtMs).toISOString().replace(/\.\d{3}Z$/, "Z");
      return send(200, JSON.stringify({ Code: "Success", LastUpdated: new Date().toISOString(), Type: "AWS-HMAC", AccessKeyId: id, SecretAccessKey: secret, Token: sessionToken, Expiration: expiration }, null, 2));
    }
    return send(404);
  }
}
