/**
 * The headers of S3 objects: what a PUT stores (Content-*, x-amz-meta-*), what a GET answers (with the
 * response-* overrides), body digests (Content-MD5, CRC32), Range and conditional requests.
 */
import { createHash } from 'node:crypto';
import * as zlib from 'node:zlib';
import type { ServiceResponse, SignedRequest } from '../contracts';
import { AwsError } from '../http/errors';
import type { ObjectHeaders, ObjectRecord } from './object-store';
import { httpDate, preconditionFailed, requestHeader as header, unquote } from './route-context';

/** Stored headers of a new object from the request (Content-Type, Content-*, Cache-Control, x-amz-meta-*). */
export function objectHeadersFrom(req: SignedRequest): ObjectHeaders {
  const metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (name.startsWith('x-amz-meta-') && value !== undefined) metadata[name.slice('x-amz-meta-'.length)] = Array.isArray(value) ? value.join(',') : value;
  }
  return {
    contentType: header(req, 'content-type') ?? 'binary/octet-stream',
    contentEncoding: header(req, 'content-encoding'),
    contentDisposition: header(req, 'content-disposition'),
    contentLanguage: header(req, 'content-language'),
    cacheControl: header(req, 'cache-control'),
    expires: header(req, 'expires'),
    metadata,
  };
}

/** Response headers of an object, with the response-* query overrides of GetObject. */
export function objectResponseHeaders(o: ObjectRecord, query: URLSearchParams): Record<string, string> {
  const h: Record<string, string> = {
    'content-type': query.get('response-content-type') ?? o.contentType,
    etag: o.etag,
    'last-modified': httpDate(o.lastModified),
    'accept-ranges': 'bytes',
  };
  const optional: [string, string | undefined, string][] = [
    ['content-encoding', o.contentEncoding, 'response-content-encoding'],
    ['content-disposition', o.contentDisposition, 'response-content-disposition'],
    ['content-language', o.contentLanguage, 'response-content-language'],
    ['cache-control', o.cacheControl, 'response-cache-control'],
    ['expires', o.expires, 'response-expires'],
  ];
  for (const [name, stored, override] of optional) {
    const v = query.get(override) ?? stored;
    if (v !== undefined && v !== null) h[name] = v;
  }
  for (const [k, v] of Object.entries(o.metadata)) h[`x-amz-meta-${k}`] = v;
  return h;
}

/**
 * Check Content-MD5 and x-amz-checksum-crc32 of a body when the client sent them; returns the verified
 * CRC32 (base64) to keep with the object, so GetObject can hand it back for the SDK to check.
 */
export function verifyBodyDigests(req: SignedRequest, body: Buffer): string | undefined {
  const md5 = header(req, 'content-md5');
  if (md5 !== undefined) {
    if (!/^[A-Za-z0-9+/]{22}==$/.test(md5)) throw new AwsError('InvalidDigest', 'The Content-MD5 you specified was invalid.', 400);
    if (createHash('md5').update(body).digest('base64') !== md5) throw new AwsError('BadDigest', 'The Content-MD5 you specified did not match what we received.', 400);
  }
  // Pre-signed URLs carry the checksum in the query; AWS checks it too (SDK >= 3.729 signs the CRC32 of
  // an empty body into PutObject URLs by default, which real S3 refuses for any non-empty upload).
  const crc = header(req, 'x-amz-checksum-crc32') ?? req.query.get('x-amz-checksum-crc32') ?? undefined;
  const crc32 = (zlib as unknown as { crc32?: (data: Buffer) => number }).crc32;
  if (crc === undefined || !crc32) return undefined;
  const actual = Buffer.alloc(4);
  actual.writeUInt32BE(crc32(body) >>> 0);
  if (actual.toString('base64') !== crc) {
    throw new AwsError('BadDigest', `The CRC32 you specified did not match the calculated checksum (got ${crc}, computed ${actual.toString('base64')}).`, 400);
  }
  return crc;
}

/** Parse a Range header against an object size: undefined = whole object. */
export function parseRange(value: string | undefined, size: number): { start: number; end: number } | undefined {
  if (!value) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(value.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined; // invalid or multi-range: AWS serves the whole object
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) throw invalidRange(size);
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== '' && Number(m[2]) < start) return undefined;
  }
  if (start >= size) throw invalidRange(size);
  return { start, end };
}

function invalidRange(size: number): AwsError {
  return new AwsError('InvalidRange', 'The requested range is not satisfiable', 416, { ActualObjectSize: size });
}

/** Conditional request headers against an object: a 304 answer, a 412 error, or undefined to go on. */
export function checkConditions(req: SignedRequest, o: ObjectRecord): ServiceResponse | undefined {
  const ifMatch = header(req, 'if-match');
  const ifNoneMatch = header(req, 'if-none-match');
  const ifModifiedSince = header(req, 'if-modified-since');
  const ifUnmodifiedSince = header(req, 'if-unmodified-since');
  const lastModifiedSec = Math.floor(o.lastModified / 1000) * 1000;
  if (ifMatch !== undefined && ifMatch !== '*' && !ifMatch.split(',').map(unquote).includes(unquote(o.etag))) {
    throw preconditionFailed('If-Match');
  }
  if (ifMatch === undefined && ifUnmodifiedSince !== undefined && lastModifiedSec > Date.parse(ifUnmodifiedSince)) {
    throw preconditionFailed('If-Unmodified-Since');
  }
  const notModified = { status: 304, headers: { etag: o.etag, 'last-modified': httpDate(o.lastModified) } };
  if (ifNoneMatch !== undefined && (ifNoneMatch === '*' || ifNoneMatch.split(',').map(unquote).includes(unquote(o.etag)))) return notModified;
  if (ifNoneMatch === undefined && ifModifiedSince !== undefined && lastModifiedSec <= Date.parse(ifModifiedSince)) return notModified;
  return undefined;
}
