/**
 * A mistake the user can fix (bad config, bad CLI arguments). The CLI prints
 * its message without a stack trace and exits non-zero.
 */
export class UserError extends Error {
  override name = "UserError";
  constructor(
    message: string,
    /** Every problem found, one line each, when there were several. */
    readonly problems: readonly string[] = [message],
  ) {
    super(message);
  }
}

/** Message of anything thrown, for logs. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A listen error (address in use, not on this host, no permission) as a UserError naming the config key. */
export function listenError(configKey: string, address: string, error: unknown): unknown {
  const code = (error as { code?: string })?.code;
  const why: Record<string, string> = {
    EADDRINUSE: "address already in use",
    EADDRNOTAVAIL: "address not available on this host",
    EACCES: "permission denied",
  };
  return code && why[code] ? new UserError(`${configKey}: cannot listen on ${address}: ${why[code]}`) : error;
}
