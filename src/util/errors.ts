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
