/**
 * S3 REST operations (restXml, path-style `/{Bucket}/{Key+}`) as @aws-sdk/client-s3 calls them:
 * buckets (Create, Head, List, Delete, GetBucketLocation), objects (Put, Get with Range and conditions,
 * Head, Copy, Delete, DeleteObjects, ListObjects v1 and v2 with prefix, delimiter and continuation) and
 * multipart uploads (Create, UploadPart, Complete, Abort, ListParts, ListMultipartUploads).
 * ETags are as AWS computes them: md5 hex, or md5 of the parts' md5s with "-N" for multipart objects.
 */
import { createHash } from 'node:crypto';
import * as zlib from 'node:zlib';
import type { Clock, RestRoute, ServiceResponse, SignedRequest } from '../contracts';
import { AwsError } from '../http/errors';
import { escapeUri, safeDecode } from '../http/sigv4';
import { objectId, type ObjectHeaders, type ObjectRecord, type PartRecord, type S3Storage, type UploadRecord } from './object-store';
import { requireXmlRoot, s3Xml, S3_XMLNS, xmlElements, xmlText, xmlUnescape, type XmlNode } from './xml';
import { randomBytes } from 'node:crypto';

/** Smallest part AWS accepts for every part of a multipart upload but the last. */
export const MIN_PART_SIZE = 5 * 1024 * 1024;
const MAX_PART_NUMBER = 10000;
const OWNER = { ID: '75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a', DisplayName: 'local-cloud' };

export interface S3RouteOptions {
  storage: S3Storage;
  clock: Clock;
  region: string;
  /** Minimum size of every part but the last (default 5 MiB, as AWS). */
  minPartSize?: number;
}

const xml = (status: number, body: string, headers: Record<string, string> = {}): ServiceResponse => ({
  status,
  headers: { 'content-type': 'application/xml', ...headers },
  body,
});

function header(req: SignedRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const httpDate = (ms: number): string => new Date(ms).toUTCString();
const unquote = (etag: string): string => etag.trim().replace(/^"|"$/g, '');

/** AWS bucket naming rules (the subset that matters here). */
export function validateBucketName(name: string): void {
  const ok =
    /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) && !name.includes('..') && !/^\d+\.\d+\.\d+\.\d+$/.test(name) && !name.includes('.-') && !name.includes('-.');
  if (!ok) {
    throw new AwsError(
      'InvalidBucketName',
      `The specified bucket is not valid: "${name}" must be 3-63 characters of lower-case letters, digits, '.' and '-', starting and ending with a letter or digit.`,
      400,
      { BucketName: name },
    );
  }
}

function validateKey(key: string): void {
  if (Buffer.byteLength(key) > 1024) throw new AwsError('KeyTooLongError', 'Your key is too long: at most 1024 bytes of UTF-8.', 400);
}

/** Stored headers of a new object from the request (Content-Type, Content-*, Cache-Control, x-amz-meta-*). */
function objectHeadersFrom(req: SignedRequest): ObjectHeaders {
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
function objectResponseHeaders(o: ObjectRecord, query: URLSearchParams): Record<string, string> {
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
function verifyBodyDigests(req: SignedRequest, body: Buffer): string | undefined {
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

/** Base64 continuation token for a listing position. */
function encodeToken(last: string): string {
  return Buffer.from(last, 'utf8').toString('base64');
}

function decodeToken(token: string): string {
  const text = Buffer.from(token, 'base64').toString('utf8');
  if (token === '' || encodeToken(text) !== token) throw new AwsError('InvalidArgument', 'The continuation token provided is incorrect', 400, { ArgumentName: 'continuation-token' });
  return text;
}

interface Listing {
  contents: ObjectRecord[];
  prefixes: string[];
  truncated: boolean;
  last?: string;
}

/** The S3 listing walk: keys after a marker, rolled up into common prefixes by the delimiter. */
function listKeys(sorted: ObjectRecord[], prefix: string, delimiter: string, after: string | undefined, maxKeys: number): Listing {
  const out: Listing = { contents: [], prefixes: [], truncated: false };
  const afterBytes = after === undefined ? undefined : Buffer.from(after);
  const afterIsPrefix = after !== undefined && delimiter !== '' && after.endsWith(delimiter);
  let count = 0;
  for (const o of sorted) {
    if (afterBytes && Buffer.compare(Buffer.from(o.key), afterBytes) <= 0) continue;
    if (afterIsPrefix && o.key.startsWith(after as string)) continue;
    let entry: string = o.key;
    let isPrefix = false;
    if (delimiter !== '') {
      const i = o.key.indexOf(delimiter, prefix.length);
      if (i >= 0) {
        entry = o.key.slice(0, i + delimiter.length);
        isPrefix = true;
        if (out.prefixes[out.prefixes.length - 1] === entry) continue;
      }
    }
    if (count >= maxKeys) {
      out.truncated = true;
      break;
    }
    if (isPrefix) out.prefixes.push(entry);
    else out.contents.push(o);
    out.last = entry;
    count++;
  }
  return out;
}

function maxKeysOf(query: URLSearchParams, name = 'max-keys'): number {
  const raw = query.get(name);
  if (raw === null) return 1000;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new AwsError('InvalidArgument', `${name} must be a non-negative integer, got "${raw}"`, 400, { ArgumentName: name });
  return Math.min(n, 1000);
}

/** Every S3 route, bound to one storage. */
export function s3Routes(options: S3RouteOptions): RestRoute[] {
  const { storage, clock, region } = options;
  const minPartSize = options.minPartSize ?? MIN_PART_SIZE;

  const requireBucket = (name: string) => {
    const b = storage.buckets.get(name);
    if (!b) throw new AwsError('NoSuchBucket', 'The specified bucket does not exist', 404, { BucketName: name });
    return b;
  };
  const requireObject = (bucket: string, key: string) => {
    requireBucket(bucket);
    const o = storage.objects.get(objectId(bucket, key));
    if (!o) throw new AwsError('NoSuchKey', 'The specified key does not exist.', 404, { Key: key });
    return o;
  };
  const requireUpload = (bucket: string, key: string, uploadId: string | null) => {
    requireBucket(bucket);
    const u = uploadId ? storage.uploads.get(uploadId) : undefined;
    if (!u || u.bucket !== bucket || u.key !== key) {
      throw new AwsError('NoSuchUpload', 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.', 404, {
        UploadId: uploadId ?? '',
      });
    }
    return u;
  };

  /** Conditional request headers against an object: 304 or 412 as S3. */
  const checkConditions = (req: SignedRequest, o: ObjectRecord): ServiceResponse | undefined => {
    const ifMatch = header(req, 'if-match');
    const ifNoneMatch = header(req, 'if-none-match');
    const ifModifiedSince = header(req, 'if-modified-since');
    const ifUnmodifiedSince = header(req, 'if-unmodified-since');
    const lastModifiedSec = Math.floor(o.lastModified / 1000) * 1000;
    if (ifMatch !== undefined && ifMatch !== '*' && !ifMatch.split(',').map(unquote).includes(unquote(o.etag))) {
      throw new AwsError('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', 412, { Condition: 'If-Match' });
    }
    if (ifMatch === undefined && ifUnmodifiedSince !== undefined && lastModifiedSec > Date.parse(ifUnmodifiedSince)) {
      throw new AwsError('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', 412, { Condition: 'If-Unmodified-Since' });
    }
    const notModified = { status: 304, headers: { etag: o.etag, 'last-modified': httpDate(o.lastModified) } };
    if (ifNoneMatch !== undefined && (ifNoneMatch === '*' || ifNoneMatch.split(',').map(unquote).includes(unquote(o.etag)))) return notModified;
    if (ifNoneMatch === undefined && ifModifiedSince !== undefined && lastModifiedSec <= Date.parse(ifModifiedSince)) return notModified;
    return undefined;
  };

  /** Store a new version of an object and release the bytes of the one it replaces. */
  const commitObject = async (record: ObjectRecord): Promise<void> => {
    const id = objectId(record.bucket, record.key);
    const previous = storage.objects.get(id);
    storage.objects.put(id, record);
    if (previous && previous.file !== record.file) await storage.releaseFiles([previous.file]);
  };

  const getOrHead = async (req: SignedRequest, p: Record<string, string>): Promise<ServiceResponse> => {
    const o = requireObject(p.Bucket, p.Key);
    const conditional = checkConditions(req, o);
    if (conditional) return conditional;
    const headers = objectResponseHeaders(o, req.query);
    const range = parseRange(header(req, 'range'), o.size);
    if (range) {
      headers['content-range'] = `bytes ${range.start}-${range.end}/${o.size}`;
      headers['content-length'] = String(range.end - range.start + 1);
      return { status: 206, headers, body: req.method === 'HEAD' ? undefined : storage.readData(o.file, range) };
    }
    headers['content-length'] = String(o.size);
    if (o.checksumCrc32 && header(req, 'x-amz-checksum-mode') === 'ENABLED') {
      headers['x-amz-checksum-crc32'] = o.checksumCrc32;
      headers['x-amz-checksum-type'] = 'FULL_OBJECT';
    }
    if (req.method === 'HEAD' || o.size === 0) return { status: 200, headers, body: req.method === 'HEAD' ? undefined : Buffer.alloc(0) };
    return { status: 200, headers, body: storage.readData(o.file) };
  };

  const listObjects = (req: SignedRequest, p: Record<string, string>, v2: boolean): ServiceResponse => {
    requireBucket(p.Bucket);
    const q = req.query;
    const prefix = q.get('prefix') ?? '';
    const delimiter = q.get('delimiter') ?? '';
    const maxKeys = maxKeysOf(q);
    const urlEncode = q.get('encoding-type') === 'url';
    if (q.has('encoding-type') && !urlEncode) throw new AwsError('InvalidArgument', 'Invalid Encoding Method specified in Request', 400, { ArgumentName: 'encoding-type' });
    const enc = (s: string | undefined) => (s === undefined || !urlEncode ? s : escapeUri(s).replace(/%2F/g, '/'));
    const token = q.get('continuation-token');
    const startAfter = q.get('start-after') ?? undefined;
    const marker = q.get('marker') ?? undefined;
    let after = v2 ? startAfter : marker;
    if (v2 && token !== null) after = decodeToken(token);
    const listing = listKeys(storage.objectsOf(p.Bucket, prefix), prefix, delimiter, after === '' ? undefined : after, maxKeys);
    const contents = listing.contents.map((o) => ({
      Key: enc(o.key),
      LastModified: iso(o.lastModified),
      ETag: o.etag,
      Size: o.size,
      ...(!v2 || q.get('fetch-owner') === 'true' ? { Owner: OWNER } : {}),
      StorageClass: 'STANDARD',
    }));
    const common = listing.prefixes.map((cp) => ({ Prefix: enc(cp) }));
    const body: XmlNode = v2
      ? {
          Name: p.Bucket,
          Prefix: enc(prefix),
          Delimiter: delimiter ? enc(delimiter) : undefined,
          MaxKeys: maxKeys,
          KeyCount: contents.length + common.length,
          IsTruncated: listing.truncated,
          ContinuationToken: token ?? undefined,
          NextContinuationToken: listing.truncated && listing.last !== undefined ? encodeToken(listing.last) : undefined,
          StartAfter: enc(startAfter),
          EncodingType: urlEncode ? 'url' : undefined,
          Contents: contents,
          CommonPrefixes: common,
        }
      : {
          Name: p.Bucket,
          Prefix: enc(prefix),
          Marker: enc(marker ?? ''),
          Delimiter: delimiter ? enc(delimiter) : undefined,
          MaxKeys: maxKeys,
          IsTruncated: listing.truncated,
          NextMarker: listing.truncated && delimiter ? enc(listing.last) : undefined,
          EncodingType: urlEncode ? 'url' : undefined,
          Contents: contents,
          CommonPrefixes: common,
        };
    return xml(200, s3Xml('ListBucketResult', body));
  };

  const copyObject = async (req: SignedRequest, p: Record<string, string>, source: string): Promise<ServiceResponse> => {
    const decoded = safeDecode(source.split('?')[0]).replace(/^\//, '');
    const slash = decoded.indexOf('/');
    if (slash <= 0 || slash === decoded.length - 1) {
      throw new AwsError('InvalidArgument', `x-amz-copy-source must be "<bucket>/<key>", got "${source}"`, 400, { ArgumentName: 'x-amz-copy-source' });
    }
    const src = requireObject(decoded.slice(0, slash), decoded.slice(slash + 1));
    const directive = header(req, 'x-amz-metadata-directive') ?? 'COPY';
    if (directive !== 'COPY' && directive !== 'REPLACE') throw new AwsError('InvalidArgument', `Unknown metadata directive "${directive}"`, 400);
    const sameObject = src.bucket === p.Bucket && src.key === p.Key;
    if (sameObject && directive === 'COPY') {
      throw new AwsError('InvalidRequest', 'This copy request is illegal because it is trying to copy an object to itself without changing the object\'s metadata.', 400);
    }
    const written = await storage.writeData(storage.readData(src.file) as AsyncIterable<Buffer>);
    const headers: ObjectHeaders = directive === 'REPLACE' ? objectHeadersFrom(req) : { ...src, metadata: { ...src.metadata } };
    const record: ObjectRecord = {
      contentType: headers.contentType,
      contentEncoding: headers.contentEncoding,
      contentDisposition: headers.contentDisposition,
      contentLanguage: headers.contentLanguage,
      cacheControl: headers.cacheControl,
      expires: headers.expires,
      metadata: headers.metadata,
      bucket: p.Bucket,
      key: p.Key,
      size: written.size,
      etag: src.etag,
      lastModified: clock.now(),
      file: written.file,
      checksumCrc32: src.checksumCrc32,
    };
    await commitObject(record);
    return xml(200, s3Xml('CopyObjectResult', { LastModified: iso(record.lastModified), ETag: record.etag }));
  };

  return [
    {
      method: 'GET',
      path: '/',
      action: 'ListBuckets',
      handler: async () => {
        const buckets = storage.buckets.values().sort((a, b) => (a.name < b.name ? -1 : 1));
        return xml(
          200,
          s3Xml('ListAllMyBucketsResult', {
            Owner: OWNER,
            Buckets: { Bucket: buckets.map((b) => ({ Name: b.name, CreationDate: iso(b.createdAt), BucketRegion: b.region })) },
          }),
        );
      },
    },
    {
      method: 'PUT',
      path: '/{Bucket}',
      action: 'CreateBucket',
      handler: async (req, p) => {
        validateBucketName(p.Bucket);
        let location = region;
        if (req.body.length > 0) {
          const doc = requireXmlRoot(req.body, 'CreateBucketConfiguration');
          location = xmlText(doc, 'LocationConstraint') || 'us-east-1';
        }
        if (location !== region) {
          throw new AwsError('IllegalLocationConstraintException', `The ${location} location constraint is incompatible for the region specific endpoint this request was sent to (${region}).`, 400);
        }
        if (storage.buckets.get(p.Bucket)) {
          // As AWS: us-east-1 answers 200 to re-creating your own bucket, other regions 409.
          if (region === 'us-east-1') return { status: 200, headers: { location: `/${p.Bucket}` } };
          throw new AwsError('BucketAlreadyOwnedByYou', 'Your previous request to create the named bucket succeeded and you already own it.', 409, { BucketName: p.Bucket });
        }
        storage.buckets.put(p.Bucket, { name: p.Bucket, createdAt: clock.now(), region });
        return { status: 200, headers: { location: `/${p.Bucket}` } };
      },
    },
    {
      method: 'HEAD',
      path: '/{Bucket}',
      action: 'HeadBucket',
      handler: async (_req, p) => {
        const b = requireBucket(p.Bucket);
        return { status: 200, headers: { 'x-amz-bucket-region': b.region } };
      },
    },
    {
      method: 'DELETE',
      path: '/{Bucket}',
      action: 'DeleteBucket',
      handler: async (_req, p) => {
        requireBucket(p.Bucket);
        if (storage.bucketInUse(p.Bucket)) throw new AwsError('BucketNotEmpty', 'The bucket you tried to delete is not empty', 409, { BucketName: p.Bucket });
        storage.buckets.delete(p.Bucket);
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      path: '/{Bucket}?location',
      action: 'GetBucketLocation',
      handler: async (_req, p) => {
        const b = requireBucket(p.Bucket);
        const constraint = b.region === 'us-east-1' ? '' : b.region;
        return xml(200, `<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="${S3_XMLNS}">${constraint}</LocationConstraint>`);
      },
    },
    { method: 'GET', path: '/{Bucket}?list-type=2', action: 'ListObjectsV2', handler: async (req, p) => listObjects(req, p, true) },
    { method: 'GET', path: '/{Bucket}', action: 'ListObjects', handler: async (req, p) => listObjects(req, p, false) },
    {
      method: 'GET',
      path: '/{Bucket}?uploads',
      action: 'ListMultipartUploads',
      handler: async (req, p) => {
        requireBucket(p.Bucket);
        const prefix = req.query.get('prefix') ?? '';
        const uploads = storage.uploads
          .values()
          .filter((u) => u.bucket === p.Bucket && u.key.startsWith(prefix))
          .sort((a, b) => (a.key === b.key ? a.initiated - b.initiated : a.key < b.key ? -1 : 1));
        return xml(
          200,
          s3Xml('ListMultipartUploadsResult', {
            Bucket: p.Bucket,
            KeyMarker: '',
            UploadIdMarker: '',
            Prefix: prefix,
            MaxUploads: 1000,
            IsTruncated: false,
            Upload: uploads.map((u) => ({ Key: u.key, UploadId: u.uploadId, Initiator: OWNER, Owner: OWNER, StorageClass: 'STANDARD', Initiated: iso(u.initiated) })),
          }),
        );
      },
    },
    {
      method: 'POST',
      path: '/{Bucket}?delete',
      action: 'DeleteObjects',
      handler: async (req, p) => {
        requireBucket(p.Bucket);
        verifyBodyDigests(req, req.body);
        const doc = requireXmlRoot(req.body, 'Delete');
        const objects = xmlElements(doc, 'Object');
        if (objects.length === 0 || objects.length > 1000) {
          throw new AwsError('MalformedXML', `A Delete request lists 1 to 1000 <Object> elements, got ${objects.length}.`, 400);
        }
        const quiet = xmlText(doc, 'Quiet') === 'true';
        const deleted: XmlNode[] = [];
        const released: string[] = [];
        for (const o of objects) {
          const key = xmlText(o, 'Key');
          if (key === undefined) throw new AwsError('MalformedXML', 'Every <Object> of a Delete request needs a <Key>.', 400);
          const record = storage.objects.get(objectId(p.Bucket, key));
          if (record) {
            storage.objects.delete(objectId(p.Bucket, key));
            released.push(record.file);
          }
          deleted.push({ Key: key });
        }
        await storage.releaseFiles(released);
        return xml(200, s3Xml('DeleteResult', { Deleted: quiet ? [] : deleted }));
      },
    },
    {
      method: 'PUT',
      path: '/{Bucket}/{Key+}',
      action: 'PutObject',
      handler: async (req, p) => {
        requireBucket(p.Bucket);
        validateKey(p.Key);
        const copySource = header(req, 'x-amz-copy-source');
        if (copySource !== undefined) return copyObject(req, p, copySource);
        const checksumCrc32 = verifyBodyDigests(req, req.body);
        if (header(req, 'if-none-match') === '*' && storage.objects.get(objectId(p.Bucket, p.Key))) {
          throw new AwsError('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', 412, { Condition: 'If-None-Match' });
        }
        const written = await storage.writeData(req.body);
        const etag = `"${written.md5}"`;
        await commitObject({ ...objectHeadersFrom(req), bucket: p.Bucket, key: p.Key, size: written.size, etag, lastModified: clock.now(), file: written.file, checksumCrc32 });
        return { status: 200, headers: { etag } };
      },
    },
    { method: 'GET', path: '/{Bucket}/{Key+}', action: 'GetObject', handler: getOrHead },
    { method: 'HEAD', path: '/{Bucket}/{Key+}', action: 'HeadObject', handler: getOrHead },
    {
      method: 'DELETE',
      path: '/{Bucket}/{Key+}',
      action: 'DeleteObject',
      handler: async (_req, p) => {
        requireBucket(p.Bucket);
        const record = storage.objects.get(objectId(p.Bucket, p.Key));
        if (record) {
          storage.objects.delete(objectId(p.Bucket, p.Key));
          await storage.releaseFiles([record.file]);
        }
        return { status: 204 };
      },
    },
    {
      method: 'POST',
      path: '/{Bucket}/{Key+}?uploads',
      action: 'CreateMultipartUpload',
      handler: async (req, p) => {
        requireBucket(p.Bucket);
        validateKey(p.Key);
        const uploadId = randomBytes(24).toString('base64url');
        const upload: UploadRecord = { ...objectHeadersFrom(req), uploadId, bucket: p.Bucket, key: p.Key, initiated: clock.now(), parts: {} };
        storage.uploads.put(uploadId, upload);
        return xml(200, s3Xml('InitiateMultipartUploadResult', { Bucket: p.Bucket, Key: p.Key, UploadId: uploadId }));
      },
    },
    {
      method: 'PUT',
      path: '/{Bucket}/{Key+}?partNumber&uploadId',
      action: 'UploadPart',
      handler: async (req, p) => {
        const upload = requireUpload(p.Bucket, p.Key, req.query.get('uploadId'));
        const partNumber = Number(req.query.get('partNumber'));
        if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PART_NUMBER) {
          throw new AwsError('InvalidArgument', `Part number must be an integer between 1 and ${MAX_PART_NUMBER}, inclusive`, 400, { ArgumentName: 'partNumber' });
        }
        if (header(req, 'x-amz-copy-source') !== undefined) throw new AwsError('NotImplemented', 'UploadPartCopy is not supported by the local cloud.', 501);
        verifyBodyDigests(req, req.body);
        const written = await storage.writeData(req.body);
        const part: PartRecord = { partNumber, etag: `"${written.md5}"`, size: written.size, lastModified: clock.now(), file: written.file };
        // The upload may have been completed or aborted while the part was written.
        const current = storage.uploads.get(upload.uploadId);
        if (!current) {
          await storage.releaseFiles([written.file]);
          throw new AwsError('NoSuchUpload', 'The specified upload does not exist.', 404, { UploadId: upload.uploadId });
        }
        const replaced = current.parts[String(partNumber)];
        current.parts[String(partNumber)] = part;
        storage.uploads.put(current.uploadId, current);
        if (replaced) await storage.releaseFiles([replaced.file]);
        return { status: 200, headers: { etag: part.etag } };
      },
    },
    {
      method: 'POST',
      path: '/{Bucket}/{Key+}?uploadId',
      action: 'CompleteMultipartUpload',
      handler: async (req, p) => {
        const upload = requireUpload(p.Bucket, p.Key, req.query.get('uploadId'));
        const doc = requireXmlRoot(req.body, 'CompleteMultipartUpload');
        const listed = xmlElements(doc, 'Part').map((x) => ({ partNumber: Number(xmlText(x, 'PartNumber')), etag: unquote(xmlUnescape(xmlText(x, 'ETag') ?? '')) }));
        if (listed.length === 0) throw new AwsError('MalformedXML', 'The XML you provided was not well-formed: CompleteMultipartUpload lists no <Part>.', 400);
        const parts: PartRecord[] = [];
        listed.forEach((l, i) => {
          if (i > 0 && l.partNumber <= listed[i - 1].partNumber) {
            throw new AwsError('InvalidPartOrder', 'The list of parts was not in ascending order. Parts must be ordered by part number.', 400, { UploadId: upload.uploadId });
          }
          const part = upload.parts[String(l.partNumber)];
          if (!part || unquote(part.etag) !== l.etag) {
            throw new AwsError('InvalidPart', `One or more of the specified parts could not be found (part ${l.partNumber}). The part might not have been uploaded, or the specified entity tag might not have matched the part's entity tag.`, 400, {
              UploadId: upload.uploadId,
              PartNumber: l.partNumber,
            });
          }
          parts.push(part);
        });
        parts.forEach((part, i) => {
          if (i < parts.length - 1 && part.size < minPartSize) {
            throw new AwsError('EntityTooSmall', `Your proposed upload is smaller than the minimum allowed size: part ${part.partNumber} has ${part.size} bytes, every part but the last needs ${minPartSize}.`, 400, {
              PartNumber: part.partNumber,
              ProposedSize: part.size,
              MinSizeAllowed: minPartSize,
            });
          }
        });
        async function* concatenated(): AsyncIterable<Buffer> {
          for (const part of parts) for await (const chunk of storage.readData(part.file)) yield chunk as Buffer;
        }
        const written = await storage.writeData(concatenated());
        const md5s = Buffer.concat(parts.map((part) => Buffer.from(unquote(part.etag), 'hex')));
        const etag = `"${createHash('md5').update(md5s).digest('hex')}-${parts.length}"`;
        const { uploadId: _id, bucket: _b, key: _k, initiated: _i, parts: allParts, ...headers } = upload;
        storage.uploads.delete(upload.uploadId);
        await commitObject({ ...headers, bucket: p.Bucket, key: p.Key, size: written.size, etag, lastModified: clock.now(), file: written.file });
        await storage.releaseFiles(Object.values(allParts).map((part) => part.file));
        return xml(
          200,
          s3Xml('CompleteMultipartUploadResult', {
            Location: `/${p.Bucket}/${escapeUri(p.Key).replace(/%2F/g, '/')}`,
            Bucket: p.Bucket,
            Key: p.Key,
            ETag: etag,
          }),
        );
      },
    },
    {
      method: 'DELETE',
      path: '/{Bucket}/{Key+}?uploadId',
      action: 'AbortMultipartUpload',
      handler: async (req, p) => {
        const upload = requireUpload(p.Bucket, p.Key, req.query.get('uploadId'));
        storage.uploads.delete(upload.uploadId);
        await storage.releaseFiles(Object.values(upload.parts).map((part) => part.file));
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      path: '/{Bucket}/{Key+}?uploadId',
      action: 'ListParts',
      handler: async (req, p) => {
        const upload = requireUpload(p.Bucket, p.Key, req.query.get('uploadId'));
        const maxParts = maxKeysOf(req.query, 'max-parts');
        const marker = Number(req.query.get('part-number-marker') ?? 0);
        const all = Object.values(upload.parts)
          .filter((part) => part.partNumber > marker)
          .sort((a, b) => a.partNumber - b.partNumber);
        const shown = all.slice(0, maxParts);
        const truncated = all.length > shown.length;
        return xml(
          200,
          s3Xml('ListPartsResult', {
            Bucket: p.Bucket,
            Key: p.Key,
            UploadId: upload.uploadId,
            Initiator: OWNER,
            Owner: OWNER,
            StorageClass: 'STANDARD',
            PartNumberMarker: marker,
            NextPartNumberMarker: shown.length ? shown[shown.length - 1].partNumber : marker,
            MaxParts: maxParts,
            IsTruncated: truncated,
            Part: shown.map((part) => ({ PartNumber: part.partNumber, LastModified: iso(part.lastModified), ETag: part.etag, Size: part.size })),
          }),
        );
      },
    },
  ];
}
