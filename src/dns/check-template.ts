/**
 * How `dns_failover` checks an address (docs/dns-failover.md §Checks): a template of the check
 * engine's keys in which the address fills the target — icmp pings it, tcp connects to
 * address:port, http/https GET the url with `{address}` replaced. The result goes through the
 * `checks:` schema itself, so every rule of the engine (docs/checks.md) applies unchanged.
 */
import { z } from "zod";
import { checksSchema, type CheckSpec } from "../checks/schema.ts";
import { hostForUrl } from "./names.ts";

export const DNS_CHECK_KINDS = ["icmp", "tcp", "http", "https"] as const;

const passThrough = (type: string, description: string, defaultText: string | undefined) =>
  z
    .unknown()
    .optional()
    .meta({ type, description, ...(defaultText === undefined ? {} : { default: defaultText }) });

/** The template's keys; `inherited` for an address's own changes (whose defaults are the template's values). */
function templateFields(inherited: boolean) {
  const d = (text: string) => (inherited ? "as dns_failover.check" : text);
  return z.strictObject({
    kind: z.enum(DNS_CHECK_KINDS).optional().meta({ type: DNS_CHECK_KINDS.join(" | "), default: d("icmp"), description: "how an address is probed" }),
    port: passThrough("integer 1..65535", "tcp: the port to connect to on the address", inherited ? d("") : undefined),
    url: passThrough("URL template", "http/https: the URL to GET; {address} is replaced by the address (IPv6 in brackets)", inherited ? d("") : undefined),
    interval: passThrough("duration", "time between the starts of two probes", d("5s")),
    timeout: passThrough("duration", "time limit of one probe", d("2s")),
    threshold_down: passThrough("integer 2..100", "consecutive bad probes that make the address down", d("3")),
    threshold_up: passThrough("integer 2..100", "consecutive good probes that make the address up", d("2")),
    expected_status: passThrough("status, range or list", "http/https: accepted status codes", d("200-399")),
    body_match: passThrough("string", "http/https: text the body must contain", inherited ? d("") : undefined),
    tls_skip_verify: passThrough("boolean", "https: accept any certificate", d("false")),
  });
}

/** Values are checked by the checks schema when the address fills them in. */
export const checkTemplateFields = templateFields(false);
export const addressCheckFields = templateFields(true);

export type CheckTemplate = z.output<typeof checkTemplateFields>;

/**
 * The check of one address, or undefined after reporting problems (key of the template, message).
 * A problem is reported once per key and message, however many addresses share the template.
 */
export function addressCheck(address: string, template: CheckTemplate, problem: (key: string, message: string) => void): CheckSpec | undefined {
  const { kind = "icmp", port, url, ...common } = template;
  const raw: Record<string, unknown> = { kind, ...Object.fromEntries(Object.entries(common).filter(([, v]) => v !== undefined)) };
  const wrongKind = (key: string, value: unknown) => value !== undefined && problem(key, `not used by kind ${kind}`);
  switch (kind) {
    case "icmp":
      wrongKind("port", port);
      wrongKind("url", url);
      raw.host = address;
      break;
    case "tcp":
      wrongKind("url", url);
      if (port === undefined) return void problem("port", "missing (kind tcp needs it)");
      if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) return void problem("port", `${JSON.stringify(port)} is not a port 1..65535`);
      raw.address = `${hostForUrl(address)}:${port}`;
      break;
    case "http":
    case "https":
      wrongKind("port", port);
      if (url === undefined) return void problem("url", `missing (kind ${kind} needs it)`);
      if (typeof url !== "string" || !url.includes("{address}")) return void problem("url", `${JSON.stringify(url)} must contain {address}, e.g. ${kind}://{address}/health`);
      raw.url = url.replaceAll("{address}", hostForUrl(address));
      break;
  }
  const parsed = checksSchema.safeParse({ dns: raw });
  if (parsed.success) return parsed.data.dns;
  for (const issue of parsed.error.issues) {
    const key = String(issue.path[1] ?? "check");
    problem(key === "host" || key === "address" ? (kind === "tcp" ? "port" : "kind") : key, issue.message);
  }
  return undefined;
}
