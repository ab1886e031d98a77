/**
 * Durable file writes for the local cloud's journal and object files: every write is checked for its full
 * length (a short write, what a filling disk returns, is continued; a write that makes no progress is a
 * full disk), so nothing is fsynced and acknowledged that is not entirely on disk. The file operations are
 * a small seam so tests can stand in a disk that fills up.
 */
import { open } from 'node:fs/promises';

/** The operations a durable writer needs of an open file (a subset of node's FileHandle). */
export interface WritableFile {
  write(buffer: Uint8Array, offset: number, length: number): Promise<{ bytesWritten: number }>;
  datasync(): Promise<void>;
  sync(): Promise<void>;
  truncate(length: number): Promise<void>;
  stat(): Promise<{ size: number }>;
  close(): Promise<void>;
}

/** Opens files for writing; nodeFiles is the real disk. */
export interface FileLayer {
  open(path: string, flags: 'w' | 'a'): Promise<WritableFile>;
}

/** The real file system. */
export const nodeFiles: FileLayer = { open: (path, flags) => open(path, flags) };

/** The error of a disk that has no room left. */
export function diskFullError(path: string, detail: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`ENOSPC: no space left on device, write '${path}' (${detail})`), { code: 'ENOSPC', errno: -28, syscall: 'write', path });
}

/** True for errors that mean the disk (or the file size limit) is full. */
export function isDiskFull(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG';
}

/** Write all of data at the file's position, continuing after short writes; throws ENOSPC when a write makes no progress. */
export async function writeFully(file: WritableFile, data: Uint8Array | string, path: string): Promise<void> {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await file.write(bytes, done, bytes.length - done);
    if (bytesWritten <= 0) throw diskFullError(path, `${done} of ${bytes.length} bytes written`);
    done += bytesWritten;
  }
}
