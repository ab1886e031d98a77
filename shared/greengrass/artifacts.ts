/**
 * Artifact download for the nucleus: stream the (pre-signed) URL into a temp file while hashing, check
 * the recipe's SHA-256 Digest, then rename into place; a file already in place with the right digest is
 * not fetched again. Every download has a timeout and follows the deployment's cancel signal, and a
 * half-written file never takes the final name.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/** SHA-256 (base64) of a file. */
export async function fileDigest(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('base64');
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** What one download needs. */
export interface DownloadSpec {
  url: string;
  dest: string;
  /** Base64 SHA-256 the file must have (from the recipe); undefined = not checked. */
  digest?: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Download one artifact (or keep the verified copy); throws an Error saying why it failed. */
export async function downloadArtifact(spec: DownloadSpec): Promise<'downloaded' | 'cached'> {
  if (spec.digest && (await exists(spec.dest)) && (await fileDigest(spec.dest)) === spec.digest) return 'cached';
  await mkdir(dirname(spec.dest), { recursive: true });
  const tmp = `${spec.dest}.part`;
  const timeout = AbortSignal.timeout(spec.timeoutMs);
  const signal = spec.signal ? AbortSignal.any([spec.signal, timeout]) : timeout;
  const hash = createHash('sha256');
  try {
    const res = await fetch(spec.url, { signal });
    if (!res.ok || !res.body) throw new Error(`the artifact server answered HTTP ${res.status}`);
    const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
    body.on('data', (chunk: Buffer) => hash.update(chunk));
    await pipeline(body, createWriteStream(tmp), { signal });
    const got = hash.digest('base64');
    if (spec.digest && got !== spec.digest) throw new Error(`digest mismatch: the recipe says SHA-256 ${spec.digest}, the download has ${got}`);
    await rename(tmp, spec.dest);
    return 'downloaded';
  } catch (err) {
    await rm(tmp, { force: true });
    if (spec.signal?.aborted) throw new Error('download canceled');
    if (timeout.aborted) throw new Error(`download timed out after ${spec.timeoutMs / 1000} s`);
    throw err;
  }
}

/** Unpack a ZIP artifact into dir with the system unzip (Unarchive: ZIP), within the timeout. */
export async function unzipArtifact(zipPath: string, dir: string, timeoutMs: number): Promise<void> {
  await mkdir(dir, { recursive: true });
  try {
    await promisify(execFile)('unzip', ['-o', '-q', zipPath, '-d', dir], { timeout: timeoutMs });
  } catch (err) {
    throw new Error(`unpacking ${zipPath} failed (Unarchive: ZIP needs the unzip program): ${(err as Error).message}`);
  }
}
