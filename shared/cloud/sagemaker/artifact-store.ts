/**
 * How jobs read their inputs from and write their outputs to the local S3: through the S3 API with the
 * cloud's own key, as a SageMaker job would with its role. A model input is a tar.gz of a model
 * directory, or a prefix holding the directory's files.
 */
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import * as tar from 'tar';
import type { CloudContext } from '../contracts';
import { loadOrCreateCredentials } from '../credentials';
import { parseS3Uri } from './validate';

/** Extract only files and folders: a link in an uploaded archive could point anywhere on the host. */
const plainEntries = (_path: string, entry: unknown): boolean => {
  const type = (entry as { type?: string }).type;
  return type === 'File' || type === 'OldFile' || type === 'Directory';
};

/** A job failure whose reason is the user's to fix (bad input), reported as `ClientError: ...`. */
export class ClientError extends Error {}

/** Reads and writes job artifacts in the local S3. */
export class ArtifactStore {
  private client?: S3Client;

  constructor(private readonly ctx: CloudContext) {}

  private s3(): S3Client {
    if (!this.ctx.endpoints) throw new Error('the local cloud has no HTTP endpoint yet');
    this.client ??= new S3Client({
      region: this.ctx.region,
      endpoint: this.ctx.endpoints.http,
      forcePathStyle: true,
      credentials: loadOrCreateCredentials(this.ctx.dir),
    });
    return this.client;
  }

  /** Download uri into dir: a .tar.gz object is extracted, a prefix is copied file by file. */
  async fetchModel(uri: string, dir: string): Promise<void> {
    const { bucket, key } = parseS3Uri(uri, 'S3Uri');
    await mkdir(dir, { recursive: true });
    if (key !== '' && !key.endsWith('/')) {
      const bytes = await this.getObject(bucket, key);
      if (bytes) {
        if (!(bytes[0] === 0x1f && bytes[1] === 0x8b)) throw new ClientError(`${uri} is not a gzip-compressed tar archive of a model directory`);
        const archive = join(dir, '..', `input-${Date.now()}.tar.gz`);
        await writeFile(archive, bytes);
        try {
          await tar.x({ file: archive, cwd: dir, strict: true, filter: plainEntries });
        } catch (err) {
          throw new ClientError(`${uri} could not be extracted: ${(err as Error).message}`);
        }
        return;
      }
    }
    const prefix = key === '' || key.endsWith('/') ? key : `${key}/`;
    const keys = await this.listKeys(bucket, prefix);
    if (keys.length === 0) throw new ClientError(`no object ${uri} and no objects under s3://${bucket}/${prefix}`);
    const root = resolve(dir);
    for (const k of keys) {
      const target = resolve(root, k.slice(prefix.length));
      if (!target.startsWith(root + sep)) continue; // keys like "../x" stay out of the work folder
      const bytes = await this.getObject(bucket, k);
      if (!bytes) continue;
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, bytes);
    }
  }

  /** The object's bytes, or undefined when there is no such key (a missing bucket is a ClientError). */
  async getObject(bucket: string, key: string): Promise<Buffer | undefined> {
    try {
      const out = await this.s3().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return Buffer.from(await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
    } catch (err) {
      const name = (err as Error).name;
      if (name === 'NoSuchKey') return undefined;
      if (name === 'NoSuchBucket') throw new ClientError(`bucket ${bucket} does not exist`);
      throw err;
    }
  }

  private async listKeys(bucket: string, prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      let out;
      try {
        out = await this.s3().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
      } catch (err) {
        if ((err as Error).name === 'NoSuchBucket') throw new ClientError(`bucket ${bucket} does not exist`);
        throw err;
      }
      for (const o of out.Contents ?? []) if (o.Key && !o.Key.endsWith('/')) keys.push(o.Key);
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  /** Upload a file to <location>/<name>; returns its s3:// URI. */
  async putFile(location: string, name: string, path: string): Promise<string> {
    const { bucket, key } = parseS3Uri(location, 'S3OutputLocation');
    const objectKey = key === '' ? name : key.endsWith('/') ? `${key}${name}` : `${key}/${name}`;
    try {
      await this.s3().send(new PutObjectCommand({ Bucket: bucket, Key: objectKey, Body: await readFile(path), ContentType: 'application/gzip' }));
    } catch (err) {
      if ((err as Error).name === 'NoSuchBucket') throw new ClientError(`output bucket ${bucket} does not exist`);
      throw err;
    }
    return `s3://${bucket}/${objectKey}`;
  }

  /** Release the client's sockets. */
  destroy(): void {
    this.client?.destroy();
  }
}

/** The folder under root (itself, or one or two levels down) that holds a tfjs model.json. */
export async function findModelDir(root: string): Promise<string | undefined> {
  const queue: { dir: string; depth: number }[] = [{ dir: root, depth: 0 }];
  while (queue.length > 0) {
    const { dir, depth } = queue.shift() as { dir: string; depth: number };
    const entries = await readdir(dir, { withFileTypes: true });
    if (entries.some((e) => e.isFile() && e.name === 'model.json')) return dir;
    if (depth < 2) for (const e of entries) if (e.isDirectory()) queue.push({ dir: join(dir, e.name), depth: depth + 1 });
  }
  return undefined;
}

/** Write a tar.gz of the given files of dir. */
export async function tarGz(dir: string, files: string[], outPath: string): Promise<void> {
  for (const f of files) await stat(join(dir, f)); // a clear ENOENT before tar's
  await tar.c({ gzip: true, file: outPath, cwd: dir, portable: true }, files);
}

/** Extract a tar.gz into dir. */
export async function untarGz(archive: string, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await tar.x({ file: archive, cwd: dir, strict: true, filter: plainEntries });
}
