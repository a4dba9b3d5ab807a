import { defineCommand } from "citty";
import { SECRET_FILE_MAX_BYTES, readErrorReason } from "../config/load.ts";
import { secretFromFileText } from "../config/normalize.ts";
import { createPartnerPoller, statusUrl as partnerStatusUrl } from "../partner/poller.ts";
import type { BridgeStatus } from "../partner/status-body.ts";
import { deriveKeys } from "../auth/keys.ts";
import { UserError } from "../util/errors.ts";
import { escapeControl, escapeJsonControl } from "../util/escape.ts";
import { readRegularFileSync } from "../util/read-file.ts";
import { runCli } from "./common.ts";

export default defineCommand({
  meta: { name: "status", description: "Show a bridge's /status (a partner's or our own) as a table" },
  args: {
    url: { type: "positional", description: "Status URL, e.g. http://10.0.0.2:8080/", required: true },
    json: { type: "boolean", description: "Print the raw JSON body" },
    timeout: { type: "string", description: "Time limit of the whole request, body included, in ms", default: "3000" },
    "secret-file": { type: "string", description: "File holding the bridge's shared secret (when `secret` is set)" },
  },
  run: ({ args }) =>
    runCli(async () => {
      const url = statusUrl(args.url);
      const timeoutMs = Number(args.timeout);
      if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new UserError(`--timeout: ${args.timeout} is not a positive number of milliseconds`);
      const statusKey = args["secret-file"] ? deriveKeys(readSecret(args["secret-file"])).status : undefined;
      // The daemon's own poller: the same body cap, one deadline for connect, headers and body,
      // the same authentication (docs/hardening.md, "Terminal and log output").
      const poller = createPartnerPoller({ url, timeoutMs, ...(statusKey ? { statusKey } : {}) });
      const outcome = await poller.poll();
      poller.close();
      if (!outcome.ok) {
        const wantsSecret = !statusKey && outcome.reason === "http_status" && outcome.detail.startsWith("HTTP 401");
        throw new UserError(`${url}: ${wantsSecret ? "HTTP 401: the bridge wants its secret (--secret-file)" : outcome.detail}`);
      }
      process.stdout.write(args.json ? escapeJsonControl(JSON.stringify(outcome.status, null, 2)) + "\n" : formatStatus(outcome.status));
    }),
});

function readSecret(path: string): string {
  try {
    return secretFromFileText(readRegularFileSync(path, SECRET_FILE_MAX_BYTES).bytes.toString("utf8"));
  } catch (error) {
    throw new UserError(`--secret-file ${path}: cannot read it (${readErrorReason(error)})`);
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

/** The status as a table; every string from the body is escaped (escapeControl). */
export function formatStatus(s: BridgeStatus): string {
  const yes = (b: boolean) => (b ? "yes" : "no");
  const rows: string[][] = [["", "active", "since", "up", "since"]];
  rows.push([`bridge ${s.name} (${s.role})`, yes(s.active), s.active_since, yes(s.up), s.up_since]);
  for (const [name, t] of Object.entries(s.interfaces)) {
    rows.push([`  tunnel ${name}`, yes(t.active), t.active_since, yes(t.up), t.up_since]);
  }
  const cells = rows.map((row) => row.map(escapeControl));
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  const lines = cells.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd());
  if (s.split_brain) lines.push("SPLIT BRAIN: the partner is active too");
  if (s.reasons?.length) lines.push("", "why:", ...s.reasons.map((r) => `  ${escapeControl(r)}`));
  return lines.join("\n") + "\n";
}
