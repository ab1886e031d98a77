/**
 * Test support: a FileLayer over the real disk that holds only so many more bytes, as a filling disk does.
 * The write that reaches the limit is short (writes what fits); every later write fails with ENOSPC.
 */
import { diskFullError, nodeFiles, type FileLayer, type WritableFile } from './file-writes';

/** A disk with `bytesLeft` bytes of room; raise or lower it with `room`. */
export class FillingDisk implements FileLayer {
  /** Writes that came back short or failed, for assertions. */
  shortWrites = 0;
  failedWrites = 0;

  constructor(public bytesLeft: number) {}

  /** Open through the real file system, with writes limited by the room left. */
  async open(path: string, flags: 'w' | 'a'): Promise<WritableFile> {
    const real = await nodeFiles.open(path, flags);
    const disk = this;
    return {
      async write(buffer, offset, length) {
        if (disk.bytesLeft <= 0) {
          disk.failedWrites++;
          throw diskFullError(path, 'test disk is full');
        }
        const n = Math.min(length, disk.bytesLeft);
        if (n < length) disk.shortWrites++;
        const result = await real.write(buffer, offset, n);
        disk.bytesLeft -= result.bytesWritten;
        return result;
      },
      datasync: () => real.datasync(),
      sync: () => real.sync(),
      truncate: (length) => real.truncate(length),
      stat: () => real.stat(),
      close: () => real.close(),
    };
  }
}
