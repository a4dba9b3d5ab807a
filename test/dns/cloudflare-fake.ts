/**
 * A loopback stand-in for Cloudflare's API v4 DNS records (docs/dns-failover.md §Cloudflare): it
 * holds a model of one zone's records, checks the bearer token on every request, pages its lists
 * (small pages, so paging is exercised) and answers in Cloudflare's envelope and error shapes:
 * 81058 for a duplicate record, 10000 for a bad token, 429 when told to throttle.
 */
import { createServer, type Server } from "node:http";

export interface FakeRecord {
  id: string;
  type: string;
  name: string;
  content: string;
  ttl: number;
  proxied: boolean;
}

export interface CloudflareFake {
  readonly base: string;
  readonly records: Map<string, FakeRecord>;
  /** Requests as "METHOD path", in order. */
  readonly log: string[];
  /** The next n requests get 429. */
  throttle(n: number): void;
  close(): Promise<void>;
}

export async function startCloudflareFake(options: { zoneId: string; token: string; pageSize?: number; records?: Omit<FakeRecord, "id">[] }): Promise<CloudflareFake> {
  const records = new Map<string, FakeRecord>();
  let nextId = 1;
  const add = (r: Omit<FakeRecord, "id">) => {
    const id = `rec${String(nextId++).padStart(4, "0")}`;
    records.set(id, { ...r, id });
    return records.get(id)!;
  };
  for (const r of options.records ?? []) add(r);
  const log: string[] = [];
  let throttled = 0;
  const pageSize = options.pageSize ?? 2;
  const prefix = `/client/v4/zones/${options.zoneId}/dns_records`;

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://fake");
      log.push(`${req.method} ${url.pathname}`);
      const send = (status: number, body: object) => {
        res.writeHead(status, { "Content-Type": "application/json" });
        res.end(JSON.stringify(body));
      };
      const fail = (status: number, code: number, message: string) => send(status, { success: false, errors: [{ code, message }], messages: [], result: null });
      if (throttled > 0) {
        throttled--;
        return fail(429, 10100, "rate limited");
      }
      if (req.headers.authorization !== `Bearer ${options.token}`) return fail(403, 10000, "Authentication error");
      if (!url.pathname.startsWith(prefix)) return fail(404, 7003, "Could not route to /zones/…, perhaps your object identifier is invalid?");
      const id = url.pathname.slice(prefix.length + 1);
      if (req.method === "GET" && id === "") {
        const matching = [...records.values()].filter(
          (r) => (!url.searchParams.get("type") || r.type === url.searchParams.get("type")) && (!url.searchParams.get("name") || r.name === url.searchParams.get("name")),
        );
        const page = Number(url.searchParams.get("page") ?? 1);
        const totalPages = Math.max(1, Math.ceil(matching.length / pageSize));
        const result = matching.slice((page - 1) * pageSize, page * pageSize);
        return send(200, { success: true, errors: [], messages: [], result, result_info: { page, per_page: pageSize, count: result.length, total_count: matching.length, total_pages: totalPages } });
      }
      if (req.method === "POST" && id === "") {
        const body = JSON.parse(Buffer.concat(chunks).toString() || "{}") as Omit<FakeRecord, "id">;
        if ([...records.values()].some((r) => r.type === body.type && r.name === body.name && r.content === body.content)) return fail(400, 81058, "An identical record already exists.");
        return send(200, { success: true, errors: [], messages: [], result: add({ ...body, ttl: body.proxied ? 1 : body.ttl }) });
      }
      const record = records.get(id);
      if (!record) return fail(404, 81044, "Record does not exist.");
      if (req.method === "DELETE") {
        records.delete(id);
        return send(200, { success: true, errors: [], messages: [], result: { id } });
      }
      if (req.method === "PATCH") {
        Object.assign(record, JSON.parse(Buffer.concat(chunks).toString() || "{}"));
        return send(200, { success: true, errors: [], messages: [], result: record });
      }
      return fail(405, 10405, "Method not allowed");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    base: `http://127.0.0.1:${port}/client/v4`,
    records,
    log,
    throttle: (n) => void (throttled = n),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
