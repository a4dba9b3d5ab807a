/**
 * One raw HTTP exchange over a plain TCP socket, for tests of our HTTP servers: what a
 * client sent byte for byte, what came back, and whether and when the server closed.
 */
import { connect } from "node:net";

export interface Exchange {
  text: string;
  /** ms from connecting until the server closed (or reset) the connection; null if it did not. */
  closedAfterMs: number | null;
}

/**
 * Opens a connection, writes `data`, and collects what comes back until the server closes or
 * `giveUpMs`. With `keptAnswers`, stops once that many answers have come and the connection
 * has stayed open OPEN_GRACE_MS after them (a keep-alive check that doesn't depend on load).
 */
export function exchange(to: { host: string; port: number; /** the client's source address */ localAddress?: string }, data: string | Buffer, giveUpMs = 3000, keptAnswers?: number): Promise<Exchange> {
  return new Promise((resolve) => {
    const startMs = performance.now();
    const chunks: Buffer[] = [];
    const socket = connect(to);
    let closedAfterMs: number | null = null;
    let settled = false;
    const done = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(grace);
      socket.destroy();
      resolve({ text: Buffer.concat(chunks).toString("latin1"), closedAfterMs });
    };
    const timer = setTimeout(done, giveUpMs);
    let grace: ReturnType<typeof setTimeout> | undefined;
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      if (keptAnswers !== undefined && grace === undefined && statusCodes(Buffer.concat(chunks).toString("latin1")).length >= keptAnswers) {
        grace = setTimeout(done, OPEN_GRACE_MS);
      }
    });
    socket.on("error", () => {
      closedAfterMs ??= performance.now() - startMs;
      done();
    });
    socket.on("close", () => {
      closedAfterMs ??= performance.now() - startMs;
      done();
    });
    socket.on("connect", () => socket.write(data, () => {}));
  });
}

const OPEN_GRACE_MS = 200;

/** Status codes of every answer in `text`, in order. */
export const statusCodes = (text: string): number[] => [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
