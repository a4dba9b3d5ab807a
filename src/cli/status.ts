import { defineCommand } from "citty";
import { secretFromFileText } from "../config/normalize.ts";
import { statusUrl as partnerStatusUrl } from "../partner/poller.ts";
import { parseStatusBody, type BridgeStatus } from "../partner/status-body.ts";
import { readFileSync } from "node:fs";
import { deriveKeys } from "../auth/keys.ts";
import { AUTH_HEADER, requestAuthHeader, verifyResponseAuth } from "../auth/status-auth.ts";
import { UserError, errorMessage } from "../util/errors.ts";
import { runCli } from "./common.ts";

export default defineCommand({
  meta: { name: "status", description: "Show a bridge's /status (a partner's or our own) as a table" },
  args: {
    url: { type: "positional", description: "Status URL, e.g. http://10.0.0.2:8080/", required: true },
    json: { type: "boolean", description: "Print the raw JSON body" },
    timeout: { type: "string", description: "Request timeout in ms", default: "3000" },
    "secret-file": { type: "string", description: "File holding the bridge's shared secret (when `secret` is set)" },
  },
  run: ({ args }) =>
    runCli(async () => {
      const url = statusUrl(args.url);
      const key = args["secret-file"] ? deriveKeys(readSecret(args["secret-file"])).status : undefined;
      const auth = key ? requestAuthHeader(key) : undefined;
      let text: string;
      try {
        const response = await fetch(url, {
          headers: { accept: "application/json", ...(auth ? { [AUTH_HEADER]: auth } : {}) },
          signal: AbortSignal.timeout(Number(args.timeout)),
        });
        text = await response.text();
        if (response.status === 401) throw new UserError(`${url}: HTTP 401: the bridge wants its secret (--secret-file)`);
        if (response.status !== 200) throw new UserError(`${url}: HTTP ${response.status}`);
        if (key && !verifyResponseAuth(key, auth!, response.headers.get(AUTH_HEADER) ?? undefined, text)) {
          throw new UserError(`${url}: the answer is not authenticated with this secret`);
        }
      } catch (error) {
        if (error instanceof UserError) throw error;
        throw new UserError(`${url}: ${errorMessage(error)}`);
      }
      const parsed = parseStatusBody(text);
      if (!parsed.ok) throw new UserError(`${url}: not a vpnham status body (${parsed.reason})`);
      process.stdout.write(args.json ? JSON.stringify(parsed.status, null, 2) + "\n" : formatStatus(parsed.status));
    }),
});

function readSecret(path: string): string {
  try {
    return secretFromFileText(readFileSync(path, "utf8"));
  } catch (error) {
    throw new UserError(`--secret-file ${path}: ${errorMessage(error)}`);
  }
}

/** The partner_url rule (poller's statusUrl), as a user error for a bad URL. */
export function statusUrl(base: string): string {
  try {
    return partnerStatusUrl(base).toString();
  } catch {
    throw new UserError(`${base}: not an http(s) URL (expected e.g. http://10.0.0.2:8080/)`);
  }
}

export function formatStatus(s: BridgeStatus): string {
  const yes = (b: boolean) => (b ? "yes" : "no");
  const rows: string[][] = [["", "active", "since", "up", "since"]];
  rows.push([`bridge ${s.name} (${s.role})`, yes(s.active), s.active_since, yes(s.up), s.up_since]);
  for (const [name, t] of Object.entries(s.interfaces)) {
    rows.push([`  tunnel ${name}`, yes(t.active), t.active_since, yes(t.up), t.up_since]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd());
  if (s.split_brain) lines.push("SPLIT BRAIN: the partner is active too");
  if (s.reasons?.length) lines.push("", "why:", ...s.reasons.map((r) => `  ${r}`));
  return lines.join("\n") + "\n";
}
