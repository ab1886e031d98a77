/**
 * The HTTP front door against hand-made requests (signed with the SDK's own signer): errors thrown after
 * the body was read are answered and logged, the signature is checked before the body is buffered,
 * unsigned x-amz-* headers and unsigned payloads of non-S3 services are refused, pre-signed dates are
 * checked both ways.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { ManualClock } from '../clock';
import type { CloudContext } from '../contracts';
import { cloudClientConfig, startLocalCloud, type LocalCloud, type LocalCloudOptions } from '../local-cloud';
import { s3Installer } from '../s3/service';
import { sdkSigner, signedFetch } from './signing-testing';

/** A JSON test service whose routes read the body and then fail, or echo what they were given. */
async function installProbe(ctx: CloudContext) {
  ctx.routes.add('probe', [
    {
      method: 'POST',
      path: '/boom',
      action: 'Boom',
      // An error no handler expected, thrown after the body was read (as a RangeError from a parser).
      handler: async (req) => ({ status: 200, body: String.fromCodePoint(Number(req.body.toString())) }),
    },
    { method: 'POST', path: '/echo', action: 'Echo', handler: async (req) => ({ status: 200, body: req.body }) },
  ]);
  return { stop: async () => {} };
}

async function withCloud(fn: (cloud: LocalCloud, logged: string[]) => Promise<void>, options: Partial<LocalCloudOptions> = {}): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'cloud-http-'));
  const logged: string[] = [];
  const cloud = await startLocalCloud({
    dir,
    port: 0,
    installers: [
      { name: 's3', install: s3Installer() },
      { name: 'probe', install: installProbe },
    ],
    log: (line) => logged.push(line),
    ...options,
  });
  try {
    await fn(cloud, logged);
  } finally {
    await cloud.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

test('an unexpected error thrown after the body was read is answered in the protocol shape and logged', { timeout: 30_000 }, () =>
  withCloud(async (cloud, logged) => {
    const res = await signedFetch(cloud, { service: 'probe', method: 'POST', path: '/boom', body: '99999999' });
    assert.equal(res.status, 500);
    assert.equal(res.headers.get('x-amzn-errortype'), 'InternalFailure');
    assert.equal(((await res.json()) as { __type: string }).__type, 'InternalFailure');
    assert.equal(logged.length, 1);
    assert.match(logged[0], /POST \/boom \(probe\) failed: RangeError/);
  }));

const SECRET = 'another tenant secret';

/** A cloud with bucket "private" holding "secret", an S3 client and a presigning client (no checksum). */
async function withBuckets(fn: (cloud: LocalCloud, s3: S3Client, presigner: S3Client) => Promise<void>, options: Partial<LocalCloudOptions> = {}): Promise<void> {
  await withCloud(async (cloud) => {
    const s3 = new S3Client(cloudClientConfig(cloud));
    const presigner = new S3Client({ ...cloudClientConfig(cloud), requestChecksumCalculation: 'WHEN_REQUIRED' });
    try {
      await s3.send(new CreateBucketCommand({ Bucket: 'private' }));
      await s3.send(new PutObjectCommand({ Bucket: 'private', Key: 'secret', Body: SECRET }));
      await fn(cloud, s3, presigner);
    } finally {
      s3.destroy();
      presigner.destroy();
    }
  }, options);
}

async function notFound(s3: S3Client, key: string): Promise<void> {
  await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: 'private', Key: key })), (err: Error) => err.name === 'NotFound');
}

test('a pre-signed PUT with an unsigned x-amz-copy-source header is refused (HeadersNotSigned) and copies nothing', () =>
  withBuckets(async (cloud, s3, presigner) => {
    const url = await getSignedUrl(presigner, new PutObjectCommand({ Bucket: 'private', Key: 'upload/mine' }), { expiresIn: 300 });
    const copy = await fetch(url, { method: 'PUT', headers: { 'x-amz-copy-source': 'private/secret', 'x-amz-meta-extra': '1' }, body: '' });
    assert.equal(copy.status, 403);
    const text = await copy.text();
    assert.match(text, /<Code>AccessDenied<\/Code>/);
    assert.match(text, /<Message>There were headers present in the request which were not signed<\/Message>/);
    assert.match(text, /<HeadersNotSigned>x-amz-copy-source, x-amz-meta-extra<\/HeadersNotSigned>/);
    await notFound(s3, 'upload/mine');
    // The URL still does what it was signed for.
    assert.equal((await fetch(url, { method: 'PUT', body: 'mine' })).status, 200);
    // A header-signed request may not carry unsigned x-amz-* headers either; JSON services say so in JSON.
    const added = await signedFetch(cloud, { service: 'probe', method: 'POST', path: '/echo', body: 'x', unsignedHeaders: { 'x-amz-target': 'Other.Action' } });
    assert.equal(added.status, 403);
    assert.equal(added.headers.get('x-amzn-errortype'), 'InvalidSignatureException');
    assert.match(await added.text(), /not signed: x-amz-target/);
  }));

test('pre-signed URLs are valid from X-Amz-Date (less the 15-minute skew) for at most 7 days, by cloud time', () => {
  const clock = new ManualClock();
  return withBuckets(
    async (_cloud, _s3, presigner) => {
      const getUrl = (signedAt: number, expiresIn = 300) =>
        getSignedUrl(presigner, new GetObjectCommand({ Bucket: 'private', Key: 'secret' }), { expiresIn, signingDate: new Date(signedAt) });
      // Dated a day ahead: without the check such a URL would outlive any expiry.
      const future = await fetch(await getUrl(clock.now() + 24 * 3600_000));
      assert.equal(future.status, 403);
      const text = await future.text();
      assert.match(text, /<Code>AccessDenied<\/Code><Message>Request is not yet valid<\/Message>/);
      assert.match(text, /<ServerTime>/);
      // A client clock a few minutes ahead is within the skew AWS allows.
      const ahead = await getUrl(clock.now() + 5 * 60_000);
      assert.equal(await (await fetch(ahead)).text(), SECRET);
      // Seven days is the longest lifetime; one second more is refused whatever the signature.
      const week = await getUrl(clock.now(), 604800);
      assert.equal((await fetch(week)).status, 200);
      const tooLong = await fetch(week.replace('X-Amz-Expires=604800', 'X-Amz-Expires=604801'));
      assert.equal(tooLong.status, 400);
      assert.match(await tooLong.text(), /<Code>AuthorizationQueryParametersError<\/Code><Message>X-Amz-Expires must be less than a week/);
      await clock.advance(604800_000 + 1000);
      const expired = await fetch(week);
      assert.equal(expired.status, 403);
      assert.match(await expired.text(), /Request has expired/);
    },
    { clock },
  );
});

test('UNSIGNED-PAYLOAD and unsigned streaming bodies are refused for the JSON services, before the body is read', () =>
  withCloud(async (cloud) => {
    for (const declared of ['UNSIGNED-PAYLOAD', 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD']) {
      const res = await signedFetch(cloud, { service: 'probe', method: 'POST', path: '/echo', body: '{"a":1}', headers: { 'x-amz-content-sha256': declared } });
      assert.equal(res.status, 403, declared);
      assert.equal(res.headers.get('x-amzn-errortype'), 'InvalidSignatureException');
      assert.match(await res.text(), /accepted only by S3/);
    }
    // The same service with its body signed (the SDK's way) is served.
    const signedBody = await signedFetch(cloud, { service: 'probe', method: 'POST', path: '/echo', body: '{"a":1}' });
    assert.equal(await signedBody.text(), '{"a":1}');
    // S3 still takes UNSIGNED-PAYLOAD, as AWS.
    const s3 = await signedFetch(cloud, { service: 's3', method: 'PUT', path: '/unsigned-ok', headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
    assert.equal(s3.status, 200);
  }));

/** Send a request line, headers and the first part of a body on a raw socket; resolves with the answer, and how much was sent. */
function sendPartially(cloud: LocalCloud, head: string, firstPart: Buffer): Promise<{ answer: string; sentBytes: number }> {
  const url = new URL(cloud.endpoints.http);
  return new Promise((resolve, reject) => {
    let answer = '';
    const socket: Socket = connect(Number(url.port), url.hostname, () => socket.write(head + '\r\n\r\n', () => socket.write(firstPart)));
    socket.on('data', (d: Buffer) => {
      answer += d.toString('latin1');
      const headEnd = answer.indexOf('\r\n\r\n');
      const length = Number(/content-length: (\d+)/i.exec(answer)?.[1] ?? NaN);
      if (headEnd >= 0 && answer.length >= headEnd + 4 + length) {
        // Everything sent so far left the socket: the answer came while the body was still owed.
        resolve({ answer, sentBytes: socket.bytesWritten - Buffer.byteLength(head) - 4 });
        socket.destroy();
      }
    });
    socket.on('error', reject);
  });
}

/** Request line and headers signed with the SDK signer, with the signature then spoiled. */
async function spoiledHead(cloud: LocalCloud, service: string, method: string, path: string, headers: Record<string, string>, credentials = cloud.credentials): Promise<string> {
  return signedHead(cloud, service, method, path, headers, credentials, true);
}

/** Request line and headers signed with the SDK signer (signature spoiled when asked). */
async function signedHead(cloud: LocalCloud, service: string, method: string, path: string, headers: Record<string, string>, credentials = cloud.credentials, spoil = false): Promise<string> {
  const url = new URL(cloud.endpoints.http);
  const signed = await sdkSigner(credentials, cloud.region, service).sign(
    { method, protocol: 'http:', hostname: url.hostname, port: Number(url.port), path, query: {}, headers: { host: url.host, ...headers } },
    { signingDate: new Date() },
  );
  const h = signed.headers as Record<string, string>;
  if (spoil) h.authorization = h.authorization.replace(/Signature=(.)/, (_m, c: string) => `Signature=${c === '0' ? '1' : '0'}`);
  return [`${method} ${path} HTTP/1.1`, ...Object.entries(h).map(([k, v]) => `${k}: ${v}`)].join('\r\n');
}

test('a wrongly signed or unknown-key request with a large body is refused before its body is read', { timeout: 60_000 }, () =>
  withCloud(async (cloud) => {
    const declared = 32 * 1024 * 1024;
    const first = Buffer.alloc(64 * 1024, 1);
    // S3 declares its payload hash, so the signature is checked from the headers.
    const s3Head = await spoiledHead(cloud, 's3', 'PUT', '/bucket-x/big.bin', { 'content-length': String(declared), 'x-amz-content-sha256': 'a'.repeat(64) });
    const s3 = await sendPartially(cloud, s3Head, first);
    assert.match(s3.answer, /^HTTP\/1\.1 403/);
    assert.match(s3.answer, /<Code>SignatureDoesNotMatch<\/Code>/);
    assert.ok(s3.sentBytes < declared, `answered after ${s3.sentBytes} of ${declared} body bytes`);
    // A JSON service hashes its body itself: a stranger's key is refused from the headers...
    const strangerHead = await spoiledHead(cloud, 'probe', 'POST', '/echo', { 'content-length': String(512 * 1024) }, { accessKeyId: 'AKIASTRANGER', secretAccessKey: 'x' });
    const stranger = await sendPartially(cloud, strangerHead, first);
    assert.match(stranger.answer, /^HTTP\/1\.1 403/);
    assert.match(stranger.answer, /UnrecognizedClientException/);
    // ...and more than the JSON APIs' 1 MiB is refused from Content-Length, whoever signed it.
    const bigJsonHead = await spoiledHead(cloud, 'probe', 'POST', '/echo', { 'content-length': String(declared) });
    const bigJson = await sendPartially(cloud, bigJsonHead, first);
    assert.match(bigJson.answer, /^HTTP\/1\.1 413/);
    assert.match(bigJson.answer, /RequestEntityTooLargeException/);
  }));

test('an aws-chunked upload with a forged chunk is refused at that chunk, before the rest is sent', { timeout: 60_000 }, () =>
  withCloud(async (cloud) => {
    const decoded = 16 * 1024 * 1024;
    const chunk = 64 * 1024;
    const chunks = decoded / chunk;
    const framing = chunks * (`${chunk.toString(16)};chunk-signature=`.length + 64 + 4) + '0;chunk-signature='.length + 64 + 4;
    const head = await signedHead(cloud, 's3', 'PUT', '/bucket-x/streamed.bin', {
      'content-encoding': 'aws-chunked',
      'content-length': String(decoded + framing),
      'x-amz-decoded-content-length': String(decoded),
      'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
    });
    // The seed signature is right (checked from the headers); the first chunk's signature is not.
    const forged = Buffer.concat([Buffer.from(`${chunk.toString(16)};chunk-signature=${'0'.repeat(64)}\r\n`), Buffer.alloc(chunk, 7), Buffer.from('\r\n')]);
    const { answer, sentBytes } = await sendPartially(cloud, head, forged);
    assert.match(answer, /^HTTP\/1\.1 403/);
    assert.match(answer, /<Code>SignatureDoesNotMatch<\/Code><Message>The chunk signature/);
    assert.ok(sentBytes < decoded, `answered after ${sentBytes} of ${decoded + framing} body bytes`);
  }));

test('a failure of the request handling itself is logged and the server keeps serving', () => {
  let calls = 0;
  return withCloud(
    async (cloud, logged) => {
      assert.equal((await signedFetch(cloud, { service: 'probe', method: 'POST', path: '/echo', body: 'one' })).status, 200);
      assert.equal(await (await signedFetch(cloud, { service: 'probe', method: 'POST', path: '/echo', body: 'two' })).text(), 'two');
      assert.equal(calls, 2);
      assert.equal(logged.filter((line) => /POST \/echo could not be answered: Error: request log is full/.test(line)).length, 2);
    },
    {
      onRequest: () => {
        calls++;
        throw new Error('request log is full');
      },
    },
  );
});
