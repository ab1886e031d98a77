/**
 * What every S3 route family shares: the storage and clock they act on, lookups that answer S3's
 * NoSuch* errors, the commit of a new object version, and small response helpers.
 */
import type { Clock, ServiceResponse, SignedRequest } from '../contracts';
import { AwsError } from '../http/errors';
import { objectId, type BucketRecord, type ObjectRecord, type S3Storage, type UploadRecord } from './object-store';

/** Smallest part AWS accepts for every part of a multipart upload but the last. */
export const MIN_PART_SIZE = 5 * 1024 * 1024;
/** Owner shown in listings (there is one account). */
export const OWNER = { ID: '75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a', DisplayName: 'local-cloud' };

export interface S3RouteOptions {
  storage: S3Storage;
  clock: Clock;
  region: string;
  /** Minimum size of every part but the last (default 5 MiB, as AWS). */
  minPartSize?: number;
}

/** The storage, clock and lookups the route families are built on. */
export interface S3RouteContext {
  storage: S3Storage;
  clock: Clock;
  region: string;
  minPartSize: number;
  /** The bucket, or NoSuchBucket. */
  requireBucket(name: string): BucketRecord;
  /** The object (its bucket must exist), or NoSuchKey. */
  requireObject(bucket: string, key: string): ObjectRecord;
  /** The multipart upload of bucket/key with that id, or NoSuchUpload. */
  requireUpload(bucket: string, key: string, uploadId: string | null): UploadRecord;
  /**
   * Store a new version of an object and release the bytes of the one it replaces. With ifAbsent
   * (If-None-Match: *) the key is checked in the same synchronous step that stores the record, so of two
   * concurrent conditional writes exactly one wins; the loser's bytes are removed and it gets 412.
   */
  commitObject(record: ObjectRecord, options?: { ifAbsent?: boolean }): Promise<void>;
}

/** The route context over one storage. */
export function createRouteContext(options: S3RouteOptions): S3RouteContext {
  const { storage } = options;
  const requireBucket = (name: string): BucketRecord => {
    const b = storage.buckets.get(name);
    if (!b) throw new AwsError('NoSuchBucket', 'The specified bucket does not exist', 404, { BucketName: name });
    return b;
  };
  return {
    storage,
    clock: options.clock,
    region: options.region,
    minPartSize: options.minPartSize ?? MIN_PART_SIZE,
    requireBucket,
    requireObject(bucket, key) {
      requireBucket(bucket);
      const o = storage.objects.get(objectId(bucket, key));
      if (!o) throw new AwsError('NoSuchKey', 'The specified key does not exist.', 404, { Key: key });
      return o;
    },
    requireUpload(bucket, key, uploadId) {
      requireBucket(bucket);
      const u = uploadId ? storage.uploads.get(uploadId) : undefined;
      if (!u || u.bucket !== bucket || u.key !== key) {
        throw new AwsError('NoSuchUpload', 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.', 404, {
          UploadId: uploadId ?? '',
        });
      }
      return u;
    },
    async commitObject(record, commitOptions = {}) {
      const id = objectId(record.bucket, record.key);
      const previous = storage.objects.get(id);
      if (previous && commitOptions.ifAbsent) {
        await storage.removeUnreferenced(record.file);
        throw preconditionFailed('If-None-Match');
      }
      storage.objects.put(id, record);
      if (previous && previous.file !== record.file) await storage.releaseFiles([previous.file]);
    },
  };
}

/** 412 PreconditionFailed naming the condition that did not hold. */
export function preconditionFailed(condition: string): AwsError {
  return new AwsError('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', 412, { Condition: condition });
}

/** An XML response. */
export const xmlResponse = (status: number, body: string, headers: Record<string, string> = {}): ServiceResponse => ({
  status,
  headers: { 'content-type': 'application/xml', ...headers },
  body,
});

/** A request header's value (repeated headers joined with ','). */
export function requestHeader(req: SignedRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/** ISO-8601 time as S3 writes it in XML. */
export const iso = (ms: number): string => new Date(ms).toISOString();
/** HTTP date as S3 writes it in headers. */
export const httpDate = (ms: number): string => new Date(ms).toUTCString();
/** An ETag without its quotes. */
export const unquote = (etag: string): string => etag.trim().replace(/^"|"$/g, '');

/** Refuse keys longer than S3 allows. */
export function validateKey(key: string): void {
  if (Buffer.byteLength(key) > 1024) throw new AwsError('KeyTooLongError', 'Your key is too long: at most 1024 bytes of UTF-8.', 400);
}

/** A max-keys / max-parts query value, at most 1000 as S3. */
export function maxKeysOf(query: URLSearchParams, name = 'max-keys'): number {
  const raw = query.get(name);
  if (raw === null) return 1000;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new AwsError('InvalidArgument', `${name} must be a non-negative integer, got "${raw}"`, 400, { ArgumentName: name });
  return Math.min(n, 1000);
}
