/**
 * The training pipeline's step cache: each step's output is stored under the sha256 of its inputs, written
 * atomically (a temporary directory renamed into place, then a `complete` marker), so a crash never leaves
 * a half entry that a later run would trust.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Hex sha256 of the parts, in order. */
export function sha256(...parts: Array<string | Buffer>): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

/** sha256 of a file's bytes ("none" without a path); a clear error naming `what` when it cannot be read. */
export function fileHash(path: string | undefined, what: string): string {
  if (!path) return 'none';
  try {
    return sha256(readFileSync(path));
  } catch (err) {
    throw new Error(`${what} ${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

/** Writes files into a cache entry atomically (temp dir + rename); a concurrent writer's entry wins. */
export function writeCacheEntry(dir: string, files: Record<string, string | Buffer>): void {
  mkdirSync(join(dir, '..'), { recursive: true });
  const tmp = `${dir}.partial-${process.pid}-${randomBytes(4).toString('hex')}`;
  mkdirSync(tmp);
  try {
    for (const [name, data] of Object.entries(files)) writeFileSync(join(tmp, name), data);
    writeFileSync(join(tmp, 'complete'), '');
    if (!existsSync(dir)) renameSync(tmp, dir);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** True when a cache entry was completely written. */
export function cacheHit(dir: string): boolean {
  return existsSync(join(dir, 'complete'));
}

/** The bytes of a Float32Array (no copy). */
export function floatBuffer(a: Float32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}
/** A Float32Array read back from a file written with floatBuffer. */
export function readFloats(path: string): Float32Array {
  const b = readFileSync(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}
