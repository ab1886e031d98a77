import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { NodeSha256 } from './signing-testing';
import { canonicalPath, canonicalQuery, expectedSignature, parseSigV4, type RawRequest } from './sigv4';
import { decodeAwsChunked } from './aws-chunked';
import { parseQuery } from './server';

const creds = { accessKeyId: 'AKIATESTTESTTESTTEST', secretAccessKey: 'secret/with+chars' };
const signingDate = new Date('2026-01-02T03:04:05Z');

function signer(service: string, s3: boolean): SignatureV4 {
  return new SignatureV4({ credentials: creds, region: 'eu-west-1', service, sha256: NodeSha256, uriEscapePath: !s3, applyChecksum: s3 });
}

/** Turn a signed smithy request into what our server would see on the wire. */
function toRaw(req: { method: string; path: string; query?: Record<string, string | string[] | null>; headers: Record<string, string> }): { raw: RawRequest; query: URLSearchParams } {
  const pairs: string[] = [];
  for (const [k, v] of Object.entries(req.query ?? {})) {
    for (const value of Array.isArray(v) ? v : [v]) pairs.push(value === null ? encodeURIComponent(k) : `${encodeURIComponent(k)}=${encodeURIComponent(value)}`);
  }
  const rawQuery = pairs.join('&');
  const rawHeaders = Object.entries(req.headers).flat();
  return { raw: { method: req.method, rawPath: req.path, rawQuery, rawHeaders }, query: parseQuery(rawQuery) };
}

test('a restJson request signed by the SDK signer verifies, including a double-encoded path and a query', async () => {
  const request = {
    method: 'GET',
    protocol: 'http:',
    hostname: '127.0.0.1',
    port: 4566,
    path: '/things/thing%20one%24next/jobs',
    query: { maxResults: '10', nextToken: 'a b/c', status: ['QUEUED', 'IN_PROGRESS'] },
    headers: { host: '127.0.0.1:4566', 'content-type': 'application/json' },
  };
  const signed = (await signer('iot', false).sign(request, { signingDate })) as unknown as typeof request & { headers: Record<string, string> };
  const { raw, query } = toRaw(signed);
  const claim = parseSigV4(signed.headers.authorization, signed.headers['x-amz-date'], query);
  assert.ok(claim);
  assert.equal(claim.service, 'iot');
  assert.equal(claim.region, 'eu-west-1');
  const payloadHash = createHash('sha256').update('').digest('hex');
  assert.equal(expectedSignature(raw, claim, creds.secretAccessKey, payloadHash), claim.signature);
  assert.notEqual(expectedSignature(raw, claim, 'wrong secret', payloadHash), claim.signature);
  // Tampering with the path, a query value or a signed header changes the signature.
  assert.notEqual(expectedSignature({ ...raw, rawPath: '/things/other/jobs' }, claim, creds.secretAccessKey, payloadHash), claim.signature);
  assert.notEqual(expectedSignature({ ...raw, rawQuery: raw.rawQuery.replace('10', '11') }, claim, creds.secretAccessKey, payloadHash), claim.signature);
});

test('an S3 pre-signed URL from the SDK signer verifies with UNSIGNED-PAYLOAD', async () => {
  const request = {
    method: 'GET',
    protocol: 'http:',
    hostname: '127.0.0.1',
    port: 4566,
    path: '/bucket/dir/a%20key%2Bplus.txt',
    query: {},
    headers: { host: '127.0.0.1:4566', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
  };
  const presigned = (await signer('s3', true).presign(request, { signingDate, expiresIn: 60 })) as unknown as typeof request & {
    query: Record<string, string>;
  };
  const { raw, query } = toRaw({ ...presigned, headers: { host: '127.0.0.1:4566' } });
  const claim = parseSigV4(undefined, undefined, query);
  assert.ok(claim?.presigned);
  assert.equal(claim.expiresSeconds, 60);
  assert.equal(expectedSignature(raw, claim, creds.secretAccessKey, 'UNSIGNED-PAYLOAD'), claim.signature);
});

test('canonical path keeps S3 paths as sent and normalises and re-encodes other services', () => {
  assert.equal(canonicalPath('/b/a%20b/../c', 's3'), '/b/a%20b/../c');
  assert.equal(canonicalPath('/things/a%20b/../c/', 'iot'), '/things/c/');
  assert.equal(canonicalPath('/things/a%20b', 'iot'), '/things/a%2520b');
  assert.equal(canonicalQuery('b=2&a=1&a=0&uploads&X-Amz-Signature=x'), 'a=0&a=1&b=2&uploads=');
});

test('malformed credentials and query auth are refused with AWS codes', () => {
  assert.throws(() => parseSigV4('AWS4-HMAC-SHA256 Credential=AKID/2026/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=ab', '20260101T000000Z', new URLSearchParams()), {
    code: 'AuthorizationHeaderMalformed',
  });
  assert.throws(() => parseSigV4('AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/iot/aws4_request', '20260101T000000Z', new URLSearchParams()), {
    code: 'IncompleteSignatureException',
  });
  assert.throws(() => parseSigV4('AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/iot/aws4_request, SignedHeaders=host, Signature=ab', 'yesterday', new URLSearchParams()), {
    code: 'IncompleteSignatureException',
  });
  const q = new URLSearchParams({ 'X-Amz-Credential': 'AKID/20260101/us-east-1/s3/aws4_request', 'X-Amz-Algorithm': 'AWS4-HMAC-SHA256' });
  assert.throws(() => parseSigV4(undefined, undefined, q), { code: 'AuthorizationQueryParametersError' });
  assert.equal(parseSigV4(undefined, undefined, new URLSearchParams()), undefined);
});

test('aws-chunked bodies decode, with trailers, and signed chunks verify', () => {
  const body = Buffer.from('5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:abcd==\r\n\r\n');
  const decoded = decodeAwsChunked(body);
  assert.equal(decoded.payload.toString(), 'hello world');
  assert.deepEqual(decoded.trailers, { 'x-amz-checksum-crc32': 'abcd==' });
  assert.throws(() => decodeAwsChunked(Buffer.from('5\r\nhel')), { code: 'IncompleteBody' });
  assert.throws(() => decodeAwsChunked(Buffer.from('zz\r\n')), { code: 'IncompleteBody' });

  const key = Buffer.alloc(32, 7);
  const scope = '20260102/eu-west-1/s3/aws4_request';
  const amzDate = '20260102T030405Z';
  const empty = createHash('sha256').update('').digest('hex');
  let previous = 'seed';
  let wire = '';
  for (const chunk of ['abc', '']) {
    const sts = ['AWS4-HMAC-SHA256-PAYLOAD', amzDate, scope, previous, empty, createHash('sha256').update(chunk).digest('hex')].join('\n');
    const sig = createHmac('sha256', key).update(sts).digest('hex');
    wire += `${chunk.length.toString(16)};chunk-signature=${sig}\r\n${chunk}${chunk ? '\r\n' : ''}`;
    previous = sig;
  }
  wire += '\r\n';
  const signing = { seedSignature: 'seed', amzDate, scope, signingKey: key };
  assert.equal(decodeAwsChunked(Buffer.from(wire), signing).payload.toString(), 'abc');
  assert.throws(() => decodeAwsChunked(Buffer.from(wire.replace('abc', 'abd')), signing), { code: 'SignatureDoesNotMatch' });
});
