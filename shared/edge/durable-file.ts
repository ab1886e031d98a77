/**
 * Replacing a file on the device so that it survives a crash and a full disk: the bytes go to a temporary
 * file beside it, are written to their full length and fsynced, then renamed over the target and the
 * folder fsynced. If anything fails (ENOSPC on a full disk) the temporary file is removed, the old file is
 * left as it was, and the error is thrown.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** Atomically and durably replace (or create) path with data. */
export function writeFileDurably(path: string, data: string | Uint8Array): void {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    const fd = openSync(tmp, 'w');
    try {
      // writeSync may write less than asked (a filling disk): continue until all is written or it throws.
      for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  const dir = openSync(dirname(path), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}
