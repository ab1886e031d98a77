/**
 * The local S3 driven by the real @aws-sdk/client-s3 and s3-request-presigner against a cloud on a free
 * port: buckets, objects, ranges, listings, multipart, pre-signed URLs, auth refusals, limits, restart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type UploadPartCommandOutput,
  paginateListObjectsV2,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { ManualClock } from '../clock';
import { signedFetch } from '../http/signing-testing';
import { cloudClientConfig, startLocalCloud, type LocalCloud, type LocalCloudOptions } from '../local-cloud';
import { LocalPresigner, s3Installer } from './service';

const SMALL_PART = 1024;

async function withCloud(fn: (cloud: LocalCloud, s3: S3Client, dir: string) => Promise<void>, options: Partial<LocalCloudOptions> = {}): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'local-s3-'));
  const cloud = await startLocalCloud({ dir, port: 0, installers: [{ name: 's3', install: s3Installer({ minPartSize: SMALL_PART }) }], ...options });
  const s3 = new S3Client(cloudClientConfig(cloud));
  try {
    await fn(cloud, s3, dir);
  } finally {
    s3.destroy();
    await cloud.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

const md5 = (data: string | Buffer) => createHash('md5').update(data).digest('hex');

async function rejectsWith(p: Promise<unknown>, name: string, status?: number): Promise<void> {
  await assert.rejects(p, (err: Error & { $metadata?: { httpStatusCode?: number } }) => {
    assert.equal(err.name, name, `expected ${name}, got ${err.name}: ${err.message}`);
    if (status !== undefined) assert.equal(err.$metadata?.httpStatusCode, status);
    return true;
  });
}

test('buckets: create, head, list, refuse bad names and non-empty deletes, delete', () =>
  withCloud(
    async (_cloud, s3) => {
      await s3.send(new CreateBucketCommand({ Bucket: 'models', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
      await s3.send(new CreateBucketCommand({ Bucket: 'captures' }));
      const head = await s3.send(new HeadBucketCommand({ Bucket: 'models' }));
      assert.equal(head.BucketRegion, 'eu-west-1');
      await rejectsWith(s3.send(new CreateBucketCommand({ Bucket: 'models' })), 'BucketAlreadyOwnedByYou', 409);
      await rejectsWith(s3.send(new CreateBucketCommand({ Bucket: 'Bad_Name' })), 'InvalidBucketName', 400);
      await rejectsWith(s3.send(new CreateBucketCommand({ Bucket: 'other', CreateBucketConfiguration: { LocationConstraint: 'us-west-2' } })), 'IllegalLocationConstraintException');
      const listed = await s3.send(new ListBucketsCommand({}));
      assert.deepEqual(listed.Buckets?.map((b) => b.Name), ['captures', 'models']);
      await s3.send(new PutObjectCommand({ Bucket: 'models', Key: 'm.onnx', Body: 'x' }));
      await rejectsWith(s3.send(new DeleteBucketCommand({ Bucket: 'models' })), 'BucketNotEmpty', 409);
      await s3.send(new DeleteObjectCommand({ Bucket: 'models', Key: 'm.onnx' }));
      await s3.send(new DeleteBucketCommand({ Bucket: 'models' }));
      await rejectsWith(s3.send(new HeadBucketCommand({ Bucket: 'models' })), 'NotFound', 404);
      await rejectsWith(s3.send(new DeleteBucketCommand({ Bucket: 'models' })), 'NoSuchBucket', 404);
      await rejectsWith(s3.send(new PutObjectCommand({ Bucket: 'nope', Key: 'k', Body: 'x' })), 'NoSuchBucket', 404);
    },
    { region: 'eu-west-1' },
  ));

test('objects: put, get with metadata and ranges, head, streamed (aws-chunked) put, copy, delete', () =>
  withCloud(async (_cloud, s3) => {
    await s3.send(new CreateBucketCommand({ Bucket: 'data' }));
    const text = 'hello local cloud';
    const put = await s3.send(new PutObjectCommand({ Bucket: 'data', Key: 'dir/a b+c.txt', Body: text, ContentType: 'text/plain', Metadata: { turbine: 't-01' } }));
    assert.equal(put.ETag, `"${md5(text)}"`);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'dir/a b+c.txt' }));
    assert.equal(await got.Body?.transformToString(), text);
    assert.equal(got.ContentType, 'text/plain');
    assert.equal(got.ContentLength, text.length);
    assert.deepEqual(got.Metadata, { turbine: 't-01' });
    assert.equal(got.ETag, put.ETag);
    // The SDK sent a CRC32 with the upload and asks for it back; it checks the body against it.
    assert.ok(got.ChecksumCRC32, 'GetObject returns the stored CRC32');
    assert.equal(got.ChecksumCRC32, put.ChecksumCRC32 ?? got.ChecksumCRC32);

    const part = await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'dir/a b+c.txt', Range: 'bytes=6-10' }));
    assert.equal(await part.Body?.transformToString(), 'local');
    assert.equal(part.ContentRange, `bytes 6-10/${text.length}`);
    const tail = await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'dir/a b+c.txt', Range: 'bytes=-5' }));
    assert.equal(await tail.Body?.transformToString(), 'cloud');
    await rejectsWith(s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'dir/a b+c.txt', Range: 'bytes=100-' })), 'InvalidRange', 416);

    const head = await s3.send(new HeadObjectCommand({ Bucket: 'data', Key: 'dir/a b+c.txt' }));
    assert.equal(head.ContentLength, text.length);
    assert.equal(head.Metadata?.turbine, 't-01');
    await rejectsWith(s3.send(new HeadObjectCommand({ Bucket: 'data', Key: 'missing' })), 'NotFound', 404);
    await rejectsWith(s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'missing' })), 'NoSuchKey', 404);
    // Not modified: 304 without a body, as S3 (the SDK then has no code to read, only the status).
    await assert.rejects(s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'dir/a b+c.txt', IfNoneMatch: put.ETag })), (err: { $metadata?: { httpStatusCode?: number } }) => err.$metadata?.httpStatusCode === 304);
    await rejectsWith(s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'dir/a b+c.txt', IfMatch: '"other"' })), 'PreconditionFailed', 412);

    // A stream of known length goes as aws-chunked with a trailing CRC32.
    const bytes = Buffer.from(Array.from({ length: 70000 }, (_, i) => i % 251));
    await s3.send(new PutObjectCommand({ Bucket: 'data', Key: 'stream.bin', Body: Readable.from([bytes.subarray(0, 30000), bytes.subarray(30000)]), ContentLength: bytes.length }));
    const streamed = await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'stream.bin' }));
    assert.ok(Buffer.from(await streamed.Body!.transformToByteArray()).equals(bytes));
    assert.equal(streamed.ETag, `"${md5(bytes)}"`);

    // Bodies over 2 MiB go with Expect: 100-continue.
    const large = Buffer.alloc(3 * 1024 * 1024, 7);
    await s3.send(new PutObjectCommand({ Bucket: 'data', Key: 'large.bin', Body: large }));
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: 'data', Key: 'large.bin' }))).ETag, `"${md5(large)}"`);
    await s3.send(new DeleteObjectCommand({ Bucket: 'data', Key: 'large.bin' }));

    const copy = await s3.send(new CopyObjectCommand({ Bucket: 'data', Key: 'copy.txt', CopySource: 'data/dir/a%20b%2Bc.txt' }));
    assert.equal(copy.CopyObjectResult?.ETag, put.ETag);
    const copied = await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'copy.txt' }));
    assert.equal(await copied.Body?.transformToString(), text);
    assert.equal(copied.Metadata?.turbine, 't-01');

    await s3.send(new PutObjectCommand({ Bucket: 'data', Key: 'copy.txt', Body: 'replaced' }));
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'copy.txt' }))).Body?.transformToString(), 'replaced');
    await s3.send(new DeleteObjectCommand({ Bucket: 'data', Key: 'copy.txt' }));
    await s3.send(new DeleteObjectCommand({ Bucket: 'data', Key: 'copy.txt' })); // deleting twice is fine, as S3
    const del = await s3.send(new DeleteObjectsCommand({ Bucket: 'data', Delete: { Objects: [{ Key: 'stream.bin' }, { Key: 'never-existed' }] } }));
    assert.deepEqual(del.Deleted?.map((d) => d.Key).sort(), ['never-existed', 'stream.bin']);
    const left = await s3.send(new ListObjectsV2Command({ Bucket: 'data' }));
    assert.deepEqual(left.Contents?.map((c) => c.Key), ['dir/a b+c.txt']);
  }));

test('bytes corrupted on disk are caught by the SDK through the stored CRC32', () =>
  withCloud(async (_cloud, s3, dir) => {
    await s3.send(new CreateBucketCommand({ Bucket: 'rot' }));
    await s3.send(new PutObjectCommand({ Bucket: 'rot', Key: 'k', Body: 'the original bytes' }));
    const [file] = readdirSync(join(dir, 's3', 'data'));
    writeFileSync(join(dir, 's3', 'data', file), 'the corrupted byte');
    const got = await s3.send(new GetObjectCommand({ Bucket: 'rot', Key: 'k' }));
    await assert.rejects(got.Body!.transformToString(), /checksum/i);
  }));

test('listings: prefix, delimiter, pagination with continuation tokens, v1 markers', () =>
  withCloud(async (_cloud, s3) => {
    await s3.send(new CreateBucketCommand({ Bucket: 'list' }));
    const keys = ['a/1', 'a/2', 'a/sub/3', 'b/1', 'c', 'd/e/f', 'é'];
    for (const Key of keys) await s3.send(new PutObjectCommand({ Bucket: 'list', Key, Body: Key }));
    const top = await s3.send(new ListObjectsV2Command({ Bucket: 'list', Delimiter: '/' }));
    assert.deepEqual(top.CommonPrefixes?.map((p) => p.Prefix), ['a/', 'b/', 'd/']);
    assert.deepEqual(top.Contents?.map((c) => c.Key), ['c', 'é']);
    assert.equal(top.KeyCount, 5);
    const inA = await s3.send(new ListObjectsV2Command({ Bucket: 'list', Prefix: 'a/', Delimiter: '/' }));
    assert.deepEqual(inA.Contents?.map((c) => c.Key), ['a/1', 'a/2']);
    assert.deepEqual(inA.CommonPrefixes?.map((p) => p.Prefix), ['a/sub/']);

    const seen: string[] = [];
    let pages = 0;
    for await (const page of paginateListObjectsV2({ client: s3, pageSize: 2 }, { Bucket: 'list' })) {
      pages++;
      for (const c of page.Contents ?? []) seen.push(c.Key as string);
    }
    assert.deepEqual(seen, keys);
    assert.equal(pages, 4);

    const delimitedPages: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: 'list', Delimiter: '/', MaxKeys: 2, ContinuationToken: token }));
      delimitedPages.push(...(page.CommonPrefixes ?? []).map((p) => p.Prefix as string), ...(page.Contents ?? []).map((c) => c.Key as string));
      token = page.NextContinuationToken;
    } while (token);
    assert.deepEqual(delimitedPages.sort(), ['a/', 'b/', 'c', 'd/', 'é']);
    await rejectsWith(s3.send(new ListObjectsV2Command({ Bucket: 'list', ContinuationToken: '%%%' })), 'InvalidArgument', 400);

    // Keys and prefixes with characters that encode differently in paths and query strings.
    const tricky = "odd/a+b !'()*~=&?é%20ü.txt";
    await s3.send(new PutObjectCommand({ Bucket: 'list', Key: tricky, Body: 'odd' }));
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: 'list', Key: tricky }))).Body?.transformToString(), 'odd');
    const odd = await s3.send(new ListObjectsV2Command({ Bucket: 'list', Prefix: "odd/a+b !'()*~=&?é" }));
    assert.deepEqual(odd.Contents?.map((c) => c.Key), [tricky]);
    const encoded = await s3.send(new ListObjectsV2Command({ Bucket: 'list', Prefix: 'odd/', EncodingType: 'url' }));
    // With encoding-type=url the SDK hands keys over still encoded.
    assert.deepEqual(encoded.Contents?.map((c) => decodeURIComponent(c.Key as string)), [tricky]);
    assert.notEqual(encoded.Contents?.[0].Key, tricky);
    await s3.send(new DeleteObjectCommand({ Bucket: 'list', Key: tricky }));

    const after = await s3.send(new ListObjectsV2Command({ Bucket: 'list', StartAfter: 'b/1' }));
    assert.deepEqual(after.Contents?.map((c) => c.Key), ['c', 'd/e/f', 'é']);
    assert.equal(after.Contents?.[0].Owner, undefined);
    const owned = await s3.send(new ListObjectsV2Command({ Bucket: 'list', FetchOwner: true, MaxKeys: 1 }));
    assert.equal(owned.Contents?.[0].Owner?.DisplayName, 'local-cloud');
    const v1 = await s3.send(new ListObjectsCommand({ Bucket: 'list', Marker: 'a/sub/3', MaxKeys: 2 }));
    assert.deepEqual(v1.Contents?.map((c) => c.Key), ['b/1', 'c']);
    assert.equal(v1.IsTruncated, true);
  }));

test('multipart: parts, list, complete with AWS ETag, refusals, abort', () =>
  withCloud(async (_cloud, s3) => {
    await s3.send(new CreateBucketCommand({ Bucket: 'mpu' }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'mpu', Key: 'big.bin', ContentType: 'application/x-tar', Metadata: { v: '2' } }));
    assert.ok(UploadId);
    const parts = [Buffer.alloc(SMALL_PART, 1), Buffer.alloc(SMALL_PART, 2), Buffer.from('tail')];
    const etags: string[] = [];
    for (let i = 0; i < parts.length; i++) {
      const r: UploadPartCommandOutput = await s3.send(new UploadPartCommand({ Bucket: 'mpu', Key: 'big.bin', UploadId, PartNumber: i + 1, Body: parts[i] }));
      assert.equal(r.ETag, `"${md5(parts[i])}"`);
      etags.push(r.ETag as string);
    }
    const listed = await s3.send(new ListPartsCommand({ Bucket: 'mpu', Key: 'big.bin', UploadId }));
    assert.deepEqual(listed.Parts?.map((p) => [p.PartNumber, p.Size]), [[1, SMALL_PART], [2, SMALL_PART], [3, 4]]);
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'mpu' }));
    assert.deepEqual(uploads.Uploads?.map((u) => u.UploadId), [UploadId]);

    await rejectsWith(
      s3.send(new CompleteMultipartUploadCommand({ Bucket: 'mpu', Key: 'big.bin', UploadId, MultipartUpload: { Parts: [{ PartNumber: 2, ETag: etags[1] }, { PartNumber: 1, ETag: etags[0] }] } })),
      'InvalidPartOrder',
    );
    await rejectsWith(
      s3.send(new CompleteMultipartUploadCommand({ Bucket: 'mpu', Key: 'big.bin', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"0000"' }] } })),
      'InvalidPart',
    );
    await rejectsWith(
      s3.send(new CompleteMultipartUploadCommand({ Bucket: 'mpu', Key: 'big.bin', UploadId, MultipartUpload: { Parts: [{ PartNumber: 3, ETag: etags[2] }, { PartNumber: 4, ETag: etags[2] }] } })),
      'InvalidPart',
    );
    const done = await s3.send(
      new CompleteMultipartUploadCommand({ Bucket: 'mpu', Key: 'big.bin', UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ PartNumber: i + 1, ETag })) } }),
    );
    const expectedEtag = `"${md5(Buffer.concat(etags.map((e) => Buffer.from(e.replace(/"/g, ''), 'hex'))))}-3"`;
    assert.equal(done.ETag, expectedEtag);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'mpu', Key: 'big.bin' }));
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(Buffer.concat(parts)));
    assert.equal(got.ContentType, 'application/x-tar');
    assert.equal(got.Metadata?.v, '2');
    await rejectsWith(s3.send(new ListPartsCommand({ Bucket: 'mpu', Key: 'big.bin', UploadId })), 'NoSuchUpload', 404);

    // A part below the minimum size that is not the last one is refused.
    const small = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'mpu', Key: 'small.bin' }));
    const p1 = await s3.send(new UploadPartCommand({ Bucket: 'mpu', Key: 'small.bin', UploadId: small.UploadId, PartNumber: 1, Body: 'tiny' }));
    const p2 = await s3.send(new UploadPartCommand({ Bucket: 'mpu', Key: 'small.bin', UploadId: small.UploadId, PartNumber: 2, Body: 'tiny' }));
    await rejectsWith(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: 'mpu',
          Key: 'small.bin',
          UploadId: small.UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.ETag }] },
        }),
      ),
      'EntityTooSmall',
    );
    await rejectsWith(s3.send(new UploadPartCommand({ Bucket: 'mpu', Key: 'small.bin', UploadId: small.UploadId, PartNumber: 0, Body: 'x' })), 'InvalidArgument');
    await s3.send(new AbortMultipartUploadCommand({ Bucket: 'mpu', Key: 'small.bin', UploadId: small.UploadId }));
    await rejectsWith(s3.send(new HeadObjectCommand({ Bucket: 'mpu', Key: 'small.bin' })), 'NotFound');
    await rejectsWith(s3.send(new AbortMultipartUploadCommand({ Bucket: 'mpu', Key: 'small.bin', UploadId: small.UploadId })), 'NoSuchUpload', 404);
  }));

test('pre-signed GET and PUT URLs work, and expire by the cloud clock', async () => {
  const clock = new ManualClock();
  await withCloud(
    async (cloud, s3) => {
      await s3.send(new CreateBucketCommand({ Bucket: 'pre' }));
      // By default the SDK signs the CRC32 of an empty body into a PUT URL; S3 then refuses real uploads.
      const emptyCrcUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket: 'pre', Key: 'up/load.txt' }), { expiresIn: 60, signingDate: new Date(clock.now()) });
      assert.match(emptyCrcUrl, /x-amz-checksum-crc32=AAAAAA%3D%3D/);
      const refused = await fetch(emptyCrcUrl, { method: 'PUT', body: 'uploaded via url' });
      assert.equal(refused.status, 400);
      assert.match(await refused.text(), /<Code>BadDigest<\/Code>/);
      // The documented fix: requestChecksumCalculation WHEN_REQUIRED (the cloud's presignPut does this).
      const presignClient = new S3Client({ ...cloudClientConfig(cloud), requestChecksumCalculation: 'WHEN_REQUIRED' });
      const putUrl = await getSignedUrl(presignClient, new PutObjectCommand({ Bucket: 'pre', Key: 'up/load.txt' }), { expiresIn: 60, signingDate: new Date(clock.now()) });
      presignClient.destroy();
      const put = await fetch(putUrl, { method: 'PUT', body: 'uploaded via url' });
      assert.equal(put.status, 200, await put.text());
      const viaPresignPut = await (cloud.context.presigner as LocalPresigner).presignPut('pre', 'other.txt', 60);
      assert.equal((await fetch(viaPresignPut, { method: 'PUT', body: 'other' })).status, 200);
      const getUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'pre', Key: 'up/load.txt' }), { expiresIn: 60, signingDate: new Date(clock.now()) });
      const got = await fetch(getUrl);
      assert.equal(await got.text(), 'uploaded via url');
      const viaContext = await cloud.context.presigner!.presignGet('pre', 'up/load.txt', 30);
      assert.equal(await (await fetch(viaContext)).text(), 'uploaded via url');
      // Tampering with the URL breaks the signature.
      const tampered = await fetch(getUrl.replace('load.txt', 'load.txx'));
      assert.equal(tampered.status, 403);
      assert.match(await tampered.text(), /<Code>SignatureDoesNotMatch<\/Code>/);

      await clock.advance(61_000);
      const expired = await fetch(getUrl);
      assert.equal(expired.status, 403);
      const body = await expired.text();
      assert.match(body, /<Code>AccessDenied<\/Code>/);
      assert.match(body, /Request has expired/);
      assert.equal((await fetch(viaContext)).status, 403);
      const expiredPut = await fetch(putUrl, { method: 'PUT', body: 'late' });
      assert.equal(expiredPut.status, 403);
      assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: 'pre', Key: 'up/load.txt' }))).Body?.transformToString(), 'uploaded via url');
    },
    { clock },
  );
});

test('unsigned, wrongly signed, skewed, unknown routes and services are refused with S3 errors', () =>
  withCloud(async (cloud, s3) => {
    await s3.send(new CreateBucketCommand({ Bucket: 'sec' }));
    const unsigned = await fetch(`${cloud.endpoints.http}/sec/k`, { method: 'PUT', body: 'x' });
    assert.equal(unsigned.status, 403);
    assert.match(await unsigned.text(), /<Code>AccessDenied<\/Code>/);

    const wrong = new S3Client({ ...cloudClientConfig(cloud), credentials: { accessKeyId: cloud.credentials.accessKeyId, secretAccessKey: 'not-the-secret' } });
    await rejectsWith(wrong.send(new PutObjectCommand({ Bucket: 'sec', Key: 'k', Body: 'x' })), 'SignatureDoesNotMatch', 403);
    const stranger = new S3Client({ ...cloudClientConfig(cloud), credentials: { accessKeyId: 'AKIANOTKNOWN', secretAccessKey: 'x' } });
    await rejectsWith(stranger.send(new ListBucketsCommand({})), 'InvalidAccessKeyId', 403);
    wrong.destroy();
    stranger.destroy();

    const sign = (service: string, method: string, path: string, date: Date, body = '') => signedFetch(cloud, { service, method, path, date, body });
    const skewed = await sign('s3', 'GET', '/', new Date(Date.now() - 20 * 60 * 1000));
    assert.equal(skewed.status, 403);
    assert.match(await skewed.text(), /RequestTimeTooSkewed/);
    const ok = await sign('s3', 'GET', '/', new Date());
    assert.equal(ok.status, 200);
    const unknownRoute = await sign('s3', 'POST', '/sec/k', new Date(), 'x');
    assert.equal(unknownRoute.status, 405);
    assert.match(await unknownRoute.text(), /<Code>MethodNotAllowed<\/Code>/);
    const unknownService = await sign('nosuchservice', 'GET', '/', new Date());
    assert.equal(unknownService.status, 400);
    assert.equal(unknownService.headers.get('x-amzn-errortype'), 'UnknownOperationException');
    await rejectsWith(s3.send(new HeadObjectCommand({ Bucket: 'sec', Key: 'k' })), 'NotFound');
  }));

test('an oversized body is refused with EntityTooLarge and nothing is written', () =>
  withCloud(
    async (_cloud, s3, dir) => {
      await s3.send(new CreateBucketCommand({ Bucket: 'lim' }));
      await s3.send(new PutObjectCommand({ Bucket: 'lim', Key: 'ok', Body: Buffer.alloc(4000) }));
      await rejectsWith(s3.send(new PutObjectCommand({ Bucket: 'lim', Key: 'big', Body: Buffer.alloc(5000) })), 'EntityTooLarge', 400);
      await rejectsWith(s3.send(new PutObjectCommand({ Bucket: 'lim', Key: 'big', Body: Readable.from([Buffer.alloc(5000)]), ContentLength: 5000 })), 'EntityTooLarge', 400);
      // Large enough for the SDK to send Expect: 100-continue: refused before the body is sent.
      await rejectsWith(s3.send(new PutObjectCommand({ Bucket: 'lim', Key: 'big', Body: Buffer.alloc(3 * 1024 * 1024) })), 'EntityTooLarge', 400);
      await rejectsWith(s3.send(new HeadObjectCommand({ Bucket: 'lim', Key: 'big' })), 'NotFound');
      assert.equal(readdirSync(join(dir, 's3', 'data')).length, 1);
    },
    { maxBodyBytes: 4096 },
  ));

test('a client that disconnects mid-upload leaves nothing behind and logs nothing', async () => {
  const logged: string[] = [];
  await withCloud(
    async (cloud, s3, dir) => {
      await s3.send(new CreateBucketCommand({ Bucket: 'cut' }));
      const url = new URL(cloud.endpoints.http);
      await new Promise<void>((resolve) => {
        const socket = connect(Number(url.port), url.hostname, () => {
          socket.write(`PUT /cut/k HTTP/1.1\r\nHost: ${url.host}\r\nContent-Length: 100000\r\n\r\n${'x'.repeat(1000)}`);
          setTimeout(() => {
            socket.destroy();
            resolve();
          }, 50);
        });
      });
      // The server keeps serving, and the cut upload left no object and no file.
      await rejectsWith(s3.send(new HeadObjectCommand({ Bucket: 'cut', Key: 'k' })), 'NotFound');
      assert.deepEqual(readdirSync(join(dir, 's3', 'data')), []);
    },
    { log: (line) => logged.push(line) },
  );
  assert.deepEqual(logged, []);
});

test('buckets and objects survive a restart, and a torn journal line is tolerated', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'local-s3-restart-'));
  const installers = [{ name: 's3', install: s3Installer() }];
  try {
    const first = await startLocalCloud({ dir, installers });
    const s3 = new S3Client(cloudClientConfig(first));
    await s3.send(new CreateBucketCommand({ Bucket: 'keep' }));
    await s3.send(new PutObjectCommand({ Bucket: 'keep', Key: 'model.tar.gz', Body: 'v1', Metadata: { version: '1' } }));
    await s3.send(new PutObjectCommand({ Bucket: 'keep', Key: 'model.tar.gz', Body: 'v2', Metadata: { version: '2' } }));
    s3.destroy();
    await first.stop();
    // A crash in the middle of an append leaves half a line behind.
    appendFileSync(join(dir, 'state', 's3-objects.jsonl'), '["keep/half", {"bucket":"ke');

    const second = await startLocalCloud({ dir, installers });
    const again = new S3Client(cloudClientConfig(second));
    try {
      assert.deepEqual((await again.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name), ['keep']);
      const listed = await again.send(new ListObjectsV2Command({ Bucket: 'keep' }));
      assert.deepEqual(listed.Contents?.map((c) => c.Key), ['model.tar.gz']);
      const got = await again.send(new GetObjectCommand({ Bucket: 'keep', Key: 'model.tar.gz' }));
      assert.equal(await got.Body?.transformToString(), 'v2');
      assert.equal(got.Metadata?.version, '2');
      // The replaced version's bytes were removed, only the live object's file is left.
      assert.equal(readdirSync(join(dir, 's3', 'data')).length, 1);
    } finally {
      again.destroy();
      await second.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});


test('DeleteObjects bodies that are not well-formed S3 XML are answered with MalformedXML and delete nothing', { timeout: 60_000 }, async () => {
  const logged: string[] = [];
  await withCloud(
    async (cloud, s3) => {
      await s3.send(new CreateBucketCommand({ Bucket: 'xml' }));
      await s3.send(new PutObjectCommand({ Bucket: 'xml', Key: 'keep', Body: 'x' }));
      const deleteWith = (body: string) => signedFetch(cloud, { service: 's3', method: 'POST', path: '/xml?delete', body });
      const bodies = {
        'an out-of-range numeric character reference': '<Delete><Object><Key>&#99999999;</Key></Object></Delete>',
        'a surrogate character reference': '<Delete><Object><Key>&#xD800;</Key></Object></Delete>',
        'an HTML entity': '<Delete><Object><Key>keep&nbsp;</Key></Object></Delete>',
        'a DTD with an entity': '<!DOCTYPE d [<!ENTITY k "keep">]><Delete><Object><Key>&k;</Key></Object></Delete>',
        '40,000 unclosed tags': `<Delete>${'<Object>'.repeat(40_000)}`,
        'a key holding elements': '<Delete><Object><Key><b>keep</b></Key></Object></Delete>',
        'a valid entry after a bad one': '<Delete><Object><Key>keep</Key></Object><Object></Object></Delete>',
        '1001 keys': `<Delete>${'<Object><Key>keep</Key></Object>'.repeat(1001)}</Delete>`,
        'another root element': '<Remove><Object><Key>keep</Key></Object></Remove>',
      };
      for (const [what, body] of Object.entries(bodies)) {
        const res = await deleteWith(body);
        assert.equal(res.status, 400, what);
        assert.match(await res.text(), /<Code>MalformedXML<\/Code>/, what);
      }
      assert.equal((await s3.send(new HeadObjectCommand({ Bucket: 'xml', Key: 'keep' }))).ContentLength, 1);
      // Numeric references inside XML's characters are decoded, as the SDK writes keys with line breaks.
      await s3.send(new PutObjectCommand({ Bucket: 'xml', Key: 'line\r\nbreak é', Body: 'x' }));
      const ok = await deleteWith('<?xml version="1.0"?><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>line&#xD;&#10;break &#233;</Key></Object><Quiet>false</Quiet></Delete>');
      assert.equal(ok.status, 200);
      assert.match(await ok.text(), /<Deleted><Key>line\r\nbreak é<\/Key><\/Deleted>/);
      await rejectsWith(s3.send(new HeadObjectCommand({ Bucket: 'xml', Key: 'line\r\nbreak é' })), 'NotFound');
    },
    { log: (line) => logged.push(line) },
  );
  assert.deepEqual(logged, []);
});
