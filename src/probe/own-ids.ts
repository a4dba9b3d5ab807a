/**
 * The ids this host writes into its own probe requests (src_uuid: one per bridge; dst_uuid: one
 * per tunnel). A responder refuses a request carrying any of them: it can only be our own probe
 * bounced back at us, and answering it would let whoever bounced it feed the reply to our monitor
 * as if the far end had answered (docs/hardening.md "Reflected probes"). One set per daemon, so
 * a request of one bridge bounced off another bridge's socket is refused too.
 */
export class OwnProbeIds {
  private readonly ids = new Set<string>();

  add(id: Buffer): void {
    this.ids.add(id.toString("hex"));
  }

  delete(id: Buffer): void {
    this.ids.delete(id.toString("hex"));
  }

  has(id: Buffer): boolean {
    return this.ids.has(id.toString("hex"));
  }
}
