/**
 * The EC2 Query API calls the route job makes (docs/cloud-routes.md §AWS): DescribeRouteTables
 * (with paging), CreateRoute, ReplaceRoute, DeleteRoute — form-encoded POSTs, SigV4-signed,
 * XML answers read with our own reader. Errors keep EC2's code; throttling, 5xx and the
 * conflicts a re-read resolves (RouteAlreadyExists, InvalidRoute.NotFound) are retryable.
 */
import { RetryableError } from "../../reconcile/action.ts";
import { cloudApiError } from "../api.ts";
import { errorMessage } from "../../util/errors.ts";
import type { HttpFetch } from "../http.ts";
import { child, childText, items, parseXml, XmlError, type XmlElement } from "../xml.ts";
import type { CredentialsProvider } from "./credentials.ts";
import { signV4, uriEncode } from "./sigv4.ts";

export const EC2_API_VERSION = "2016-11-15";

export interface Ec2Route {
  /** destinationCidrBlock or destinationIpv6CidrBlock, as EC2 wrote it. */
  readonly destination: string;
  readonly family: 4 | 6;
  readonly networkInterfaceId?: string;
  /** The route's target, whatever its kind (`eni-…`, `i-…`, `igw-…`, `local`, …), for logs and plans. */
  readonly target: string;
  /** `active` or `blackhole` (the target is gone or stopped). */
  readonly state: string;
  readonly origin?: string;
}

export interface Ec2RouteTable {
  readonly routeTableId: string;
  readonly vpcId?: string;
  readonly routes: readonly Ec2Route[];
}

/** Target fields of an EC2 route, in the order we look for one to show. */
const targetFields = [
  "networkInterfaceId",
  "instanceId",
  "gatewayId",
  "natGatewayId",
  "transitGatewayId",
  "vpcPeeringConnectionId",
  "egressOnlyInternetGatewayId",
  "localGatewayId",
  "carrierGatewayId",
  "coreNetworkArn",
] as const;

/** Codes that another try can fix: throttling, the service's own trouble, and races a re-read settles. */
const retryableCodes = new Set([
  "RequestLimitExceeded",
  "Throttling",
  "ThrottlingException",
  "RequestThrottled",
  "RequestThrottledException",
  "TooManyRequestsException",
  "EC2ThrottledException",
  "InternalError",
  "InternalFailure",
  "ServiceUnavailable",
  "Unavailable",
  "RouteAlreadyExists",
  "InvalidRoute.NotFound",
  "IncorrectState",
]);

/** Credentials the service no longer accepts: fetch them again, then retry. */
const staleCredentialCodes = new Set(["ExpiredToken", "RequestExpired", "InvalidClientTokenId"]);

export interface Ec2Error extends Error {
  readonly code: string;
  readonly status: number;
  readonly requestId?: string;
}

export function isEc2Error(error: unknown): error is Ec2Error {
  return error instanceof Error && error.name === "Ec2ApiError";
}

/** The error EC2 answered (`<Response><Errors><Error><Code/><Message/>…`), retryable or not by its code and status. */
export function parseEc2Error(action: string, status: number, body: string): Ec2Error {
  let code = `HTTP${status}`;
  let message = body.slice(0, 200).replace(/\s+/g, " ").trim();
  let requestId: string | undefined;
  try {
    const root = parseXml(body);
    const error = child(child(root, "Errors"), "Error") ?? child(root, "Error");
    code = childText(error, "Code") || code;
    message = childText(error, "Message") ?? message;
    requestId = childText(root, "RequestID") ?? childText(root, "RequestId") ?? childText(root, "requestId");
  } catch {
    // Not XML (a proxy's HTML page, an empty 503): the status decides.
  }
  const text = `${action}: ${code}: ${message}`;
  const retryable = retryableCodes.has(code) || staleCredentialCodes.has(code) || status >= 500 || status === 429;
  return cloudApiError("Ec2ApiError", text, { code, status, requestId }, retryable);
}

/** `Action=…&Version=…&k=v…`, values RFC 3986-encoded, in the given order (what the SDKs send). */
export function formBody(action: string, params: ReadonlyArray<readonly [string, string]>): string {
  return [["Action", action] as const, ["Version", EC2_API_VERSION] as const, ...params].map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`).join("&");
}

function parseRoute(item: XmlElement): Ec2Route | undefined {
  const v4 = childText(item, "destinationCidrBlock");
  const v6 = childText(item, "destinationIpv6CidrBlock");
  const destination = v4 || v6;
  if (!destination) return undefined; // prefix-list routes: not ours to manage
  let target = "";
  for (const field of targetFields) {
    const value = childText(item, field);
    if (value) {
      target = value;
      break;
    }
  }
  const eni = childText(item, "networkInterfaceId");
  const origin = childText(item, "origin");
  return {
    destination,
    family: v4 ? 4 : 6,
    ...(eni ? { networkInterfaceId: eni } : {}),
    target,
    state: childText(item, "state") ?? "active",
    ...(origin ? { origin } : {}),
  };
}

/** One DescribeRouteTables answer page. */
export function parseRouteTables(body: string): { tables: Ec2RouteTable[]; nextToken?: string } {
  const root = parseXml(body);
  if (root.name !== "DescribeRouteTablesResponse") throw new Error(`DescribeRouteTables: unexpected answer <${root.name}>`);
  const tables = items(root, "routeTableSet").map((item): Ec2RouteTable => {
    const vpcId = childText(item, "vpcId");
    return {
      routeTableId: childText(item, "routeTableId") ?? "",
      ...(vpcId ? { vpcId } : {}),
      routes: items(item, "routeSet").flatMap((r) => parseRoute(r) ?? []),
    };
  });
  const nextToken = childText(root, "nextToken");
  return { tables, ...(nextToken ? { nextToken } : {}) };
}

export interface RouteChange {
  readonly routeTableId: string;
  readonly destination: string;
  readonly family: 4 | 6;
  readonly networkInterfaceId?: string;
}

/** The parameters of Create/Replace/DeleteRoute for one route, as the API names them. */
export function routeParams(change: RouteChange): Array<readonly [string, string]> {
  return [
    ["RouteTableId", change.routeTableId],
    [change.family === 4 ? "DestinationCidrBlock" : "DestinationIpv6CidrBlock", change.destination],
    ...(change.networkInterfaceId ? [["NetworkInterfaceId", change.networkInterfaceId] as const] : []),
  ];
}

export interface Ec2Client {
  describeRouteTable(routeTableId: string, signal: AbortSignal): Promise<Ec2RouteTable>;
  call(action: "CreateRoute" | "ReplaceRoute" | "DeleteRoute", change: RouteChange, signal: AbortSignal): Promise<void>;
}

export interface Ec2ClientOptions {
  /** Resolved lazily (region from IMDS): called for every request, cheap once known. */
  readonly place: (signal: AbortSignal) => Promise<{ endpoint: string; region: string }>;
  readonly credentials: CredentialsProvider;
  readonly fetch: HttpFetch;
  readonly now?: () => number;
  /** Pages followed at most (each up to 100 tables); a loop guard. */
  readonly maxPages?: number;
}

export function createEc2Client(options: Ec2ClientOptions): Ec2Client {
  const now = options.now ?? Date.now;

  async function request(action: string, params: ReadonlyArray<readonly [string, string]>, signal: AbortSignal): Promise<string> {
    const { endpoint, region } = await options.place(signal);
    const credentials = await options.credentials.get(signal);
    const body = formBody(action, params);
    const signed = signV4(
      { method: "POST", url: endpoint, headers: { "content-type": "application/x-www-form-urlencoded; charset=utf-8" }, body },
      credentials,
      { region, service: "ec2" },
      now(),
    );
    const res = await options.fetch({ method: "POST", url: endpoint, headers: signed.headers, body, signal });
    if (res.status >= 200 && res.status < 300) return res.body;
    const error = parseEc2Error(action, res.status, res.body);
    if (staleCredentialCodes.has(error.code) || error.code === "AuthFailure") options.credentials.invalidate();
    throw error;
  }

  return {
    async describeRouteTable(routeTableId, signal) {
      let table: Ec2RouteTable | undefined;
      let nextToken: string | undefined;
      const routes: Ec2Route[] = [];
      for (let page = 0; page < (options.maxPages ?? 50); page++) {
        const body = await request("DescribeRouteTables", [["RouteTableId.1", routeTableId], ...(nextToken ? [["NextToken", nextToken] as const] : [])], signal);
        let parsed: ReturnType<typeof parseRouteTables>;
        try {
          parsed = parseRouteTables(body);
        } catch (error) {
          throw new RetryableError(`DescribeRouteTables: unreadable answer (${error instanceof XmlError ? error.message : errorMessage(error)})`);
        }
        for (const t of parsed.tables.filter((t) => t.routeTableId === routeTableId)) {
          table ??= t;
          routes.push(...t.routes);
        }
        nextToken = parsed.nextToken;
        if (!nextToken) break;
      }
      if (!table) throw new Error(`route table ${routeTableId} not found`);
      return { ...table, routes };
    },
    async call(action, change, signal) {
      const body = await request(action, routeParams(change), signal);
      try {
        const root = parseXml(body);
        if (childText(root, "return") === "false") throw new RetryableError(`${action}: EC2 answered return=false`);
      } catch (error) {
        if (error instanceof RetryableError) throw error;
        // A 2xx we cannot read: the read-back tells whether it happened.
      }
    },
  };
}
