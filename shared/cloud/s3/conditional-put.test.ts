/**
 * PutObject with If-None-Match: * (create only if absent) under concurrency, through the official AWS
 * SDK against the running local cloud: of two conditional PUTs racing for one key exactly one succeeds,
 * the other gets 412 PreconditionFailed, and the loser's bytes are never readable nor left on disk.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { cloudClientConfig, startLocalCloud } from '../local-cloud';
import { nodeFiles, type FileLayer } from '../state/file-writes';
import { s3Installer } from './service';

/**
 * A disk on which every object file's fsync waits until `count` of them are waiting: both racing PUTs are
 * then past their early If-None-Match check and writing their bytes before either may commit.
 */
function gatedDisk(count: number): FileLayer & { reached: number } {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const disk = {
    reached: 0,
    async open(path: string, flags: 'w' | 'a') {
      const handle = await nodeFiles.open(path, flags);
      if (!path.includes(`${join('s3', 'tmp')}`)) return handle;
      return {
        write: (buffer: Uint8Array, offset: number, length: number) => handle.write(buffer, offset, length),
        datasync: () => handle.datasync(),
        truncate: (length: number) => handle.truncate(length),
        stat: () => handle.stat(),
        close: () => handle.close(),
        sync: async () => {
          if (++disk.reached === count) release();
          await gate;
          return handle.sync();
        },
      };
    },
  };
  return disk;
}

const md5 = (b: Buffer): string => createHash('md5').update(b).digest('hex');

test('two concurrent PutObject with If-None-Match: * on one key: exactly one 200 and one 412, the loser never visible', { timeout: 60_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 's3-conditional-'));
  const disk = gatedDisk(2);
  const cloud = await startLocalCloud({ dir, port: 0, installers: [{ name: 's3', install: s3Installer({ files: disk }) }], log: () => {} });
  const s3 = new S3Client({ ...cloudClientConfig(cloud), maxAttempts: 1 });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: 'race' }));
    const bodies = [Buffer.alloc(64 * 1024, 'a'), Buffer.alloc(64 * 1024, 'b')];
    const results = await Promise.allSettled(bodies.map((Body) => s3.send(new PutObjectCommand({ Bucket: 'race', Key: 'model/latest.tar.gz', Body, IfNoneMatch: '*' }))));
    assert.equal(disk.reached, 2, 'both PUTs were past the early check and writing when the race was decided');
    const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
    const lost = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as S3ServiceException] : []));
    assert.equal(won.length, 1, `exactly one 200 (got ${won.length})`);
    assert.equal(lost.length, 1);
    assert.equal(lost[0].name, 'PreconditionFailed');
    assert.equal(lost[0].$metadata.httpStatusCode, 412);
    const winner = bodies[won[0]];
    assert.equal((results[won[0]] as PromiseFulfilledResult<{ ETag?: string }>).value.ETag, `"${md5(winner)}"`);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'race', Key: 'model/latest.tar.gz' }));
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(winner), 'the object holds the winner\'s bytes');
    assert.equal(readdirSync(join(dir, 's3', 'data')).length, 1, 'the loser\'s bytes were removed');
    assert.deepEqual(readdirSync(join(dir, 's3', 'tmp')), []);

    // Once the key exists, a further conditional PUT is refused without storing anything.
    await assert.rejects(s3.send(new PutObjectCommand({ Bucket: 'race', Key: 'model/latest.tar.gz', Body: 'late', IfNoneMatch: '*' })), (err: S3ServiceException) => err.name === 'PreconditionFailed');
    const again = await s3.send(new HeadObjectCommand({ Bucket: 'race', Key: 'model/latest.tar.gz' }));
    assert.equal(again.ETag, `"${md5(winner)}"`);
    assert.equal(readdirSync(join(dir, 's3', 'data')).length, 1);
  } finally {
    s3.destroy();
    await cloud.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
