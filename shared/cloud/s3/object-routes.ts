/**
 * S3 object operations: PutObject (and CopyObject, a PUT with x-amz-copy-source), GetObject with Range
 * and conditions, HeadObject, DeleteObject and DeleteObjects.
 * ETags are as AWS computes them: the md5 hex of the body.
 */
import type { RestRoute, ServiceResponse, SignedRequest } from '../contracts';
import { AwsError } from '../http/errors';
import { safeDecode } from '../http/sigv4';
import { checkConditions, objectHeadersFrom, objectResponseHeaders, parseRange, verifyBodyDigests } from './object-headers';
import { objectId, type ObjectHeaders, type ObjectRecord } from './object-store';
import { iso, preconditionFailed, requestHeader as header, validateKey, xmlResponse as xml, type S3RouteContext } from './route-context';
import { readXmlDocument, s3Xml, xmlChildElements, xmlChildText, type XmlNode } from './xml';

/** Most keys one DeleteObjects request may list, as S3. */
export const MAX_DELETE_KEYS = 1000;

/** The object routes. */
export function objectRoutes(ctx: S3RouteContext): RestRoute[] {
  const { storage, clock, requireBucket, requireObject, commitObject } = ctx;

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
      method: 'POST',
      path: '/{Bucket}?delete',
      action: 'DeleteObjects',
      handler: async (req, p) => {
        requireBucket(p.Bucket);
        verifyBodyDigests(req, req.body);
        const doc = readXmlDocument(req.body, 'Delete', ['Object']);
        const objects = xmlChildElements(doc, 'Object');
        if (objects.length === 0 || objects.length > MAX_DELETE_KEYS) {
          throw new AwsError('MalformedXML', `A Delete request lists 1 to ${MAX_DELETE_KEYS} <Object> elements, got ${objects.length}.`, 400);
        }
        const quiet = xmlChildText(doc, 'Quiet') === 'true';
        // Every key is read before any is deleted, so a bad entry leaves the bucket as it was.
        const keys = objects.map((o) => {
          const key = xmlChildText(o, 'Key');
          if (key === undefined) throw new AwsError('MalformedXML', 'Every <Object> of a Delete request needs a <Key>.', 400);
          return key;
        });
        const deleted: XmlNode[] = [];
        const released: string[] = [];
        for (const key of keys) {
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
        // If-None-Match: * is checked early (no bytes written for a key that exists) and again, atomically, at commit.
        const ifAbsent = header(req, 'if-none-match') === '*';
        if (ifAbsent && storage.objects.get(objectId(p.Bucket, p.Key))) throw preconditionFailed('If-None-Match');
        const written = await storage.writeData(req.body);
        const etag = `"${written.md5}"`;
        await commitObject({ ...objectHeadersFrom(req), bucket: p.Bucket, key: p.Key, size: written.size, etag, lastModified: clock.now(), file: written.file, checksumCrc32 }, { ifAbsent });
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
  ];
}
