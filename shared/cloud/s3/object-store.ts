/**
 * Buckets, objects and multipart uploads of the local S3. Metadata lives in the cloud's state store
 * (collections s3-buckets, s3-objects, s3-uploads); object bytes live in files under <dir>/s3/data/ named
 * by a random id, never by the key (so keys like "a/../b" or "a" next to "a/b" are harmless).
 *
 * A write is crash-safe: bytes go to <dir>/s3/tmp/, are fsynced and renamed into data/, then the metadata
 * record points at them; the replaced file is removed only after the store flushed. Files no record
 * points to (a crash between the two steps) are removed on the next start. Every write is checked for
 * its full length: a full disk or a short write fails the request with InternalError and leaves no file
 * and no record behind.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createReadStream, fsyncSync, mkdirSync, openSync, readdirSync, rmSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Collection, StateStore } from '../contracts';
import { AwsError } from '../http/errors';
import { isDiskFull, nodeFiles, writeFully, type FileLayer } from '../state/file-writes';

export interface BucketRecord {
  name: string;
  createdAt: number;
  region: string;
}

/** Headers stored with an object and returned on GET/HEAD. */
export interface ObjectHeaders {
  contentType: string;
  contentEncoding?: string;
  contentDisposition?: string;
  contentLanguage?: string;
  cacheControl?: string;
  expires?: string;
  /** x-amz-meta-* without the prefix, lower-case names. */
  metadata: Record<string, string>;
}

export interface ObjectRecord extends ObjectHeaders {
  bucket: string;
  key: string;
  size: number;
  /** Quoted, as S3 sends it: "md5hex" or "md5-of-md5s-N". */
  etag: string;
  lastModified: number;
  /** File name under data/. */
  file: string;
  /** CRC32 (base64) the uploader sent and the server verified; returned when a GET asks for checksums. */
  checksumCrc32?: string;
}

export interface PartRecord {
  partNumber: number;
  etag: string;
  size: number;
  lastModified: number;
  file: string;
}

export interface UploadRecord extends ObjectHeaders {
  uploadId: string;
  bucket: string;
  key: string;
  initiated: number;
  parts: Record<string, PartRecord>;
}

/** Object id in the s3-objects collection. */
export function objectId(bucket: string, key: string): string {
  return `${bucket}/${key}`;
}

/** Disk and metadata storage of the local S3. */
export class S3Storage {
  readonly buckets: Collection<BucketRecord>;
  readonly objects: Collection<ObjectRecord>;
  readonly uploads: Collection<UploadRecord>;
  private readonly dataDir: string;
  private readonly tmpDir: string;

  /** `files` is the disk object bytes are written to (tests fill it up). */
  constructor(
    dir: string,
    private readonly store: StateStore,
    private readonly files: FileLayer = nodeFiles,
  ) {
    this.buckets = store.collection<BucketRecord>('s3-buckets');
    this.objects = store.collection<ObjectRecord>('s3-objects');
    this.uploads = store.collection<UploadRecord>('s3-uploads');
    this.dataDir = join(dir, 's3', 'data');
    this.tmpDir = join(dir, 's3', 'tmp');
    mkdirSync(this.dataDir, { recursive: true });
    rmSync(this.tmpDir, { recursive: true, force: true });
    mkdirSync(this.tmpDir, { recursive: true });
    this.removeOrphans();
  }

  /** Path of a data file. */
  pathOf(file: string): string {
    return join(this.dataDir, file);
  }

  /** Write bytes durably into a new data file; returns its name, md5 hex and size. */
  async writeData(chunks: Buffer | Buffer[] | AsyncIterable<Buffer>): Promise<{ file: string; md5: string; size: number }> {
    const file = randomBytes(16).toString('hex');
    const tmp = join(this.tmpDir, file);
    const md5 = createHash('md5');
    let size = 0;
    const handle = await this.files.open(tmp, 'w').catch((err: unknown) => {
      throw isDiskFull(err) ? diskFullAwsError() : err;
    });
    try {
      const source: Iterable<Buffer> | AsyncIterable<Buffer> = Buffer.isBuffer(chunks) ? [chunks] : chunks;
      for await (const chunk of source) {
        md5.update(chunk);
        size += chunk.length;
        await writeFully(handle, chunk, tmp);
      }
      await handle.sync();
    } catch (err) {
      await handle.close().catch(() => undefined);
      await rm(tmp, { force: true });
      throw isDiskFull(err) ? diskFullAwsError() : err;
    }
    await handle.close();
    await rename(tmp, this.pathOf(file));
    fsyncDirectory(this.dataDir);
    return { file, md5: md5.digest('hex'), size };
  }

  /**
   * Stream a data file, optionally a byte range (inclusive end). The file is opened at once, so a
   * concurrent overwrite or delete (which unlinks it) cannot pull it away from under the reader.
   */
  readData(file: string, range?: { start: number; end: number }): Readable {
    const fd = openSync(this.pathOf(file), 'r');
    return createReadStream('', { fd, autoClose: true, ...range });
  }

  /** Remove a data file that no record ever pointed at (a write that lost its condition). */
  async removeUnreferenced(file: string): Promise<void> {
    await rm(this.pathOf(file), { force: true });
  }

  /** Remove data files once the metadata no longer points at them; waits for the store first. */
  async releaseFiles(files: string[]): Promise<void> {
    if (files.length === 0) return;
    await this.store.flush();
    await Promise.all(files.map((f) => rm(this.pathOf(f), { force: true })));
  }

  /** Objects of a bucket, sorted by key (UTF-8 binary order, as S3 lists them). */
  objectsOf(bucket: string, prefix = ''): ObjectRecord[] {
    const list = this.objects
      .values()
      .filter((o) => o.bucket === bucket && o.key.startsWith(prefix))
      .map((o) => ({ o, bytes: Buffer.from(o.key) }));
    return list.sort((a, b) => Buffer.compare(a.bytes, b.bytes)).map((e) => e.o);
  }

  /** True when the bucket has at least one object or unfinished upload. */
  bucketInUse(bucket: string): boolean {
    return this.objects.values().some((o) => o.bucket === bucket) || this.uploads.values().some((u) => u.bucket === bucket);
  }

  private removeOrphans(): void {
    const live = new Set<string>();
    for (const o of this.objects.values()) live.add(o.file);
    for (const u of this.uploads.values()) for (const p of Object.values(u.parts)) live.add(p.file);
    for (const name of readdirSync(this.dataDir)) if (!live.has(name)) rmSync(join(this.dataDir, name), { force: true });
  }
}

/** What a client sees when the object's bytes do not fit on the disk (S3 has no dedicated code for it). */
function diskFullAwsError(): AwsError {
  return new AwsError('InternalError', 'We encountered an internal error: the local cloud has no space left on its disk (ENOSPC); nothing was stored. Free disk space and retry.', 500);
}

function fsyncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
