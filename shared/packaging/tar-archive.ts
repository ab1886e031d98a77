/**
 * Reproducible tar.gz in memory: ustar headers from the `tar` package, regular files only, fixed order,
 * mode and mtime, no owner names, gzip with a zero header time. The reader parses a Buffer without touching
 * the file system and refuses anything but plain top-level files, so nothing can escape the package.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { Header } from 'tar';
import { PackageVerificationError } from './errors';

/** One regular file of an archive. */
export interface ArchiveFile {
  name: string;
  data: Buffer;
}

const BLOCK = 512;
/** Unpacked size limit: a model package is a few megabytes; this stops a gzip bomb early. */
export const MAX_UNPACKED_BYTES = 256 * 1024 * 1024;

/** Writes files, in the given order, as a deterministic tar.gz. */
export function writeTarGz(files: ArchiveFile[], mtime: Date): Buffer {
  const parts: Buffer[] = [];
  for (const f of files) {
    if (!isPlainName(f.name)) throw new Error(`archive entry name "${f.name}" must be a plain file name`);
    const header = Buffer.alloc(BLOCK);
    new Header({ path: f.name, mode: 0o644, size: f.data.length, mtime: new Date(Math.floor(mtime.getTime() / 1000) * 1000), type: 'File', uid: 0, gid: 0, uname: '', gname: '' }).encode(header, 0);
    parts.push(header, f.data, Buffer.alloc((BLOCK - (f.data.length % BLOCK)) % BLOCK));
  }
  parts.push(Buffer.alloc(2 * BLOCK)); // end-of-archive marker
  return gzipSync(Buffer.concat(parts), { level: 9 });
}

/** True for a name with no directory part, no "..", no control characters. */
export function isPlainName(name: string): boolean {
  return name.length > 0 && name.length <= 100 && !/[/\\\0-\x1f]/.test(name) && name !== '.' && name !== '..';
}

/** Reads a tar.gz from memory into its files; throws PackageVerificationError for anything suspicious. */
export function readTarGz(gz: Buffer, maxUnpackedBytes = MAX_UNPACKED_BYTES): ArchiveFile[] {
  let tar: Buffer;
  try {
    tar = gunzipSync(gz, { maxOutputLength: maxUnpackedBytes });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_BUFFER_TOO_LARGE' || /too large|maxOutputLength/i.test((err as Error).message)) {
      throw new PackageVerificationError('too-large', `package unpacks to more than ${maxUnpackedBytes} bytes`);
    }
    throw new PackageVerificationError('corrupt-archive', `package is not a valid gzip stream (${(err as Error).message})`);
  }
  const files: ArchiveFile[] = [];
  const seen = new Set<string>();
  let at = 0;
  for (;;) {
    if (at + BLOCK > tar.length) throw new PackageVerificationError('corrupt-archive', 'tar archive ends without its end-of-archive blocks (truncated)');
    const block = tar.subarray(at, at + BLOCK);
    if (block.every((b) => b === 0)) break;
    const header = new Header(block, 0);
    if (!header.cksumValid) throw new PackageVerificationError('corrupt-archive', `tar header at byte ${at} has a bad checksum`);
    const name = header.path ?? '';
    if (header.type !== 'File' && header.type !== 'OldFile') {
      throw new PackageVerificationError('unexpected-entry', `package entry "${name}" is a ${header.type}, not a regular file`);
    }
    const stripped = name.replace(/^\.\//, '');
    if (!isPlainName(stripped)) throw new PackageVerificationError('path-traversal', `package entry "${name}" is not a plain file name (directories, "..", absolute paths are refused)`);
    if (seen.has(stripped)) throw new PackageVerificationError('duplicate-entry', `package holds "${stripped}" twice`);
    seen.add(stripped);
    const size = header.size ?? 0;
    const start = at + BLOCK;
    if (start + size > tar.length) throw new PackageVerificationError('corrupt-archive', `package entry "${stripped}" is truncated`);
    files.push({ name: stripped, data: Buffer.from(tar.subarray(start, start + size)) });
    at = start + Math.ceil(size / BLOCK) * BLOCK;
  }
  return files;
}
