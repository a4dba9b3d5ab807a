/**
 * A loopback fake of the Compute Engine routes API and of the GCE metadata server
 * (docs/cloud-routes.md §Testing), for the GCP route tests. Compute: a project's routes; every
 * request needs a bearer token the fake metadata server issued and that has not expired;
 * insert/delete answer an Operation that is RUNNING for `opPolls` polls and applies the change
 * when DONE; errors in Google's JSON shape (409 alreadyExists, 404 notFound, 429
 * rateLimitExceeded, 503 backendError, 401 UNAUTHENTICATED). Metadata: `Metadata-Flavor: Google`
 * required; project, zone, name, NICs, and access tokens with `expires_in`.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

const api = "https://www.googleapis.com/compute/v1/";

export interface FakeGceRoute {
  name: string;
  network: string;
  destRange: string;
  priority: number;
  tags: string[];
  nextHopInstance?: string;
  nextHopIp?: string;
  nextHopGateway?: string;
  /** A Cloud VPN tunnel's path (`projects/p/regions/r/vpnTunnels/t`). */
  nextHopVpnTunnel?: string;
}

export type GceFault = { status: number; reason: string; message?: string; method?: string };

function listen(server: Server, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, () => resolve((server.address() as AddressInfo).port));
  });
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export class FakeCompute {
  readonly routes = new Map<string, FakeGceRoute>();
  readonly tokens = new Map<string, number>();
  readonly deadInstances = new Set<string>();
  readonly faults: GceFault[] = [];
  readonly calls: Array<{ method: string; path: string; status: number }> = [];
  /** Added to every API call (bench/cloud-routes.ts). */
  latencyMs = 0;
  readonly unauthorized: string[] = [];
  /** Polls an Operation stays RUNNING before it is DONE. */
  opPolls = 2;
  pageSize = 500;
  private readonly ops = new Map<string, { polls: number; apply: () => void; op: Record<string, unknown> }>();
  private server: Server | undefined;
  url = "";

  constructor(readonly project = "vpn-project", readonly host = "127.0.0.1") {}

  /** A route as the console would make it (`instance` short name, in zone europe-west1-b; or `ip`, an instance's address; or `tunnel`, a VPN tunnel's short name in europe-west1). */
  addRoute(r: { name: string; network?: string; destRange: string; priority?: number; tags?: string[]; instance?: string; ip?: string; gateway?: string; tunnel?: string }): void {
    this.routes.set(r.name, {
      name: r.name,
      network: r.network ?? "default",
      destRange: r.destRange,
      priority: r.priority ?? 1000,
      tags: r.tags ?? [],
      ...(r.instance ? { nextHopInstance: `projects/${this.project}/zones/europe-west1-b/instances/${r.instance}` } : {}),
      ...(r.ip ? { nextHopIp: r.ip } : {}),
      ...(r.gateway ? { nextHopGateway: r.gateway } : {}),
      ...(r.tunnel ? { nextHopVpnTunnel: `projects/${this.project}/regions/europe-west1/vpnTunnels/${r.tunnel}` } : {}),
    });
  }

  /** Instance short names (or next hop IPs, gateways, VPN tunnel short names) of the routes to `destRange` in `network`. */
  hopsTo(destRange: string, network = "default"): string[] {
    return [...this.routes.values()].filter((r) => r.destRange === destRange && r.network === network).map((r) => (r.nextHopInstance ?? r.nextHopVpnTunnel)?.split("/").pop() ?? r.nextHopIp ?? r.nextHopGateway ?? "?");
  }

  writes(): Array<{ method: string; path: string; status: number }> {
    return this.calls.filter((c) => c.method !== "GET");
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res).catch(() => res.destroy()));
    this.url = `http://${this.host}:${await listen(this.server, this.host)}/compute/v1/`;
    return this;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.server) return resolve();
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }

  private json(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { "content-type": "application/json; charset=UTF-8" });
    res.end(JSON.stringify(body, null, 2));
  }

  private error(res: ServerResponse, status: number, reason: string, message: string): void {
    this.json(res, status, { error: { code: status, message, errors: [{ message, domain: "global", reason }] } });
  }

  private routeJson(r: FakeGceRoute): Record<string, unknown> {
    const dead = r.nextHopInstance && this.deadInstances.has(r.nextHopInstance.split("/").pop()!);
    return {
      kind: "compute#route",
      id: String(Math.abs(hash(r.name))),
      name: r.name,
      network: `${api}projects/${this.project}/global/networks/${r.network}`,
      destRange: r.destRange,
      priority: r.priority,
      ...(r.tags.length ? { tags: r.tags } : {}),
      ...(r.nextHopInstance ? { nextHopInstance: `${api}${r.nextHopInstance}` } : {}),
      ...(r.nextHopIp ? { nextHopIp: r.nextHopIp } : {}),
      ...(r.nextHopGateway ? { nextHopGateway: `${api}projects/${this.project}/global/gateways/${r.nextHopGateway}` } : {}),
      ...(r.nextHopVpnTunnel ? { nextHopVpnTunnel: `${api}${r.nextHopVpnTunnel}` } : {}),
      ...(dead ? { warnings: [{ code: "NEXT_HOP_INSTANCE_NOT_FOUND", message: "Next hop instance not found" }] } : {}),
      selfLink: `${api}projects/${this.project}/global/routes/${r.name}`,
    };
  }

  private operation(kind: string, target: string, apply: () => void): Record<string, unknown> {
    const name = `operation-${Date.now()}-${randomUUID().slice(0, 8)}`;
    const op = { kind: "compute#operation", id: String(Math.abs(hash(name))), name, operationType: kind, targetLink: `${api}projects/${this.project}/global/routes/${target}`, status: "RUNNING", progress: 0, selfLink: `${api}projects/${this.project}/global/operations/${name}` };
    this.ops.set(name, { polls: 0, apply, op });
    return op;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
    const url = new URL(req.url ?? "/", "http://x");
    const method = req.method ?? "GET";
    const send = (status: number, payload: unknown) => {
      this.calls.push({ method, path: url.pathname, status });
      this.json(res, status, payload);
    };
    const fail = (status: number, reason: string, message: string) => {
      this.calls.push({ method, path: url.pathname, status });
      this.error(res, status, reason, message);
    };
    const token = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ""))?.[1];
    const until = token === undefined ? undefined : this.tokens.get(token);
    if (until === undefined || Date.now() > until) {
      this.unauthorized.push(`${method} ${url.pathname}`);
      this.calls.push({ method, path: url.pathname, status: 401 });
      return this.json(res, 401, { error: { code: 401, message: "Request had invalid authentication credentials.", status: "UNAUTHENTICATED" } });
    }
    const faultAt = this.faults.findIndex((f) => f.method === undefined || f.method === method);
    if (faultAt >= 0) {
      const f = this.faults.splice(faultAt, 1)[0]!;
      return fail(f.status, f.reason, f.message ?? f.reason);
    }
    const m = /^\/compute\/v1\/projects\/([^/]+)\/global\/(routes|operations)(?:\/([^/]+))?$/.exec(url.pathname);
    if (!m || m[1] !== this.project) return fail(404, "notFound", `The resource '${url.pathname}' was not found`);
    const [, , collection, name] = m;
    if (collection === "operations") {
      const entry = this.ops.get(name ?? "");
      if (!entry || method !== "GET") return fail(404, "notFound", "no such operation");
      entry.polls++;
      if (entry.polls >= this.opPolls && entry.op.status !== "DONE") {
        entry.op = { ...entry.op, status: "DONE", progress: 100 };
        try {
          entry.apply();
        } catch (error) {
          const [status, reason] = (error as Error).message.split(" ");
          entry.op = { ...entry.op, error: { errors: [{ code: reason, message: (error as Error).message }] }, httpErrorStatusCode: Number(status) };
        }
      }
      return send(200, entry.op);
    }
    if (method === "GET" && !name) {
      const all = [...this.routes.values()].sort((a, b) => a.name.localeCompare(b.name));
      const start = Number(url.searchParams.get("pageToken") ?? 0);
      const size = Math.min(this.pageSize, Number(url.searchParams.get("maxResults") ?? 500));
      const page = all.slice(start, start + size);
      return send(200, { kind: "compute#routeList", id: `projects/${this.project}/global/routes`, items: page.map((r) => this.routeJson(r)), ...(start + size < all.length ? { nextPageToken: String(start + size) } : {}), selfLink: `${api}projects/${this.project}/global/routes` });
    }
    if (method === "POST" && !name) {
      const doc = JSON.parse(body) as { name?: string; network?: string; destRange?: string; priority?: number; tags?: string[]; nextHopInstance?: string };
      if (!doc.name || !/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/.test(doc.name)) return fail(400, "invalid", `Invalid value for field 'resource.name': '${doc.name}'`);
      if (this.routes.has(doc.name)) return fail(409, "alreadyExists", `The resource 'projects/${this.project}/global/routes/${doc.name}' already exists`);
      const route: FakeGceRoute = { name: doc.name, network: (doc.network ?? "").split("/").pop()!, destRange: doc.destRange ?? "", priority: doc.priority ?? 1000, tags: doc.tags ?? [], ...(doc.nextHopInstance ? { nextHopInstance: doc.nextHopInstance.slice(doc.nextHopInstance.indexOf("projects/")) } : {}) };
      return send(200, this.operation("insert", doc.name, () => {
        if (this.routes.has(route.name)) throw new Error("409 ALREADY_EXISTS");
        this.routes.set(route.name, route);
      }));
    }
    if (method === "DELETE" && name) {
      if (!this.routes.has(name)) return fail(404, "notFound", `The resource 'projects/${this.project}/global/routes/${name}' was not found`);
      return send(200, this.operation("delete", name, () => {
        if (!this.routes.delete(name)) throw new Error("404 RESOURCE_NOT_FOUND");
      }));
    }
    return fail(405, "badRequest", "method not allowed");
  }
}

function hash(text: string): number {
  let h = 0;
  for (const c of text) h = (h * 31 + c.charCodeAt(0)) | 0;
  return h;
}

export class FakeGceMetadata {
  tokenLifetimeS = 3599;
  tokensIssued = 0;
  readonly requests: string[] = [];
  nics: Array<{ ip: string; network: string }> = [{ ip: "10.132.0.2", network: "default" }];
  private server: Server | undefined;
  url = "";

  constructor(
    private readonly compute: FakeCompute,
    readonly instance: string,
    readonly host = "127.0.0.1",
  ) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => this.handle(req, res));
    this.url = `http://${this.host}:${await listen(this.server, this.host)}`;
    return this;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.server) return resolve();
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? "").replace(/^\/computeMetadata\/v1\//, "");
    this.requests.push(path);
    const send = (status: number, body: string, type = "application/text") => {
      res.writeHead(status, { "content-type": type, "metadata-flavor": "Google" });
      res.end(body);
    };
    if (req.headers["metadata-flavor"] !== "Google") return send(403, "Missing Metadata-Flavor:Google header.");
    switch (path) {
      case "project/project-id":
        return send(200, this.compute.project);
      case "instance/zone":
        return send(200, "projects/123456789012/zones/europe-west1-b");
      case "instance/name":
        return send(200, this.instance);
      case "instance/network-interfaces/?recursive=true":
        return send(200, JSON.stringify(this.nics.map((n, i) => ({ ip: n.ip, network: `projects/123456789012/networks/${n.network}`, mac: `42:01:0a:84:00:0${i}`, accessConfigs: [] }))), "application/json");
      case "instance/service-accounts/default/token": {
        const token = `ya29.${randomUUID()}`;
        this.compute.tokens.set(token, Date.now() + this.tokenLifetimeS * 1000);
        this.tokensIssued++;
        return send(200, JSON.stringify({ access_token: token, expires_in: this.tokenLifetimeS, token_type: "Bearer" }), "application/json");
      }
      default:
        return send(404, "Not Found");
    }
  }
}
