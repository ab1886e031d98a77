/**
 * Object bytes on a disk that fills up: the write fails with an S3 InternalError, nothing is recorded and
 * no file is left, whether the disk is an injected one (short write, then ENOSPC) or a real tiny tmpfs
 * behind the whole cloud and the AWS SDK.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { cloudClientConfig, startLocalCloud } from '../local-cloud';
import { FillingDisk } from '../state/disk-full-testing';
import { MemoryStateStore } from '../state/store';
import { mountTinyDisk } from '../state/tiny-disk-testing';
import { S3Storage } from './object-store';
import { s3Installer } from './service';

const md5 = (data: Buffer) => createHash('md5').update(data).digest('hex');

test('a short write and then ENOSPC fail writeData with InternalError and leave no file behind', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'object-store-'));
  try {
    const disk = new FillingDisk(10_000);
    const storage = new S3Storage(dir, new MemoryStateStore(), disk);
    async function* chunks() {
      for (let i = 0; i < 4; i++) yield Buffer.alloc(4096, i);
    }
    await assert.rejects(storage.writeData(chunks()), (err: Error & { code?: string; status?: number }) => {
      assert.equal(err.code, 'InternalError');
      assert.equal(err.status, 500);
      assert.match(err.message, /no space left/);
      return true;
    });
    assert.equal(disk.shortWrites, 1);
    assert.deepEqual(readdirSync(join(dir, 's3', 'tmp')), []);
    assert.deepEqual(readdirSync(join(dir, 's3', 'data')), []);
    // With room again the same bytes are stored whole.
    disk.bytesLeft = 1 << 20;
    const written = await storage.writeData(chunks());
    assert.equal(written.size, 4 * 4096);
    assert.equal(readFileSync(storage.pathOf(written.file)).length, 4 * 4096);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('PutObject on a real full disk (a tiny tmpfs) fails with InternalError; the object does not exist, before or after a restart', async (t) => {
  const disk = mountTinyDisk(512);
  if ('unavailable' in disk) return t.skip(disk.unavailable);
  const installers = [{ name: 's3', install: s3Installer() }];
  try {
    const small = Buffer.alloc(8 * 1024, 7);
    const big = Buffer.alloc(1024 * 1024, 9);
    const first = await startLocalCloud({ dir: disk.dir, installers, log: () => {} });
    const s3 = new S3Client({ ...cloudClientConfig(first), maxAttempts: 1 });
    try {
      await s3.send(new CreateBucketCommand({ Bucket: 'full-disk' }));
      await s3.send(new PutObjectCommand({ Bucket: 'full-disk', Key: 'small', Body: small }));
      await assert.rejects(s3.send(new PutObjectCommand({ Bucket: 'full-disk', Key: 'big', Body: big })), (err: Error & { $metadata?: { httpStatusCode?: number } }) => {
        assert.equal(err.name, 'InternalError', err.message);
        assert.equal(err.$metadata?.httpStatusCode, 500);
        assert.match(err.message, /no space left/);
        return true;
      });
      await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: 'full-disk', Key: 'big' })), { name: 'NotFound' });
      assert.deepEqual(readdirSync(join(disk.dir, 's3', 'tmp')), [], 'the partial file was removed');
    } finally {
      s3.destroy();
      await first.stop();
    }
    const second = await startLocalCloud({ dir: disk.dir, installers, log: () => {} });
    const again = new S3Client({ ...cloudClientConfig(second), maxAttempts: 1 });
    try {
      await assert.rejects(again.send(new HeadObjectCommand({ Bucket: 'full-disk', Key: 'big' })), { name: 'NotFound' });
      const got = await again.send(new GetObjectCommand({ Bucket: 'full-disk', Key: 'small' }));
      const bytes = Buffer.from(await got.Body!.transformToByteArray());
      assert.equal(bytes.length, small.length);
      assert.equal(got.ETag, `"${md5(small)}"`);
      assert.equal(md5(bytes), md5(small));
    } finally {
      again.destroy();
      await second.stop();
    }
  } finally {
    disk.unmount();
  }
});
