/**
 * Reading a small file someone else controls (the config, a secret file) without letting it
 * hang or bloat the process (docs/hardening.md, "Files the daemon reads"):
 *
 * - open with O_NONBLOCK, so opening a FIFO that has no writer returns at once instead of
 *   waiting for one (for a regular file the flag changes nothing);
 * - fstat the descriptor we opened (not the path: no stat-then-open race) and refuse anything
 *   but a regular file: devices such as /dev/zero, FIFOs, sockets, directories;
 * - read at most `maxBytes + 1` bytes, so a file larger than the cap (or one that grows while
 *   we read it) is refused after a bounded read.
 *
 * The async form runs on libuv's thread pool and never blocks the event loop; the sync form is
 * for callers that have nothing else running yet (and for tests).
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from "node:fs";
import { open } from "node:fs/promises";

/** Why a file was refused; `code` is a stable word for callers and tests. */
export class FileRefusedError extends Error {
  override name = "FileRefusedError";
  constructor(
    readonly code: "not_regular" | "too_large",
    message: string,
  ) {
    super(message);
  }
}

export interface ReadFileResult {
  bytes: Buffer;
  /** Permission bits and owner of the file as opened (fstat). */
  mode: number;
}

const openFlags = constants.O_RDONLY | constants.O_NONBLOCK | (constants.O_NOCTTY ?? 0);

/** `1 MiB`, `64 KiB`, `100 bytes`. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1 << 20 && bytes % (1 << 20) === 0) return `${bytes / (1 << 20)} MiB`;
  if (bytes >= 1 << 10 && bytes % (1 << 10) === 0) return `${bytes / (1 << 10)} KiB`;
  return `${bytes} bytes`;
}

/** What kind of file this is, in words, for anything but a regular file. */
function kindOf(stats: Stats): string {
  if (stats.isFIFO()) return "a FIFO";
  if (stats.isCharacterDevice()) return "a character device";
  if (stats.isBlockDevice()) return "a block device";
  if (stats.isDirectory()) return "a directory";
  if (stats.isSocket()) return "a socket";
  return "not a plain file";
}

/** The refusal for a just-opened file, if any (pure: decided from its fstat). */
export function refusalFor(stats: Stats, maxBytes: number): FileRefusedError | undefined {
  if (!stats.isFile()) return new FileRefusedError("not_regular", `not a regular file: ${kindOf(stats)}`);
  if (stats.size > maxBytes) return tooLarge(maxBytes);
  return undefined;
}

function tooLarge(maxBytes: number): FileRefusedError {
  return new FileRefusedError("too_large", `larger than ${formatBytes(maxBytes)}`);
}

/** Reads a regular file of at most `maxBytes` without blocking the event loop. */
export async function readRegularFile(path: string, maxBytes: number): Promise<ReadFileResult> {
  const handle = await open(path, openFlags);
  try {
    const stats = await handle.stat();
    const refused = refusalFor(stats, maxBytes);
    if (refused) throw refused;
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > maxBytes) throw tooLarge(maxBytes); // it grew after the fstat
    return { bytes: buffer.subarray(0, length), mode: stats.mode };
  } finally {
    await handle.close().catch(() => {});
  }
}

/** The same, synchronously. */
export function readRegularFileSync(path: string, maxBytes: number): ReadFileResult {
  const fd = openSync(path, openFlags);
  try {
    const stats = fstatSync(fd);
    const refused = refusalFor(stats, maxBytes);
    if (refused) throw refused;
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    while (length < buffer.length) {
      const bytesRead = readSync(fd, buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > maxBytes) throw tooLarge(maxBytes);
    return { bytes: buffer.subarray(0, length), mode: stats.mode };
  } finally {
    closeSync(fd);
  }
}
