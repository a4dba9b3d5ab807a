/**
 * A loopback fake of Azure Resource Manager's route tables and of the token services
 * (docs/cloud-routes.md §Testing), for the Azure route tests. ARM: route tables by subscription,
 * resource group and name; the pinned api-version required; bearer tokens the fake issued and
 * not expired; PUT/DELETE answer with `Azure-AsyncOperation`, the change applied when the
 * operation `Succeeded` after `opPolls` polls; JSON errors (429 TooManyRequests with
 * Retry-After, 409 AnotherOperationInProgress, 401). Tokens: IMDS managed identity
 * (`Metadata: true`) and Entra ID client credentials (secret or federated assertion).
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeAzureRoute {
  addressPrefix: string;
  nextHopType: string;
  nextHopIpAddress?: string;
}

export type AzureFault = { status: number; code: string; method?: string; retryAfterS?: number };

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function startOn(handler: (req: IncomingMessage, res: ServerResponse) => void, host: string): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  return new Promise((resolve) => server.listen(0, host, () => resolve({ server, url: `http://${host}:${(server.address() as AddressInfo).port}` })));
}

function stop(server: Server | undefined): Promise<void> {
  return new Promise((resolve) => (server ? (server.closeAllConnections(), server.close(() => resolve())) : resolve()));
}

export class FakeArm {
  /** `<sub>/<rg>/<table>` → route name → route. */
  readonly tables = new Map<string, Map<string, FakeAzureRoute>>();
  readonly tokens = new Map<string, number>();
  readonly faults: AzureFault[] = [];
  readonly calls: Array<{ method: string; path: string; status: number }> = [];
  /** Added to every API call (bench/cloud-routes.ts). */
  latencyMs = 0;
  readonly unauthorized: string[] = [];
  apiVersion = "2023-09-01";
  opPolls = 2;
  private readonly ops = new Map<string, { polls: number; status: string; apply: () => void }>();
  private server: Server | undefined;
  url = "";

  constructor(readonly host = "127.0.0.1") {}

  addTable(sub: string, rg: string, name: string, routes: Record<string, FakeAzureRoute> = {}): void {
    this.tables.set(`${sub}/${rg}/${name}`, new Map(Object.entries(routes)));
  }

  table(sub: string, rg: string, name: string): Map<string, FakeAzureRoute> {
    return this.tables.get(`${sub}/${rg}/${name}`)!;
  }

  /** Next hops of the routes to `prefix` in a table. */
  hopsTo(sub: string, rg: string, name: string, prefix: string): string[] {
    return [...this.table(sub, rg, name).values()].filter((r) => r.addressPrefix === prefix).map((r) => r.nextHopIpAddress ?? r.nextHopType);
  }

  writes(): Array<{ method: string; path: string; status: number }> {
    return this.calls.filter((c) => c.method !== "GET");
  }

  async start(): Promise<this> {
    const started = await startOn((req, res) => void this.handle(req, res).catch(() => res.destroy()), this.host);
    this.server = started.server;
    this.url = `${started.url}/`;
    return this;
  }

  stop(): Promise<void> {
    return stop(this.server);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
    const url = new URL(req.url ?? "/", this.url);
    const method = req.method ?? "GET";
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      this.calls.push({ method, path: url.pathname, status });
      res.writeHead(status, { "content-type": "application/json; charset=utf-8", "x-ms-request-id": randomUUID(), ...headers });
      res.end(payload === undefined ? "" : JSON.stringify(payload));
    };
    const fail = (status: number, code: string, message: string, headers: Record<string, string> = {}) => send(status, { error: { code, message } }, headers);
    const token = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ""))?.[1];
    const until = token === undefined ? undefined : this.tokens.get(token);
    if (until === undefined || Date.now() > until) {
      this.unauthorized.push(`${method} ${url.pathname}`);
      return fail(401, token ? "ExpiredAuthenticationToken" : "AuthenticationFailed", "The access token is missing, invalid or expired.");
    }
    const op = /^\/subscriptions\/[^/]+\/providers\/Microsoft\.Network\/locations\/[^/]+\/operations\/([^/]+)$/.exec(url.pathname);
    if (op) {
      const entry = this.ops.get(op[1]!);
      if (!entry) return fail(404, "NotFound", "no such operation");
      entry.polls++;
      if (entry.status === "InProgress" && entry.polls >= this.opPolls) {
        entry.apply();
        entry.status = "Succeeded";
      }
      return send(200, { status: entry.status });
    }
    if (url.searchParams.get("api-version") !== this.apiVersion) return fail(400, "InvalidApiVersionParameter", `The api-version '${url.searchParams.get("api-version")}' is invalid.`);
    const faultAt = this.faults.findIndex((f) => f.method === undefined || f.method === method);
    if (faultAt >= 0) {
      const f = this.faults.splice(faultAt, 1)[0]!;
      return fail(f.status, f.code, f.code, f.retryAfterS ? { "retry-after": String(f.retryAfterS) } : {});
    }
    const m = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Network\/routeTables\/([^/]+)(?:\/routes\/([^/]+))?$/.exec(url.pathname);
    if (!m) return fail(404, "InvalidResourceType", "not a route table");
    const [, sub, rg, name, routeName] = m.map((x) => (x === undefined ? x : decodeURIComponent(x)));
    const table = this.tables.get(`${sub}/${rg}/${name}`);
    if (!table) return fail(404, "ResourceNotFound", `The Resource 'Microsoft.Network/routeTables/${name}' under resource group '${rg}' was not found.`);
    const id = (r: string) => `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Network/routeTables/${name}/routes/${r}`;
    const routeJson = (r: string, route: FakeAzureRoute, state = "Succeeded") => ({ name: r, id: id(r), etag: `W/"${randomUUID()}"`, type: "Microsoft.Network/routeTables/routes", properties: { provisioningState: state, ...route } });
    const asyncOp = (apply: () => void) => {
      const opId = randomUUID();
      this.ops.set(opId, { polls: 0, status: "InProgress", apply });
      return { "azure-asyncoperation": `${this.url}subscriptions/${sub}/providers/Microsoft.Network/locations/westeurope/operations/${opId}?api-version=${this.apiVersion}` };
    };
    if (method === "GET" && !routeName) {
      return send(200, { name, id: `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Network/routeTables/${name}`, type: "Microsoft.Network/routeTables", location: "westeurope", properties: { provisioningState: "Succeeded", disableBgpRoutePropagation: false, routes: [...table].map(([r, route]) => routeJson(r, route)) } });
    }
    if (method === "PUT" && routeName) {
      const doc = JSON.parse(body) as { properties?: FakeAzureRoute };
      const p = doc.properties;
      if (!p?.addressPrefix || p.nextHopType !== "VirtualAppliance" || !p.nextHopIpAddress) return fail(400, "InvalidRequestFormat", "addressPrefix, nextHopType VirtualAppliance and nextHopIpAddress are required");
      const route = { addressPrefix: p.addressPrefix, nextHopType: p.nextHopType, nextHopIpAddress: p.nextHopIpAddress };
      const existed = table.has(routeName);
      return send(existed ? 200 : 201, routeJson(routeName, route, "Updating"), asyncOp(() => table.set(routeName, route)));
    }
    if (method === "DELETE" && routeName) {
      if (!table.has(routeName)) return send(204, undefined);
      const headers = asyncOp(() => table.delete(routeName));
      return send(202, undefined, { ...headers, location: headers["azure-asyncoperation"]! });
    }
    return fail(405, "MethodNotAllowed", "method not allowed");
  }
}

export class FakeAzureTokens {
  tokenLifetimeS = 86_399;
  readonly issued: string[] = [];
  /** Service principal secrets by client id. */
  readonly secrets = new Map<string, string>();
  private server: Server | undefined;
  url = "";

  constructor(private readonly arm: FakeArm, readonly host = "127.0.0.1") {}

  async start(): Promise<this> {
    const started = await startOn((req, res) => void this.handle(req, res).catch(() => res.destroy()), this.host);
    this.server = started.server;
    this.url = started.url;
    return this;
  }

  stop(): Promise<void> {
    return stop(this.server);
  }

  private issue(res: ServerResponse, how: string, resource: string): void {
    const token = `eyJ0eXAi.${randomUUID()}`;
    this.arm.tokens.set(token, Date.now() + this.tokenLifetimeS * 1000);
    this.issued.push(how);
    const expiresOn = Math.floor(Date.now() / 1000) + this.tokenLifetimeS;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ access_token: token, refresh_token: "", expires_in: String(this.tokenLifetimeS), expires_on: String(expiresOn), not_before: String(expiresOn - this.tokenLifetimeS), resource, token_type: "Bearer" }));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const url = new URL(req.url ?? "/", "http://x");
    const refuse = (status: number, error: string) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify({ error, error_description: error }));
    };
    if (req.method === "GET" && url.pathname === "/metadata/identity/oauth2/token") {
      if (req.headers.metadata !== "true") return refuse(400, "bad_request: Required metadata header not specified");
      if (url.searchParams.get("api-version") !== "2018-02-01" || !url.searchParams.get("resource")) return refuse(400, "invalid_request");
      return this.issue(res, `managed${url.searchParams.get("client_id") ? ` ${url.searchParams.get("client_id")}` : ""}`, url.searchParams.get("resource")!);
    }
    const sp = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(url.pathname);
    if (req.method === "POST" && sp) {
      const form = new URLSearchParams(body);
      const client = form.get("client_id") ?? "";
      if (form.get("grant_type") !== "client_credentials" || !form.get("scope")?.endsWith("/.default")) return refuse(400, "invalid_request");
      if (form.has("client_secret")) {
        if (this.secrets.get(client) !== form.get("client_secret")) return refuse(401, "invalid_client");
        return this.issue(res, `secret ${client}@${sp[1]}`, form.get("scope")!);
      }
      if (form.get("client_assertion_type") === "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" && form.get("client_assertion")) return this.issue(res, `federated ${client}@${sp[1]}`, form.get("scope")!);
      return refuse(400, "invalid_request");
    }
    return refuse(404, "not_found");
  }
}
